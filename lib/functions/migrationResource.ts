/**
 * The CloudFormation custom resource (CDK Provider framework `onEvent` handler) that runs the config's migrations on
 * deploy: through RDS Proxy with an IAM token over verified TLS, with the connection options the handlers use
 * (`databaseSettingsFromEnv` in rdsIam.ts reads the same WARREN_DB_* variables). Set up by `lib/WarrenMigrations.ts`.
 *
 * Resource properties:
 *   Files   JSON array of the SQL files' names in warren.config.ts order (for the log and the error)
 *   Sha256  hash of the files (a change makes CloudFormation send Update, which runs them again)
 *
 * Create and Update run every file in order, one multi-statement query per file, on one connection (as `npm run
 * migrate` does locally; write the files so they can run again, e.g. CREATE TABLE IF NOT EXISTS). A failing statement
 * throws `MigrationError` naming the file, the statement (its number and text) and MySQL's message; the Provider
 * framework fails the resource with that message, so `cdk deploy` shows it and rolls back. Delete does nothing (the
 * tables stay).
 *
 * With `AppSecretArn` (the stack always sets it), it then creates Warren's tables and the application user the
 * handlers connect as, with DML on the database only (appDatabaseUser.ts); this function connects as the master user.
 *
 * The connect is retried: the stack creates this resource after the proxy's target group (lib/WarrenMigrations.ts),
 * but a registered target is not yet an available one. RDS Proxy reports a target's health as REGISTERING, then
 * UNAVAILABLE (e.g. reason PENDING_PROXY_CAPACITY: "retry connecting after the proxy finishes its scaling operation")
 * before AVAILABLE (RDS User Guide, "Troubleshooting for RDS Proxy", section "Verifying connectivity for a proxy";
 * RDS API Reference, "TargetHealth": "registering > unavailable > available"). So each attempt has a timeout and the
 * attempts back off (capped exponential, full jitter) for up to `retryForMs` (5 minutes), well inside the function's
 * 10-minute timeout; then the resource fails naming the endpoint, the attempts and the last error.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Connection as CoreConnection } from 'mysql2';
import mysql from 'mysql2/promise';
import { backoffDelay, sleep } from '../../runtime/backoff.js';
import { ENV } from '../../runtime/env.js';
import { ConfigError } from '../../runtime/errors.js';
import { createLogger, errorFields } from '../../runtime/logger.js';
import { scrubError } from '../../runtime/redact.js';
import { databaseSettingsFromEnv } from '../../runtime/db/rdsIam.js';
import { setUpAppDatabaseUser } from '../../runtime/db/appDatabaseUser.js';
import { readSecretsManagerCredentials, type SecretReader } from '../../runtime/amqp/brokerSecret.js';
import { MigrationConnectError, MigrationError } from './errors.js';
import { splitSqlStatements } from './sqlStatements.js';

export const MIGRATIONS_PHYSICAL_ID = 'warren-migrations';

export interface MigrationConnectOptions {
  /** Give up on one connect attempt (TCP, TLS and MySQL handshake) after this long. @default 10_000 */
  readonly connectTimeoutMs?: number;
  /** Keep retrying until this much time has passed since the first attempt. @default 300_000 */
  readonly retryForMs?: number;
  /** First backoff ceiling; doubles per attempt up to `maxDelayMs`. @default 1_000 */
  readonly baseDelayMs?: number;
  /** @default 15_000 */
  readonly maxDelayMs?: number;
}

/** Five minutes of retries: half the function's 10-minute timeout (lib/WarrenMigrations.ts), the rest for the SQL. */
export const MIGRATION_CONNECT_DEFAULTS = { connectTimeoutMs: 10_000, retryForMs: 300_000, baseDelayMs: 1_000, maxDelayMs: 15_000 } as const;

export interface MigrationResult {
  readonly PhysicalResourceId: string;
  /** A count, not the names: a custom resource's whole response is capped at 4,096 bytes. */
  readonly Data: { readonly FileCount: number };
}

/** Where the SQL of the i-th file is: the bundle's `migrations/<i>.sql` by default. */
export type MigrationSource = (index: number, file: string) => Promise<string>;

/** Lambda unpacks the bundle (with the copied SQL files) into LAMBDA_TASK_ROOT. */
const bundled: MigrationSource = async (index) => readFile(join(process.env[ENV.lambdaTaskRoot] ?? process.cwd(), 'migrations', `${String(index).padStart(4, '0')}.sql`), 'utf8');

const log = createLogger({ component: 'migrations-resource' });

