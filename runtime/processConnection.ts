/**
 * The process's one ConnectionManager, kept on `globalThis` under a registered symbol so that every copy of this module
 * (a bundle, a second import path) shares it. Module scope survives between invocations of a Lambda environment.
 */
import { ConnectionManager, type ConnectionManagerOptions } from './ConnectionManager.js';
import { databaseSettingsFromEnv } from './rdsIam.js';

const KEY = Symbol.for('warren.processConnection');
type Holder = { [KEY]?: ConnectionManager };

/**
 * Options taken from the environment: the WARREN_DB_* variables the CDK stack sets (RDS Proxy, IAM auth, TLS; see
 * `rdsIam.ts`) when WARREN_DB_HOST is set, otherwise nothing, so DATABASE_URL is used exactly as before.
 */
export function connectionOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ConnectionManagerOptions {
  const settings = databaseSettingsFromEnv(env);
  return settings === undefined ? {} : { url: settings.url, connectionOptions: settings.connectionOptions };
}

/**
 * The process's connection manager, created on first call (later options are ignored). Options given here win over
 * those from the environment (`connectionOptionsFromEnv`).
 */
export function processConnection(options: ConnectionManagerOptions = {}): ConnectionManager {
  const holder = globalThis as Holder;
  if (holder[KEY] === undefined) {
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as ConnectionManagerOptions;
    holder[KEY] = new ConnectionManager({ ...connectionOptionsFromEnv(), ...given });
  }
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
