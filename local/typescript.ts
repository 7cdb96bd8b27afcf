/**
 * How the runner loads a team's TypeScript (`warren.config.ts`, handlers, samples): through tsx, a dependency of
 * Warren, and only when something is TypeScript. From Warren's own sources (`npm start` in its repository) the process
 * already runs under tsx. The built CLI (`npx warren`, dist/local/cli.js) registers tsx in its own process when the
 * config or a handler module is TypeScript, and its workers load it only when a handler module is (workerChannel.ts):
 * a project of compiled JavaScript runs on plain Node.
 */
import type { HandlerTable } from './pool/protocol.js';

/** True when Warren itself runs as compiled JavaScript (the installed package's dist/), false from its sources. */
export const BUILT = import.meta.url.endsWith('.js');

/** True for a file Node cannot import without a TypeScript loader: `.ts`, `.mts`, `.cts`, `.tsx`. */
export function isTypeScript(file: string): boolean {
  return /\.[mc]?tsx?$/.test(file) && !/\.d\.[mc]?ts$/.test(file);
}

/** True when some handler module of `handlers` is TypeScript: its worker needs tsx. */
export function handlersNeedTypeScript(handlers: HandlerTable): boolean {
  return Object.values(handlers).some((h) => isTypeScript(h.entry));
}

let registered = !BUILT;

/**
 * Registers tsx in this process (once) when one of `files` is TypeScript and Warren runs built; a no-op otherwise.
 * Returns whether tsx is now loaded.
 */
export async function loadTypeScriptFor(files: readonly string[]): Promise<boolean> {
  if (registered || !files.some(isTypeScript)) return registered;
  const { register } = await import('tsx/esm/api');
  register();
  registered = true;
  return true;
}
