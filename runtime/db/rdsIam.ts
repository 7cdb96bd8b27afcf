/**
 * Database settings from the environment variables the CDK stack sets, and IAM authentication for RDS Proxy.
 *
 * The stack sets (all strings):
 *   WARREN_DB_HOST       proxy endpoint host name            (when unset, DATABASE_URL is used exactly as before)
 *   WARREN_DB_PORT       port                                 default 3306
 *   WARREN_DB_USER       database user                        required with WARREN_DB_HOST
 *   WARREN_DB_NAME       database (schema) name               default: none
 *   WARREN_DB_IAM_AUTH   "true" to sign an IAM token          default "false"
 *   WARREN_DB_TLS        "true" to require verified TLS       default: same as WARREN_DB_IAM_AUTH
 *   WARREN_DB_PASSWORD   password when IAM auth is off        default: none (never logged)
 *
 * With IAM auth on, each connect gets a token from `@aws-sdk/rds-signer` (signed locally with the function's role
 * credentials, valid 15 minutes). A token is reused until `refreshBeforeMs` before its expiry, so every reconnect
 * presents a token that is still valid; an open connection stays authenticated after its token expires. The token
 * goes to RDS Proxy through mysql2's `mysql_clear_password` plugin, which is why TLS is required with it.
 *
 * ```ts
 * import { ConnectionManager } from './ConnectionManager.js';
 * import { rdsIamConnectionOptions } from './rdsIam.js';
 *
 * const db = new ConnectionManager({
 *   url: 'mysql://warren@my-proxy.proxy-abc.eu-west-1.rds.amazonaws.com:3306/warren',
 *   connectionOptions: rdsIamConnectionOptions({ hostname: 'my-proxy.proxy-abc.eu-west-1.rds.amazonaws.com', port: 3306, username: 'warren' }),
 * });
 * ```
 */
import type { ConnectionOptions } from 'mysql2/promise';
import { ENV } from '../env.js';
import { ConfigError } from '../errors.js';
import { rememberSecret } from '../redact.js';

/** Names of the environment variables: the db* entries of the one table in env.ts (the stack sets them from there). */
export const DB_ENV = {
  host: ENV.dbHost,
  port: ENV.dbPort,
  user: ENV.dbUser,
  name: ENV.dbName,
  iamAuth: ENV.dbIamAuth,
  tls: ENV.dbTls,
  password: ENV.dbPassword,
} as const;

/** Lifetime of an RDS IAM auth token (fixed by AWS). */
export const IAM_TOKEN_LIFETIME_MS = 15 * 60_000;

/** Signs one token; the default uses `@aws-sdk/rds-signer`, tests may pass another. */
export type TokenSigner = (target: { hostname: string; port: number; username: string; region?: string }) => Promise<string>;

export interface RdsIamOptions {
  readonly hostname: string;
  /** @default 3306 */
  readonly port?: number;
  readonly username: string;
  /** @default process.env.AWS_REGION (set by Lambda) */
  readonly region?: string;
  /**
   * Sign a new token when the cached one has less than this left.
   * @default 5 minutes
   */
  readonly refreshBeforeMs?: number;
  /**
   * Require TLS with a verified certificate (RDS Proxy presents an Amazon-issued one that Node trusts).
   * @default true
   */
  readonly tls?: boolean;
  /** @default signs with `@aws-sdk/rds-signer` */
  readonly sign?: TokenSigner;
  /** @default Date.now */
  readonly now?: () => number;
}

export const RDS_IAM_DEFAULTS = {
  port: 3306,
  refreshBeforeMs: 5 * 60_000,
  tls: true,
} as const;

/**
 * TLS settings for RDS Proxy: verified certificate chain AND host name, TLS 1.2 or newer. mysql2 checks the server
 * certificate's host name only with `verifyIdentity: true`; `rejectUnauthorized` alone verifies the chain, so any
 * Amazon-issued certificate would pass (mysql2 docs, "ssl" connection option; NOTES.md).
 */
export const PROXY_TLS: NonNullable<ConnectionOptions['ssl']> = { rejectUnauthorized: true, verifyIdentity: true, minVersion: 'TLSv1.2' };

