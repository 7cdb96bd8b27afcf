/**
 * The bench runs the example app (examples/orders/), which imports Warren as a package: `warren`, `warren/config`. In
 * this repository those resolve to the TypeScript sources only under the `warren-source` export condition (package.json
 * `exports`; `npm start` passes `--conditions=warren-source`), else to the built `dist/`, which may be missing or stale.
 *
 * Every process the bench starts that loads the example app gets `SOURCE_CONDITION_ARG` in its Node options (the
 * runner hands it on to its workers). A bench entry that loads it in its own process (the example's config, the CDK
 * synth) calls `useSourceCondition()` first, so `npx tsx bench/x.ts` works without the flag. Modules such an entry
 * imports statically must not reach the example app, since Node links them before any code runs: it is loaded with
 * `import()` or in a child.
 */
import { register } from 'node:module';

export const SOURCE_CONDITION = 'warren-source';
/** The Node option that gives a process the condition. */
export const SOURCE_CONDITION_ARG = `--conditions=${SOURCE_CONDITION}`;

/** Whether Node options (`--conditions=x`, `--conditions x`, `-C x`) name the source condition. */
export function namesSourceCondition(options: readonly string[]): boolean {
  return options.some((option, i) => option === SOURCE_CONDITION_ARG || ((option === '--conditions' || option === '-C') && options[i + 1] === SOURCE_CONDITION));
}

let registered = false;

/** Gives this process the `warren-source` condition for what it imports from now on, unless Node was started with it. */
export function useSourceCondition(): void {
  const nodeOptions = (process.env.NODE_OPTIONS ?? '').split(/\s+/).filter((o) => o !== '');
  if (registered || namesSourceCondition([...process.execArgv, ...nodeOptions])) return;
  registered = true;
  const condition = JSON.stringify(SOURCE_CONDITION);
  const hook = `export async function resolve(specifier, context, next) {
    return next(specifier, context.conditions.includes(${condition}) ? context : { ...context, conditions: [...context.conditions, ${condition}] });
  }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
}
