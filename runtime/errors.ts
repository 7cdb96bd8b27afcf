/**
 * Warren's error hierarchy: one base class, typed subclasses that keep `cause`.
 * Each subclass says in its doc comment when it is thrown.
 */

/** Base class of every error Warren throws on purpose. */
export class WarrenError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'WarrenError';
  }
}

/** Thrown at start when `warren.config.ts` (or an option object) is invalid. Names the field and the fix. */
export class ConfigError extends WarrenError {
  public readonly field: string;
  public constructor(field: string, problem: string, options?: ErrorOptions) {
    super(`Invalid config at "${field}": ${problem}`, options);
    this.name = 'ConfigError';
    this.field = field;
  }
}

/** Thrown when an `aws:rmq` event or a message body cannot be decoded. Permanent: retrying cannot help. */
export class DecodeError extends WarrenError {
  public readonly field: string;
  public constructor(field: string, problem: string, options?: ErrorOptions) {
    super(`Cannot decode ${field}: ${problem}`, options);
    this.name = 'DecodeError';
    this.field = field;
  }
}

/**
 * Thrown when the MySQL connection died while a transaction was open (or while committing). The transaction's
 * statements are never re-run on another connection: the message is retried whole.
 */
export class ConnectionLostError extends WarrenError {
  /** True when the connection died during COMMIT: the server may or may not have committed. */
  public readonly commitOutcomeUnknown: boolean;
  public constructor(message: string, options?: ErrorOptions & { commitOutcomeUnknown?: boolean }) {
    super(message, options);
    this.name = 'ConnectionLostError';
    this.commitOutcomeUnknown = options?.commitOutcomeUnknown ?? false;
  }
}

/** Thrown when no connection could be opened after the configured connect attempts. */
export class DatabaseUnavailableError extends WarrenError {
  public readonly attempts: number;
  public constructor(attempts: number, options?: ErrorOptions) {
    super(`Could not connect to MySQL after ${attempts} attempt(s); check DATABASE_URL and that the server is up`, options);
    this.name = 'DatabaseUnavailableError';
    this.attempts = attempts;
  }
}

/** Thrown when a handler uses its transaction's query function after the transaction has ended. */
export class TransactionClosedError extends WarrenError {
  public constructor() {
    super('This transaction has ended; use the query function only inside the handler call that received it');
    this.name = 'TransactionClosedError';
  }
}

/** Thrown when `close()` was called and a transaction is asked for afterwards. */
export class ConnectionManagerClosedError extends WarrenError {
  public constructor() {
    super('The connection manager is closed; no further transactions can start');
    this.name = 'ConnectionManagerClosedError';
  }
}

/**
 * Throw from a handler when a message can never succeed, whatever the retries: it goes to the dead-letter queue with
 * this error's message as the reason, and the rest of the batch carries on.
 */
export class PermanentError extends WarrenError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

/** A permanent error about one field of the message body; names the field. */
export class PermanentInputError extends PermanentError {
  public readonly field: string;
  public constructor(field: string, problem: string, options?: ErrorOptions) {
    super(`Invalid message field "${field}": ${problem}`, options);
    this.name = 'PermanentInputError';
    this.field = field;
  }
}

/** The body failed the handler's schema. Permanent. `issues` name each field and the problem. */
export class SchemaValidationError extends PermanentError {
  public readonly issues: readonly { readonly path: string; readonly message: string }[];
  public constructor(issues: readonly { readonly path: string; readonly message: string }[]) {
    super(`Message body failed validation: ${issues.map((i) => `${i.path === '' ? '(body)' : i.path}: ${i.message}`).join('; ')}`);
    this.name = 'SchemaValidationError';
    this.issues = issues;
  }
}

/**
 * Recorded as the dead-letter reason (never thrown to a handler) when a message was the first unfinished one of
 * `crashes` invocations that never ended (the function crashed, timed out or ran out of memory on Lambda).
 */
export class CrashedInvocationError extends PermanentError {
  public readonly crashes: number;
  public constructor(crashes: number) {
    super(`${crashes} invocations started on this message and never ended (the function crashed, timed out or ran out of memory); set aside without running it again`);
    this.name = 'CrashedInvocationError';
    this.crashes = crashes;
  }
}

/** The message has no key (no message_id and no key function result) and the handler has `onMissingKey: "dead-letter"`. */
export class MissingMessageKeyError extends PermanentError {
  public constructor() {
    super('Message has no key for exactly-once processing: publish it with a message_id property, give the handler a `key` function, or set `onMissingKey` to "process" (at-least-once) or "hash-body"');
    this.name = 'MissingMessageKeyError';
  }
}

