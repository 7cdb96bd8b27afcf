/**
 * The process's MySQL connections: one `ConnectionManager` per distinct database, kept with `processSingleton` (on
 * `globalThis`) so that every copy of this module (a bundle, a second import path) shares them. Module scope
 * survives between invocations of a Lambda environment, where one function means one database and so exactly one
 * connection. In the local runner's shared pool, handlers on the same database share their worker's connection.
 */
import { ConnectionManager, DEFAULT_DATABASE_URL, type ConnectionManagerOptions } from './ConnectionManager.js';
import { ENV, envValue, scopedEnv } from '../env.js';
import { processSingleton } from '../processRegistry.js';
import { databaseSettingsFromEnv } from './rdsIam.js';

function managers(): Map<string, ConnectionManager> {
  return processSingleton('processConnections', () => new Map<string, ConnectionManager>());
}

/**
 * Options taken from the environment (the current handler's, see `env.ts`): the WARREN_DB_* variables the CDK stack
 * sets (RDS Proxy, IAM auth, TLS; see `rdsIam.ts`) when WARREN_DB_HOST is set, otherwise DATABASE_URL.
 */
export function connectionOptionsFromEnv(env: NodeJS.ProcessEnv = scopedEnv()): ConnectionManagerOptions {
  const settings = databaseSettingsFromEnv(env);
  if (settings !== undefined) return { url: settings.url, connectionOptions: settings.connectionOptions };
  const url = envValue(ENV.databaseUrl, env);
  return url === undefined ? {} : { url };
}

function processDefaults(): { options: ConnectionManagerOptions } {
  return processSingleton('processConnectionDefaults', () => ({ options: {} }));
}

/**
 * Options every connection manager this process (or thread) creates from now on starts from; a handler's own options
 * and the environment's win over them. The local runner's workers set `implicitTransactions` here.
 */
export function setProcessConnectionDefaults(options: ConnectionManagerOptions): void {
  processDefaults().options = { ...options };
}

/**
 * The process's connection manager for the current handler's database, created on first call for that database
 * (later options for it are ignored). Options given here win over those from the environment.
 */
export function processConnection(options: ConnectionManagerOptions = {}): ConnectionManager {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as ConnectionManagerOptions;
  const fromEnv = connectionOptionsFromEnv();
  const key = given.url ?? fromEnv.url ?? DEFAULT_DATABASE_URL;
  const all = managers();
  let manager = all.get(key);
  if (manager === undefined) {
    manager = new ConnectionManager({ ...processDefaults().options, ...fromEnv, ...given, url: key });
    all.set(key, manager);
  }
  return manager;
}

/** Every connection manager this process created (one per database), without creating any. */
export function processConnections(): readonly ConnectionManager[] {
  return [...managers().values()];
}

/** The process's first connection manager if one was created (on Lambda: its only one), without creating it. */
export function peekProcessConnection(): ConnectionManager | undefined {
  return managers().values().next().value;
}

/**
 * Closes and forgets the process's connection manager for `url` only, if there is one (the handler test kit, before
 * it drops its database); the other databases' connections stay open.
 */
export async function closeProcessConnectionTo(url: string): Promise<void> {
  const manager = managers().get(url);
  if (manager === undefined) return;
  managers().delete(url);
  await manager.close();
}

/** Closes every connection of the process (idempotent); the next `processConnection()` creates a fresh manager. */
export async function closeProcessConnection(): Promise<void> {
  const all = [...managers().values()];
  managers().clear();
  await Promise.all(all.map((m) => m.close()));
}
