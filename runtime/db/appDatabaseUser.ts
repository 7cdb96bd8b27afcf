/**
 * The application database user: what handlers and the outbox relay connect as, instead of the master user. Created
 * by the migrations custom resource (as the master user, through RDS Proxy) and, locally, by hand (docs/local-runner.md,
 * "Database users"). It may run DML on the application database and nothing else: no DDL, no other database, no user admin.
 *
 *   CREATE USER IF NOT EXISTS '<user>'@'%' IDENTIFIED BY '<password from its secret>'
 *   ALTER USER '<user>'@'%' IDENTIFIED BY '<password>'            (the secret is the truth: a re-run re-syncs it)
 *   GRANT SELECT, INSERT, UPDATE, DELETE ON `<database>`.* TO '<user>'@'%'
 *
 * The password is remembered as a secret and a failing CREATE/ALTER USER rejects with its error scrubbed
 * (runtime/redact.ts): mysql2 keeps the formatted statement, password included, in `err.sql`.
 *
 * Warren's own tables (warren_inbox, warren_deliveries, warren_outbox) are created here too, by the master user,
 * since the application user may not CREATE them. Statements use placeholders (mysql2 escapes values and `??`
 * identifiers); `_` and `%` in the database name are escaped, as GRANT reads them as wildcards otherwise
 * (MySQL Reference Manual, "GRANT Statement").
 */
import type { Connection } from 'mysql2/promise';
import { ENV } from '../env.js';
import { ConfigError } from '../errors.js';
import { rememberSecret, scrubError } from '../redact.js';
import { WARREN_TABLES_SQL } from './warrenTables.js';

/** The privileges the application user gets on the application database. */
export const APP_DATABASE_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const;

export interface AppDatabaseUser {
  readonly user: string;
  /** Never logged. */
  readonly password: string;
  readonly database: string;
  /** @default '%' (RDS Proxy connects from addresses in the VPC) */
  readonly host?: string;
}

/** MySQL user names: at most 32 characters; Warren allows letters, digits and `_` only. */
export const APP_USER_PATTERN = /^[A-Za-z0-9_]{1,32}$/;

/** `GRANT ... ON <this>.*` for `database`: `_` and `%` escaped so they match themselves. */
export function grantDatabasePattern(database: string): string {
  return database.replace(/[_%\\]/g, '\\$&');
}

/** The GRANT statement as text, for messages and the docs (the resource itself uses placeholders). */
export function appGrantStatement(database: string, user: string, host = '%'): string {
  return `GRANT ${APP_DATABASE_PRIVILEGES.join(', ')} ON \`${grantDatabasePattern(database).replace(/`/g, '``')}\`.* TO '${user}'@'${host}'`;
}

/**
 * Creates Warren's tables in the connection's database, then the application user with DML on `database`. Runs as a
 * user that may CREATE tables and users and GRANT (the RDS master user; root locally). Idempotent.
 */
export async function setUpAppDatabaseUser(connection: Connection, app: AppDatabaseUser): Promise<void> {
  if (!APP_USER_PATTERN.test(app.user)) throw new ConfigError('AppUser', `expected 1-32 letters, digits or _, received ${JSON.stringify(app.user)}`);
  if (app.database === '') throw new ConfigError(ENV.dbName, 'the application user is granted DML on one database; set the database name');
  if (app.password === '') throw new ConfigError('AppSecretArn', 'the application user\'s secret has an empty password');
  const host = app.host ?? '%';
  rememberSecret(app.password);
  for (const sql of WARREN_TABLES_SQL) await connection.query(sql);
  try {
    await connection.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [app.user, host, app.password]);
    await connection.query('ALTER USER ?@? IDENTIFIED BY ?', [app.user, host, app.password]);
  } catch (error) {
    // mysql2 formatted the password into the statement it keeps in `err.sql`: strip it before anyone logs the error.
    throw scrubError(error);
  }
  await connection.query(`GRANT ${APP_DATABASE_PRIVILEGES.join(', ')} ON ??.* TO ?@?`, [grantDatabasePattern(app.database), app.user, host]);
}
