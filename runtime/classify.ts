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

/** Which rule decided an error's kind, in the order they are tried. */
export const CLASSIFY_RULES = {
  /** The handler's own `classify` returned a kind. */
  custom: 'custom',
  /** `PermanentError` (and subclasses) or `DecodeError`. */
  permanentError: 'permanent-error',
  /** The connection died or could not be opened (`ConnectionLostError`, `DatabaseUnavailableError`). */
  connection: 'connection',
  /** A MySQL error whose code is in `TRANSIENT_MYSQL_CODES`. */
  transientMysqlCode: 'transient-mysql-code',
  /** Anything else: transient by default, so a bug fixed by a deploy does not lose messages. */
  unknown: 'unknown-default',
} as const;
export type ClassifyRule = (typeof CLASSIFY_RULES)[keyof typeof CLASSIFY_RULES];

/** The kind of `error` and the rule that decided it (for logs and tests). */
export function explainError(error: unknown, custom?: ErrorClassifier): { kind: ErrorKind; rule: ClassifyRule } {
  const decided = custom?.(error);
  if (decided !== undefined) return { kind: decided, rule: 'custom' };
  if (error instanceof PermanentError || error instanceof DecodeError) return { kind: 'permanent', rule: 'permanent-error' };
  if (error instanceof ConnectionLostError || error instanceof DatabaseUnavailableError) return { kind: 'transient', rule: 'connection' };
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && (TRANSIENT_MYSQL_CODES as readonly string[]).includes(code)) return { kind: 'transient', rule: 'transient-mysql-code' };
  return { kind: 'transient', rule: 'unknown-default' };
}

export function classifyError(error: unknown, custom?: ErrorClassifier): ErrorKind {
  return explainError(error, custom).kind;
}
