/** Classification of mysql2 errors that the connection manager acts on. */

const CONNECTION_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ER_CONNECTION_KILLED',
  'ER_SERVER_SHUTDOWN',
  'ER_CLIENT_INTERACTION_TIMEOUT',
]);

function field(error: unknown, name: 'code' | 'fatal' | 'errno'): unknown {
  return typeof error === 'object' && error !== null ? (error as Record<string, unknown>)[name] : undefined;
}

/** True when the error means the connection is gone (or unusable) rather than that a statement failed. */
export function isConnectionError(error: unknown): boolean {
  if (field(error, 'fatal') === true) return true;
  const code = field(error, 'code');
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  return error instanceof Error && /closed state|connection.*(lost|closed|killed)/i.test(error.message);
}

/** True for "Too many connections" (ER_CON_COUNT_ERROR, 1040): worth waiting and retrying. */
export function isTooManyConnections(error: unknown): boolean {
  return field(error, 'code') === 'ER_CON_COUNT_ERROR' || field(error, 'errno') === 1040;
}

/** True for errors on connect that a later attempt may not hit. */
export function isRetryableConnectError(error: unknown): boolean {
  return isTooManyConnections(error) || isConnectionError(error);
}
