/**
 * The process's one ConnectionManager, kept on `globalThis` under a registered symbol so that every copy of this module
 * (a bundle, a second import path) shares it. Module scope survives between invocations of a Lambda environment.
 */
import { ConnectionManager, type ConnectionManagerOptions } from './ConnectionManager.js';

const KEY = Symbol.for('warren.processConnection');
type Holder = { [KEY]?: ConnectionManager };

/** The process's connection manager, created on first call with `options` (later options are ignored). */
export function processConnection(options?: ConnectionManagerOptions): ConnectionManager {
  const holder = globalThis as Holder;
  holder[KEY] ??= new ConnectionManager(options);
  return holder[KEY];
}

/** The process's connection manager if one was created, without creating it. */
export function peekProcessConnection(): ConnectionManager | undefined {
  return (globalThis as Holder)[KEY];
}

/** Closes the process's connection (idempotent); the next `processConnection()` creates a fresh manager. */
export async function closeProcessConnection(): Promise<void> {
  const holder = globalThis as Holder;
  const manager = holder[KEY];
  delete holder[KEY];
  await manager?.close();
}
