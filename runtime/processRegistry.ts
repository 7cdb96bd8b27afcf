/**
 * Process-wide state (the process's connections, publishers, dead-letter sinks, deferred marks, ...), each kept once
 * per process under its own name.
 *
 * Why `globalThis` and not a module-level variable: this module, and the modules that keep such state, can be loaded
 * more than once in one process. A handler's bundle carries its own copy of runtime/ beside the runner's; a handler
 * module reached through a second import path is a second module instance; vitest isolates modules per test file.
 * Each copy has its own module scope, so a module-level `const connections = new Map()` would give each copy its own
 * connections (two MySQL connections where the design has one per worker, marks one copy never flushes, a count the
 * operator views never see). A registered symbol (`Symbol.for`) is the same key in every copy, so every copy reaches
 * the same value on `globalThis`.
 *
 * The key of `name` is `Symbol.for('warren.<name>')`; tools that look inside a process (test/infra/fixtures/
 * invokeBundle.ts reads `warren.processConnections`) rely on it. Each registry picks one name; distinct names never
 * share a value.
 */

type Holder = Record<symbol, unknown>;

/** The registered symbol `processSingleton(name)` keeps its value under. */
export function processSingletonKey(name: string): symbol {
  let key = keys.get(name);
  if (key === undefined) {
    key = Symbol.for(`warren.${name}`);
    keys.set(name, key);
  }
  return key;
}

/** Each name's symbol, looked up once per copy of this module (the hot path asks for several per invocation). */
const keys = new Map<string, symbol>();

/**
 * The process's one value named `name`: created by `create` on the first call in the process (from whichever copy of
 * the calling module comes first), the same value on every later call from any copy. `create` must make a mutable
 * holder (a Map, an object) rather than a primitive, since callers change the value in place.
 */
export function processSingleton<T extends object>(name: string, create: () => T): T {
  const holder = globalThis as Holder;
  const key = processSingletonKey(name);
  return (holder[key] ??= create()) as T;
}
