/**
 * Error kinds and the one table of defaults that decides them. Permanent errors send the message to the dead-letter
 * queue at once; transient ones are retried (inside the invocation, then by redelivery) and unknown errors count as
 * transient, so a bug that is fixed by a deploy does not lose messages.
 */
import { ConnectionLostError, DatabaseUnavailableError, DecodeError, PermanentError } from './errors.js';

export const ERROR_KINDS = { permanent: 'permanent', transient: 'transient' } as const;
export type ErrorKind = (typeof ERROR_KINDS)[keyof typeof ERROR_KINDS];

/** MySQL error codes that a retry of the whole message transaction can cure. */
export const TRANSIENT_MYSQL_CODES = ['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'ER_CON_COUNT_ERROR', 'ER_QUERY_INTERRUPTED'] as const;

/** A handler's own classifier: return a kind to decide, or undefined to fall back to the defaults. */
export type ErrorClassifier = (error: unknown) => ErrorKind | undefined;

export function classifyError(error: unknown, custom?: ErrorClassifier): ErrorKind {
  const decided = custom?.(error);
  if (decided !== undefined) return decided;
  if (error instanceof PermanentError || error instanceof DecodeError) return 'permanent';
  if (error instanceof ConnectionLostError || error instanceof DatabaseUnavailableError) return 'transient';
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && (TRANSIENT_MYSQL_CODES as readonly string[]).includes(code)) return 'transient';
  return 'transient';
}
