/**
 * The test's own database: created under a unique name on the given server, migrated with the SQL files and Warren's
 * tables (runtime/db/migrate.ts, the code `warren migrate` runs), reached through one admin connection of the kit's
 * (for `kit.query` and the final DROP). Errors name the server without its password and say what to do.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import mysql from 'mysql2/promise';
import { ConfigError } from '../runtime/errors.js';
import type { Logger } from '../runtime/logger.js';
import { redactUrl } from '../runtime/logger.js';
import { migrate } from '../runtime/db/migrate.js';
import { TestKitError } from './errors.js';

export interface TestDatabase {
  readonly name: string;
  /** The database's URL (the server's, with the database as its path). */
  readonly url: string;
  /** The kit's own connection, on the database. */
  readonly connection: mysql.Connection;
}

const PREFIX = /^[A-Za-z0-9_]{1,40}$/;

/** The server's URL (no database) and the new database's, from `databaseUrl`. */
function urls(databaseUrl: string, name: string): { server: string; database: string } {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new ConfigError('createTestKit({ databaseUrl })', `expected a URL such as mysql://root@127.0.0.1:3306/test, received ${JSON.stringify(redactUrl(databaseUrl))}`);
  }
  if (url.protocol !== 'mysql:') throw new ConfigError('createTestKit({ databaseUrl })', `expected a mysql:// URL (MySQL or MariaDB), received ${redactUrl(databaseUrl)}`);
  url.pathname = '/';
  const server = url.toString();
  url.pathname = `/${name}`;
  return { server, database: url.toString() };
}

function described(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}

/** A logger that only notes the files `migrate()` reports applied (to name the one that failed). */
function appliedFiles(): { log: Logger; applied: string[] } {
  const applied: string[] = [];
  const log: Logger = {
    debug: () => undefined,
    info: (_msg, fields) => { if (typeof fields?.file === 'string') applied.push(fields.file); },
    warn: () => undefined,
    error: () => undefined,
    child: () => log,
  };
  return { log, applied };
}

export async function createTestDatabase(databaseUrl: string, prefix: string, migrations: readonly string[], root: string): Promise<TestDatabase> {
  if (!PREFIX.test(prefix)) throw new ConfigError('createTestKit({ databasePrefix })', `expected 1 to 40 letters, digits or _, received ${JSON.stringify(prefix)}`);
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const { server, database } = urls(databaseUrl, name);
  let connection: mysql.Connection;
  try {
    connection = await mysql.createConnection({ uri: server });
  } catch (error) {
    throw new TestKitError(`createTestKit could not connect to MySQL at ${redactUrl(server)} (${described(error)}): start MySQL or MariaDB there, or point createTestKit({ databaseUrl }) or DATABASE_URL at a server where the user may create databases`, { cause: error });
  }
  connection.on('error', () => undefined);
  try {
    await connection.query('CREATE DATABASE ??', [name]);
  } catch (error) {
    await connection.end().catch(() => undefined);
    throw new TestKitError(`createTestKit could not create the database ${name} on ${redactUrl(server)} (${described(error)}): the kit creates one database per kit and drops it on close, so its user needs CREATE and DROP (e.g. GRANT CREATE, DROP ON \`${prefix}\\_%\`.* TO that user), or pass a databaseUrl whose user has them`, { cause: error });
  }
  try {
    await connection.query('USE ??', [name]);
    const { log, applied } = appliedFiles();
    try {
      await migrate(database, migrations, root, log);
    } catch (error) {
      const failed = migrations[applied.length];
      const what = failed === undefined ? 'Warren\'s own tables could not be created' : `migration ${failed} (${resolve(root, failed)}) failed`;
      const missing = (error as { code?: unknown }).code === 'ENOENT';
      const fix = failed === undefined ? 'check that the user may CREATE tables'
        : missing ? `no such file: paths are relative to createTestKit({ root }), by default the current directory (${process.cwd()})`
          : 'fix its SQL';
      throw new TestKitError(`createTestKit: ${what} on ${redactUrl(database)} (${described(error)}); ${fix}`, { cause: error });
    }
    return { name, url: database, connection };
  } catch (error) {
    await dropTestDatabase({ name, url: database, connection }).catch(() => undefined);
    throw error;
  }
}

/** Drops the database and closes the kit's connection. */
export async function dropTestDatabase(db: TestDatabase): Promise<void> {
  try {
    await db.connection.query('DROP DATABASE IF EXISTS ??', [db.name]);
  } finally {
    await db.connection.end().catch(() => undefined);
  }
}
