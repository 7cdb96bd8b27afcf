/**
 * The options of `defineHandler()` (one of `handle` / `handleBatch`, plus settings with `@default`s), their defaults in
 * one constant, the context a handler gets, and what an invocation returns.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { BatchContext } from './invocation.js';
import type { ErrorClassifier } from './classify.js';
import type { ConnectionManagerOptions, QueryFn } from './db/ConnectionManager.js';
import type { DeadLetterSink } from './deadLetter/types.js';
import type { WarrenMessage } from './decode.js';
import type { InvocationContext, RmqEvent } from './event.js';
import { ConfigError } from './errors.js';
import { MISSING_KEY_POLICIES, type KeyFunction, type MissingKeyPolicy } from './inbox.js';
import type { Logger } from './logger.js';
import type { PublishFn, ReplyFn } from './outbox/outbox.js';
import type { Publisher } from './outbox/Publisher.js';

export interface HandlerContext {
  /** Runs a statement (`?` placeholders) inside this message's transaction. */
  readonly query: QueryFn;
  /** Logger whose lines carry the handler, queue, message id, correlation id and attempt. */
  readonly log: Logger;
  /** 1 on the first try within this invocation, then 2, 3, ... for in-invocation retries of transient errors. */
  readonly attempt: number;
  /**
   * Publishes a follow-up message exactly once: it is written to the outbox in this transaction and sent after the
   * commit (nothing is sent if the handler throws). Its message_id is `<this message's key>/<n>` for the n-th publish.
   * The exchange must exist: list it in the handler's `publishes` in warren.config.ts.
   */
  readonly publish: PublishFn;
  /**
   * Answers the request exactly once: the reply is written to the outbox in this transaction and sent after the
   * commit to the message's `reply_to` (default exchange, or the exchange of a `/exchanges/<exchange>/<key>` address),
   * with the request's correlation id (else its message id). It is kept with the inbox row, so a retried request with
   * the same key gets it again without running the handler. Throws `ReplyNotAllowedError` when the message has no
   * `reply_to` or was answered already. The handler needs `replies: true` in warren.config.ts (docs/request-and-reply.md).
   */
  readonly reply: ReplyFn;
}

/** A handler has either `handle` (one message per transaction) or `handleBatch` (the batch in one transaction). */
export type HandlerFunctions<TBody> =
  | {
    /** Handles one message inside its own transaction. Throw `PermanentError` to dead-letter it. */
    handle(message: WarrenMessage<TBody>, ctx: HandlerContext): Promise<void>;
    readonly handleBatch?: never;
  }
  | {
    /**
     * Handles the whole batch inside one transaction (multi-row statements). If it throws, the batch is rolled back and
     * run again one message at a time, `handleBatch([message])` per transaction, so one poison message fails alone.
     */
    handleBatch(messages: WarrenMessage<TBody>[], ctx: BatchContext): Promise<void>;
    readonly handle?: never;
  };

export type HandlerOptions<TBody> = HandlerSettings<TBody> & HandlerFunctions<TBody>;

export interface HandlerSettings<TBody> {
  /**
   * Name used in logs, the inbox and dead letters.
   * @default the invocation's handler from warren.config.ts (a shared-pool worker's scope, or WARREN_HANDLER on Lambda), else 'handler'
   */
  readonly name?: string;
  /** Validates (and types) the JSON body; an invalid body is dead-lettered with the failing fields. @default none */
  readonly schema?: StandardSchemaV1<unknown, TBody>;
  /**
   * Exactly-once effects through the inbox table. Turn off only for handlers whose effects are idempotent anyway.
   * @default true
   */
  readonly inbox?: boolean;
  /** The message's key for the inbox. @default the AMQP message_id property */
  readonly key?: KeyFunction;
  /**
   * A message without a key (no message_id and no `key` result): 'process' it at-least-once without an inbox claim (a
   * redelivery runs it again; counted as `unkeyed`, with a warning once per shard queue), 'dead-letter' it (with a
   * reason), or 'hash-body': key it by a SHA-256 of its body (identical bodies then count as one message).
   * @default 'process'
   */
  readonly onMissingKey?: MissingKeyPolicy;
  /**
   * Tries per message within one invocation for transient errors (deadlock, lock wait timeout, lost connection, ...).
   * @default 3
   */
  readonly attempts?: number;
  /**
   * Deliveries that may fail (each after `attempts` tries) before the message is dead-lettered.
   * @default 5
   */
  readonly maxDeliveries?: number;
  /** @default 50 */
  readonly retryBackoffBaseMs?: number;
  /** @default 1_000 */
  readonly retryBackoffMaxMs?: number;
  /** Decides an error's kind before the defaults (see `classifyError`). @default none */
  readonly classify?: ErrorClassifier;
  /** Where dead letters go. @default from the environment (WARREN_DLQ_URL, or WARREN_DLQ_AMQP_URL + WARREN_DLQ_QUEUE) */
  readonly deadLetter?: DeadLetterSink;
  /** Options for the process's connection (used by the first handler that opens it). */
  readonly connection?: ConnectionManagerOptions;
  /** Where outbox rows are published after the commit. @default the process's publisher (see `outbox/Publisher.ts`) */
  readonly publisher?: Publisher;
  /**
   * An invocation that published nothing still flushes rows left behind (by a crash) at most this often.
   * @default 10_000
   */
  readonly outboxLeftoverCheckMs?: number;
}