const signWithSdk: TokenSigner = async ({ hostname, port, username, region }) => {
  const { Signer } = await import('@aws-sdk/rds-signer');
  return new Signer({ hostname, port, username, ...(region === undefined ? {} : { region }) }).getAuthToken();
};

/**
 * A `ConnectionManagerOptions.connectionOptions` factory for RDS Proxy with IAM auth: called before every connect, it
 * returns mysql2 options carrying a token that is valid for at least `refreshBeforeMs` more.
 */
export function rdsIamConnectionOptions(options: RdsIamOptions): () => Promise<ConnectionOptions> {
  const port = options.port ?? RDS_IAM_DEFAULTS.port;
  const refreshBeforeMs = options.refreshBeforeMs ?? RDS_IAM_DEFAULTS.refreshBeforeMs;
  const tls = options.tls ?? RDS_IAM_DEFAULTS.tls;
  const sign = options.sign ?? signWithSdk;
  const now = options.now ?? Date.now;
  const region = options.region ?? process.env[ENV.awsRegion];
  let cached: { token: string; expiresAt: number } | undefined;

  return async () => {
    if (cached === undefined || cached.expiresAt - now() < refreshBeforeMs) {
      const signedAt = now();
      const token = await sign({ hostname: options.hostname, port, username: options.username, ...(region === undefined ? {} : { region }) });
      cached = { token, expiresAt: signedAt + IAM_TOKEN_LIFETIME_MS };
    }
    const token = cached.token;
    return {
      host: options.hostname,
      port,
      user: options.username,
      // mysql2's own clear-password plugin sends the password NUL-terminated; RDS Proxy reads the token that way.
      authPlugins: { mysql_clear_password: () => () => Buffer.from(`${token}\0`) },
      ...(tls ? { ssl: PROXY_TLS } : {}),
    };
  };
}

/** What `processConnection()` takes from the environment. */
export interface DatabaseEnvSettings {
  /** A password-free URL (safe to log) naming host, port, user and database. */
  readonly url: string;
  readonly connectionOptions: () => Promise<ConnectionOptions>;
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(name, `expected "true" or "false", received ${JSON.stringify(value)}`);
}

/**
 * Reads the WARREN_DB_* variables. Returns `undefined` when WARREN_DB_HOST is unset, so the caller keeps using
 * DATABASE_URL. Throws a `ConfigError` naming the variable when one is malformed.
 */
export function databaseSettingsFromEnv(env: NodeJS.ProcessEnv = process.env, sign?: TokenSigner): DatabaseEnvSettings | undefined {
  const host = env[DB_ENV.host];
  if (host === undefined || host === '') return undefined;
  const user = env[DB_ENV.user];
  if (user === undefined || user === '') throw new ConfigError(DB_ENV.user, `required when ${DB_ENV.host} is set`);
  const rawPort = env[DB_ENV.port] ?? String(RDS_IAM_DEFAULTS.port);
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new ConfigError(DB_ENV.port, `expected a port number, received ${JSON.stringify(rawPort)}`);
  const database = env[DB_ENV.name] ?? '';
  const iamAuth = flag(env, DB_ENV.iamAuth, false);
  const tls = flag(env, DB_ENV.tls, iamAuth);
  if (iamAuth && !tls) throw new ConfigError(DB_ENV.tls, `must be "true" when ${DB_ENV.iamAuth} is "true": the token is sent in clear text`);
  const url = `mysql://${encodeURIComponent(user)}@${host.includes(':') ? `[${host}]` : host}:${port}/${encodeURIComponent(database)}`;
  if (iamAuth) {
    return { url, connectionOptions: rdsIamConnectionOptions({ hostname: host, port, username: user, tls, ...(sign === undefined ? {} : { sign }) }) };
  }
  const password = env[DB_ENV.password];
  if (password !== undefined) rememberSecret(password); // never in a log line (runtime/redact.ts)
  const fixed: ConnectionOptions = {
    host,
    port,
    user,
    ...(database === '' ? {} : { database }),
    ...(password === undefined ? {} : { password }),
    ...(tls ? { ssl: PROXY_TLS } : {}),
  };
  return { url, connectionOptions: async () => fixed };
}
