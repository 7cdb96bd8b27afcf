/**
 * Start-up check that MySQL/MariaDB answers at DATABASE_URL and accepts its credentials, before anything else uses it,
 * so the first error a person meets names the URL and the fix instead of a bare `connect ECONNREFUSED`.
 */
import mysql from 'mysql2/promise';
import { redactUrl } from '../../runtime/logger.js';
import { DatabaseUnreachableError } from '../errors.js';

/** Error codes of a server that answered and refused the user name or password. */
const REFUSED = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR', 'ER_DBACCESS_DENIED_ERROR']);
/** Error codes of nothing (usable) answering at the address. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'PROTOCOL_CONNECTION_LOST']);

/** Connects once to the server of `databaseUrl` (its database may not exist yet) and disconnects. */
export async function checkDatabase(databaseUrl: string, connectTimeoutMs = 10_000): Promise<void> {
  const server = new URL(databaseUrl);
  server.pathname = '/';
  try {
    const connection = await mysql.createConnection({ uri: server.toString(), connectTimeout: connectTimeoutMs });
    await connection.end();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : String(error);
    if (typeof code === 'string' && REFUSED.has(code)) throw new DatabaseUnreachableError(redactUrl(databaseUrl), 'refused', message, { cause: error });
    if (typeof code === 'string' && UNREACHABLE.has(code)) throw new DatabaseUnreachableError(redactUrl(databaseUrl), 'unreachable', message, { cause: error });
    throw error;
  }
}
