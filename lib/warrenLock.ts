/**
 * `warren.lock.json`: what `cdk synth` cannot know because the stack is lookup-free, kept in the repository beside
 * `warren.config.ts` and committed like `cdk.context.json` or `package-lock.json`.
 *
 * - `handlers`: the nested stack of each handler. An entry never moves: a handler stays in its nested stack (so its
 *   function, role, log group, dead-letter queue and triggers keep their template and logical ids) whatever is added,
 *   removed, renamed or reordered around it, and whatever `warren:handlersPerStack` says later. A new handler goes
 *   to the first nested stack with room (see `placeHandlers`).
 * - `createOnly`: the create-only properties of the broker, its configuration, the database instance and the proxy
 *   as last synthesized (CloudFormation registry schemas, `createOnlyProperties`). A change to one of them would make
 *   CloudFormation replace the resource, so synth refuses it (`ReplacementRefusedError`) and names the setting; their
 *   recorded values are also the defaults a later Warren version keeps (a new default engine version does not
 *   reach a deployed broker).
 *
 * Synth writes the file when it adds an entry (bin/warren.ts); in CI (`CI` set, or `-c warren:lock=locked`) a record
 * that lacks an entry fails synth instead, because a placement made on a CI runner and not committed would be made
 * again, perhaps differently, by the next synth.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ConfigError } from './errors.js';
import type { WarrenLock } from './warrenLockTypes.js';

export { LOCK_MODES, WARREN_LOCK_FILE, type LockMode, type LockedResource, type WarrenLock } from './warrenLockTypes.js';

const NOTE = 'Written by `cdk synth` (Warren). Commit it with warren.config.ts: it keeps each handler in its nested stack and refuses changes that would replace the broker, the database or the proxy. See docs/changing-a-deployed-app.md.';
const STACK_ID = /^Handlers[1-9]\d{0,3}$/;

/** An empty lock (a first synth, or a config passed in code without one). */
export function emptyLock(): WarrenLock {
  return { handlers: {}, createOnly: {} };
}

/** The whole file: one record per stack name (a development and a production stack from one repository). */
export interface WarrenLockFile {
  readonly stacks: Readonly<Record<string, WarrenLock>>;
}

/** Reads `file`; undefined when it does not exist. A malformed file fails with a message naming it. */
export function readLock(file: string): WarrenLockFile | undefined {
  if (!existsSync(file)) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(file, `expected JSON written by \`cdk synth\`; restore it from git (git checkout -- ${file})`, { cause: error });
  }
  const stacks = (body as { stacks?: unknown } | null)?.stacks ?? {};
  if (typeof stacks !== 'object' || stacks === null || Array.isArray(stacks)) throw new ConfigError(`${file} stacks`, 'expected an object of stack name -> { handlers, createOnly }');
  const out: Record<string, WarrenLock> = {};
  for (const [stackName, entry] of Object.entries(stacks as Record<string, unknown>)) {
    const { handlers = {}, createOnly = {} } = (entry ?? {}) as { handlers?: unknown; createOnly?: unknown };
    if (typeof handlers !== 'object' || handlers === null || Array.isArray(handlers)) throw new ConfigError(`${file} stacks.${stackName}.handlers`, 'expected an object of handler name -> "Handlers<n>"');
    for (const [name, stack] of Object.entries(handlers)) {
      if (typeof stack !== 'string' || !STACK_ID.test(stack)) throw new ConfigError(`${file} stacks.${stackName}.handlers.${name}`, `expected "Handlers<n>" (n from 1), received ${JSON.stringify(stack)}`);
    }
    if (typeof createOnly !== 'object' || createOnly === null || Array.isArray(createOnly)) throw new ConfigError(`${file} stacks.${stackName}.createOnly`, 'expected an object of resource -> create-only properties');
    out[stackName] = { handlers: handlers as Record<string, string>, createOnly: createOnly as WarrenLock['createOnly'] };
  }
  return { stacks: out };
}

/** The file's text: keys sorted, two-space indent, one handler a line (a small diff, few merge conflicts). */
export function formatLock(lock: WarrenLockFile): string {
  return `${JSON.stringify({ note: NOTE, stacks: sortKeys(lock.stacks) }, null, 2)}\n`;
}

/**
 * Writes `stackName`'s record into `file` (other stacks' records kept) when it differs from what the file holds.
 * Returns whether it wrote.
 */
export function saveLock(file: string, stackName: string, lock: WarrenLock): boolean {
  const current = readLock(file) ?? { stacks: {} };
  const next: WarrenLockFile = { stacks: { ...current.stacks, [stackName]: lock } };
  if (existsSync(file) && readFileSync(file, 'utf8') === formatLock(next)) return false;
  writeFileSync(file, formatLock(next));
  return true;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
}

/** Same JSON whatever the key order. */
export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

export interface PlacementOptions {
  /** New handlers fill a nested stack up to this many handlers. */
  readonly handlersPerStack: number;
  /** New handlers fill a nested stack up to this many estimated resources. */
  readonly resourceBudget: number;
  /** Estimated resources of one handler. */
  readonly cost: (handler: { readonly name: string; readonly concurrency: number }) => number;
}

/**
 * Handler name -> nested stack id. A handler the lock holds keeps its stack; a new one (in config order) goes to the
 * lowest-numbered stack that has fewer than `handlersPerStack` handlers and room for its resources, a new stack when
 * none has. Entries of handlers no longer in the config are dropped (their resources are deleted by the deploy), which
 * frees their room for a later handler. With an empty lock this is the config order cut into runs of
 * `handlersPerStack`, what Warren did before the lock existed, so an app deployed then keeps its placement.
 */
export function placeHandlers(handlers: readonly { readonly name: string; readonly concurrency: number }[], previous: Readonly<Record<string, string>>, options: PlacementOptions): Record<string, string> {
  const placed: Record<string, string> = {};
  const count = new Map<number, number>();
  const used = new Map<number, number>();
  const add = (n: number, h: { readonly name: string; readonly concurrency: number }) => {
    placed[h.name] = `Handlers${n}`;
    count.set(n, (count.get(n) ?? 0) + 1);
    used.set(n, (used.get(n) ?? 0) + options.cost(h));
  };
  for (const h of handlers) {
    const kept = previous[h.name];
    if (kept !== undefined) add(Number(kept.slice('Handlers'.length)), h);
  }
  for (const h of handlers) {
    if (placed[h.name] !== undefined) continue;
    let n = 1;
    while ((count.get(n) ?? 0) >= options.handlersPerStack || ((count.get(n) ?? 0) > 0 && (used.get(n) ?? 0) + options.cost(h) > options.resourceBudget)) n += 1;
    add(n, h);
  }
  return placed;
}
