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
 * throws `MigrationError` naming the file and MySQL's message; the Provider framework fails the resource with that
 * message, so `cdk deploy` shows it and rolls back. Delete does nothing (the tables stay).
 *
 * With `AppSecretArn` (the stack always sets it), it then creates Warren's tables and the application user the
 * handlers connect as, with DML on the database only (appDatabaseUser.ts); this function connects as the master user.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { ConfigError, WarrenError } from './errors.js';
import { createLogger, errorFields } from './logger.js';
import { databaseSettingsFromEnv } from './rdsIam.js';
import { setUpAppDatabaseUser } from './appDatabaseUser.js';
import { readSecretsManagerCredentials, type SecretReader } from './topologyResource.js';

export const MIGRATIONS_PHYSICAL_ID = 'warren-migrations';

/** Thrown when a migration file fails: names the file and carries MySQL's error as `cause`. */
export class MigrationError extends WarrenError {
  public readonly file: string;
  public constructor(file: string, message: string, options?: ErrorOptions) {
    super(`Migration ${file} failed: ${message}. Fix the SQL and deploy again (files run again in order on every change).`, options);
    this.name = 'MigrationError';
    this.file = file;
  }
}

export interface MigrationResult {
  readonly PhysicalResourceId: string;
  readonly Data: { readonly Files: string };
}

/** Where the SQL of the i-th file is: the bundle's `migrations/<i>.sql` by default. */
export type MigrationSource = (index: number, file: string) => Promise<string>;

/** Lambda unpacks the bundle (with the copied SQL files) into LAMBDA_TASK_ROOT. */
const bundled: MigrationSource = async (index) => readFile(join(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), 'migrations', `${String(index).padStart(4, '0')}.sql`), 'utf8');

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

/**
 * Builds the `onEvent` handler; tests pass `source` (the files, not a bundle), `env` (the local MariaDB) and
 * `readSecret` (Secrets Manager does not exist here).
 */
export function createMigrationHandler(source: MigrationSource = bundled, env: NodeJS.ProcessEnv = process.env, readSecret: SecretReader = readSecretsManagerCredentials): (event: CloudFormationCustomResourceEvent) => Promise<MigrationResult> {
  return async (event) => {
    if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId, Data: { Files: '' } };
    const names = files(event);
    const settings = databaseSettingsFromEnv(env);
    if (settings === undefined) throw new ConfigError('WARREN_DB_HOST', 'the migrations function needs the WARREN_DB_* variables the stack sets');
    const database = decodeURIComponent(new URL(settings.url).pathname.replace(/^\//, ''));
    const connection = await mysql.createConnection({
      ...(await settings.connectionOptions()),
      ...(database === '' ? {} : { database }),
      multipleStatements: true,
      connectTimeout: 10_000,
    });
    try {
      for (const [index, file] of names.entries()) {
        const sql = await source(index, file);
        try {
          await connection.query(sql);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          log.error('migration failed', { file, ...errorFields(error) });
          throw new MigrationError(file, message, { cause: error });
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
    return { PhysicalResourceId: MIGRATIONS_PHYSICAL_ID, Data: { Files: names.join(',') } };
  };
}

export const handler = createMigrationHandler();
