/**
 * The types an invocation's parts share: what a message came to, the counts an invocation keeps, a message with its
 * inbox key, and the context a batch function sees. Their own file, so `MessageProcessor.ts`, `batchMode.ts` and
 * `handlerOptions.ts` import them without importing each other in a circle.
 */
import type { Database, QueryFn } from './db/ConnectionManager.js';
import type { WarrenMessage } from './decode.js';
import type { Logger } from './logger.js';
import type { CommittedRows, PublishProperties, ReplyProperties } from './outbox/outbox.js';

export type Outcome = 'committed' | 'deduplicated' | 'dead-lettered';

/** What an invocation did so far (the `BatchSummary` figures, plus the outbox rows its commits wrote). */
export interface InvocationCounts {
  committed: number;
  deduplicated: number;
  deadLettered: number;
  retries: number;
  unkeyed: number;
  readonly outbox: CommittedRows[];
}

export function newCounts(): InvocationCounts {
  return { committed: 0, deduplicated: 0, deadLettered: 0, retries: 0, unkeyed: 0, outbox: [] };
}

/** A message with its inbox key (null: no claim, at-least-once). */
export interface Keyed<TBody> {
  readonly message: WarrenMessage<TBody>;
  readonly key: string | null;
}

export interface BatchContext {
  /** Runs a statement (`?` placeholders) inside the batch's transaction. */
  readonly query: QueryFn;
  readonly log: Logger;
  /** 1 for the batch transaction; per-message fallback calls get 1, 2, ... like `handle`. */
  readonly attempt: number;
  /** Publishes a follow-up for `source` through the outbox; its message_id is `<source's key>/<n>`. */
  publish(source: WarrenMessage, exchange: string, routingKey: string, body: unknown, properties?: PublishProperties): Promise<void>;
  /** Answers the request `source` (see `HandlerContext.reply`): once per message of the batch that has a `reply_to`. */
  reply(source: WarrenMessage, body: unknown, properties?: ReplyProperties): Promise<void>;
}

/** What batch mode needs of the per-message processor (`MessageProcessor` is one). */
export interface BatchPreparer<TBody> {
  readonly handler: string;
  readonly publishKey: (message: WarrenMessage) => string;
  prepare(db: Database, message: WarrenMessage<TBody>, log: Logger, counts?: InvocationCounts): Promise<Keyed<TBody> | Outcome>;
  messageLog(message: WarrenMessage): Logger;
  countUnkeyed(counts: InvocationCounts, keyed: readonly Keyed<TBody>[]): void;
}