/** A permanent failure could not be written to any dead-letter queue (none configured, or it failed). Transient. */
export class DeadLetterError extends WarrenError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DeadLetterError';
  }
}

/** Thrown when an operation of Warren's own (a ping, closing a connection) did not finish in its time limit. */
export class TimeoutError extends WarrenError {
  public readonly operation: string;
  public readonly timeoutMs: number;
  public constructor(operation: string, timeoutMs: number) {
    super(`${operation} did not finish within ${timeoutMs} ms`);
    this.name = 'TimeoutError';
    this.operation = operation;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Thrown when a message body is too big for Lambda: by `ctx.publish` (so the follow-up never reaches a consumer that
 * would lose it; permanent, so the source message is dead-lettered with this reason), by `npm run send`, and by
 * `checkLambdaBodySize()` for publishers of your own. Names the size, the limit and why (runtime/payloadLimit.ts).
 */
export class PayloadTooLargeError extends PermanentError {
  public readonly bytes: number;
  public readonly limit: number;
  public constructor(what: string, bytes: number, limit: number) {
    super(`${what} is ${bytes.toLocaleString('en-US')} bytes, over Warren's limit of ${limit.toLocaleString('en-US')} bytes: ` +
      'Lambda delivers RabbitMQ messages base64-encoded in a JSON event of at most 6,291,456 bytes (6 MB, its synchronous ' +
      'invocation payload limit) and drops a message that cannot fit, so it would be lost on AWS. Send a reference ' +
      '(an S3 key, a row id) instead of the data, or split it');
    this.name = 'PayloadTooLargeError';
    this.bytes = bytes;
    this.limit = limit;
  }
}

/**
 * Thrown at start (runner) or on first use (handler, relay) when the database user lacks a privilege Warren needs,
 * or a table Warren needs is missing and the user may not create it. Names the user, the privilege, the table and the
 * statement an administrator runs to fix it.
 */
export class PrivilegeError extends WarrenError {
  public readonly user: string;
  public readonly privilege: string;
  public readonly table: string;
  public constructor(details: { user: string; privilege: string; table: string; fix: string }, options?: ErrorOptions) {
    super(`Database user ${details.user} lacks ${details.privilege} on ${details.table}. ${details.fix}`, options);
    this.name = 'PrivilegeError';
    this.user = details.user;
    this.privilege = details.privilege;
    this.table = details.table;
  }
}

/**
 * More connections are needed than the database side allows. One family, two places it is checked:
 * `ProxyConnectionBudgetError` at synth (lib/errors.ts: the functions' client connections against what the
 * proxy may open) and `ServerConnectionBudgetError` at the runner's start (local/errors.ts: the pool's connections
 * against what the server accepts now).
 */
export class ConnectionBudgetError extends WarrenError {
  /**
   * @param needed connections that would be opened
   * @param available connections the database side allows
   */
  public constructor(message: string, public readonly needed: number, public readonly available: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConnectionBudgetError';
  }
}

/**
 * Thrown by `ctx.reply()` when the message cannot be answered: it has no `reply_to` property (it is not a request),
 * its `reply_to` is a malformed `/exchanges/...` address, or it was answered already in this transaction. Permanent
 * (retrying cannot change the message), so an uncaught one dead-letters the message with this reason.
 */
export class ReplyNotAllowedError extends PermanentError {
  public constructor(why: string, options?: ErrorOptions) {
    super(`ctx.reply(): this message cannot be answered: ${why}`, options);
    this.name = 'ReplyNotAllowedError';
  }
}

/** Thrown inside the batch transaction when another delivery claimed one of its keys meanwhile; causes the fallback. */
export class ConcurrentClaimError extends WarrenError {
  public constructor() {
    super('Another delivery claimed a key of this batch at the same time; processing the batch message by message');
    this.name = 'ConcurrentClaimError';
  }
}

/** Thrown by `ctx.publish(source, ...)` and `ctx.reply(source, ...)` in batch mode when `source` is not a message of this batch. */
export class UnknownPublishSourceError extends WarrenError {
  public constructor() {
    super('ctx.publish(source, ...) / ctx.reply(source, ...): source must be one of the messages handed to handleBatch; pass the message the follow-up or reply belongs to');
    this.name = 'UnknownPublishSourceError';
  }
}