function files(event: CloudFormationCustomResourceEvent): string[] {
  const raw: unknown = event.ResourceProperties.Files;
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof raw === 'string' ? raw : '');
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || !parsed.every((f) => typeof f === 'string')) {
    throw new ConfigError('Files', `expected a JSON array of SQL file names, received ${JSON.stringify(raw)}`);
  }
  return parsed as string[];
}

/** Opens a connection, retrying with capped exponential backoff until `retryForMs` has passed. */
async function connectWithBackoff(options: mysql.ConnectionOptions, target: string, retry: Required<MigrationConnectOptions>): Promise<mysql.Connection> {
  const started = Date.now();
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await mysql.createConnection({ ...options, connectTimeout: retry.connectTimeoutMs });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const delay = backoffDelay(attempt, retry.baseDelayMs, retry.maxDelayMs);
      if (Date.now() - started + delay > retry.retryForMs) throw new MigrationConnectError(target, retry.retryForMs, attempt + 1, message, { cause: error });
      log.warn('database connect failed; retrying', { target, attempt: attempt + 1, delayMs: delay, ...errorFields(error) });
      await sleep(delay);
    }
  }
}

/**
 * Runs one file as one multi-statement query and counts the statements the server finished (mysql2 emits `fields`
 * once per statement's result), so an error names the statement it stopped at.
 */
function runFile(connection: mysql.Connection, sql: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let finished = 0;
    // mysql2/promise keeps the callback connection (whose query() is an event emitter) as `connection`, untyped.
    const core = (connection as unknown as { connection: CoreConnection }).connection;
    const query = core.query(sql);
    query.on('fields', () => { finished += 1; });
    query.on('error', (error: Error) => reject(Object.assign(error, { warrenStatementIndex: finished })));
    query.on('end', () => resolve());
  });
}

/**
 * Builds the `onEvent` handler; tests pass `source` (the files, not a bundle), `env` (the local MariaDB), `connect`
 * and `readSecret` (Secrets Manager does not exist here).
 */
export function createMigrationHandler(source: MigrationSource = bundled, env: NodeJS.ProcessEnv = process.env, connect: MigrationConnectOptions = {}, readSecret: SecretReader = readSecretsManagerCredentials): (event: CloudFormationCustomResourceEvent) => Promise<MigrationResult> {
  const retry = { ...MIGRATION_CONNECT_DEFAULTS, ...connect };
  const onEvent = migrationEventHandler(source, env, retry, readSecret);
  // Whatever fails leaves scrubbed: the Lambda runtime logs an uncaught error's enumerable properties (mysql2's `sql`
  // holds CREATE USER's password) and the Provider framework makes its message the CloudFormation Reason.
  return async (event) => {
    try {
      return await onEvent(event);
    } catch (error) {
      throw scrubError(error);
    }
  };
}

function migrationEventHandler(source: MigrationSource, env: NodeJS.ProcessEnv, retry: Required<MigrationConnectOptions>, readSecret: SecretReader): (event: CloudFormationCustomResourceEvent) => Promise<MigrationResult> {
  return async (event) => {
    if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId, Data: { FileCount: 0 } };
    const names = files(event);
    const settings = databaseSettingsFromEnv(env);
    if (settings === undefined) throw new ConfigError(ENV.dbHost, 'the migrations function needs the WARREN_DB_* variables the stack sets');
    const database = decodeURIComponent(new URL(settings.url).pathname.replace(/^\//, ''));
    const connection = await connectWithBackoff({
      ...(await settings.connectionOptions()),
      ...(database === '' ? {} : { database }),
      multipleStatements: true,
    }, settings.url, retry);
    try {
      for (const [index, file] of names.entries()) {
        const sql = await source(index, file);
        try {
          await runFile(connection, sql);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          const at = (error as { warrenStatementIndex?: number }).warrenStatementIndex ?? 0;
          const statement = splitSqlStatements(sql)[at] ?? '';
          log.error('migration failed', { file, statement: at + 1, ...errorFields(error) });
          throw new MigrationError(file, at + 1, statement, message, { cause: error });
        }
        log.info('migration applied', { file });
      }
      const appSecretArn: unknown = event.ResourceProperties.AppSecretArn;
      if (typeof appSecretArn === 'string' && appSecretArn !== '') {
        const app = await readSecret(appSecretArn);
        await setUpAppDatabaseUser(connection, { user: app.username, password: app.password, database });
        log.info('application user ready', { user: app.username, database });
      }
    } finally {
      await connection.end().catch(() => undefined);
    }
    return { PhysicalResourceId: MIGRATIONS_PHYSICAL_ID, Data: { FileCount: names.length } };
  };
}

export const handler = createMigrationHandler();