export const HANDLER_RUNTIME_DEFAULTS = {
  inbox: true,
  onMissingKey: 'process',
  attempts: 3,
  maxDeliveries: 5,
  retryBackoffBaseMs: 50,
  retryBackoffMaxMs: 1_000,
  outboxLeftoverCheckMs: 10_000,
} as const;

/** What one invocation did; the Lambda runtime ignores it, the local runner reports it. */
export interface BatchSummary {
  readonly messages: number;
  readonly committed: number;
  readonly deduplicated: number;
  readonly deadLettered: number;
  /** In-invocation retries of transient errors. */
  readonly retries: number;
  /** Messages processed without a key, so without an inbox claim (at-least-once; see `onMissingKey`). */
  readonly unkeyed?: number;
  /** Outbox messages published after the commits (this invocation's and any left behind). */
  readonly published?: number;
  /** Replies among them that RabbitMQ returned as unroutable (their caller is gone): dropped, logged (`outbox/replies.ts`). */
  readonly repliesDropped?: number;
}

/** The options with every default applied (what the message processor reads). */
export type ResolvedHandlerOptions<TBody> = HandlerOptions<TBody> & Required<Pick<HandlerSettings<TBody>, keyof typeof HANDLER_RUNTIME_DEFAULTS>>;

const KNOWN_OPTIONS = new Set(['handle', 'handleBatch', 'name', 'schema', 'inbox', 'key', 'onMissingKey', 'attempts', 'maxDeliveries', 'retryBackoffBaseMs', 'retryBackoffMaxMs', 'classify', 'deadLetter', 'connection', 'publisher', 'outboxLeftoverCheckMs']);
const COUNTS = { attempts: 1, maxDeliveries: 1, retryBackoffBaseMs: 0, retryBackoffMaxMs: 0, outboxLeftoverCheckMs: 0 } as const;

/**
 * Validates the options (unknown keys rejected, so a typo fails loudly) and applies the defaults; an option given as
 * `undefined` counts as not given. Throws `ConfigError` naming the option, what was expected and what was received.
 */
export function resolveHandlerOptions<TBody>(options: HandlerOptions<TBody>): ResolvedHandlerOptions<TBody> {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const field = (name: string) => `defineHandler({ ${name} })`;
  for (const key of Object.keys(given)) {
    if (!KNOWN_OPTIONS.has(key)) throw new ConfigError(field(key), `unknown option; expected one of ${[...KNOWN_OPTIONS].join(', ')}`);
  }
  if ((typeof given.handle === 'function') === (typeof given.handleBatch === 'function')) {
    throw new ConfigError(field('handle'), 'expected exactly one of handle(message, ctx) and handleBatch(messages, ctx)');
  }
  for (const [name, min] of Object.entries(COUNTS)) {
    const value = given[name];
    if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < min)) {
      throw new ConfigError(field(name), `expected a whole number >= ${min}, received ${JSON.stringify(value)}`);
    }
  }
  const policy = given.onMissingKey;
  if (policy !== undefined && !(Object.values(MISSING_KEY_POLICIES) as unknown[]).includes(policy)) {
    throw new ConfigError(field('onMissingKey'), `expected ${Object.values(MISSING_KEY_POLICIES).map((p) => `'${p}'`).join(', ')}, received ${JSON.stringify(policy)}`);
  }
  return { ...HANDLER_RUNTIME_DEFAULTS, ...given } as ResolvedHandlerOptions<TBody>;
}

export type RmqHandler = (event: RmqEvent, context?: InvocationContext) => Promise<BatchSummary>;
