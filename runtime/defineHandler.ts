/**
 * `defineHandler()` turns a per-message function into a standard Lambda handler for an Amazon MQ for RabbitMQ trigger.
 *
 * ```ts
 * import { defineHandler } from '../runtime/index.js';
 *
 * export const handler = defineHandler<{ orderId: string }>({
 *   async handle(message, { query, log }) {
 *     await query('INSERT IGNORE INTO seen (id) VALUES (?)', [message.body.orderId]);
 *     log.debug('stored', { orderId: message.body.orderId });
 *   },
 * });
 * ```
 *
 * Each message runs in its own MySQL transaction on the process's one connection: COMMIT when `handle` resolves,
 * ROLLBACK when it throws. A throw fails the invocation, so the trigger (or the local runner) retries the batch whole.
 */
import type { ConnectionManagerOptions, QueryFn } from './ConnectionManager.js';
import { decodeEvent, type WarrenMessage } from './decode.js';
import type { InvocationContext, RmqEvent } from './event.js';
import { createLogger, errorFields, type Logger } from './logger.js';
import { processConnection } from './processConnection.js';

export interface HandlerContext {
  /** Runs a statement (`?` placeholders) inside this message's transaction. */
  readonly query: QueryFn;
  /** Logger whose lines carry the handler, queue, message id and correlation id. */
  readonly log: Logger;
}

export interface HandlerDefinition<TBody = unknown> {
  /**
   * Name used in logs.
   * @default process.env.WARREN_HANDLER ?? 'handler'
   */
  readonly name?: string;
  /** Handles one message inside its own transaction. Throw to roll back and fail the batch. */
  handle(message: WarrenMessage<TBody>, ctx: HandlerContext): Promise<void>;
  /** Options for the process's connection (used by the first handler that opens it). */
  readonly connection?: ConnectionManagerOptions;
}

/** What one invocation did; the Lambda runtime ignores it, the local runner reports it. */
export interface BatchSummary {
  readonly messages: number;
  readonly committed: number;
}

export type RmqHandler = (event: RmqEvent, context?: InvocationContext) => Promise<BatchSummary>;

export function defineHandler<TBody = unknown>(definition: HandlerDefinition<TBody>): RmqHandler {
  const name = definition.name ?? process.env.WARREN_HANDLER ?? 'handler';
  const baseLog = createLogger({ handler: name });
  return async (event, context) => {
    // The open connection must not keep the invocation waiting for an empty event loop.
    if (context !== undefined) context.callbackWaitsForEmptyEventLoop = false;
    const db = processConnection({ logger: baseLog.child({ component: 'mysql' }), ...definition.connection });
    const messages = decodeEvent(event) as WarrenMessage<TBody>[];
    let committed = 0;
    for (const message of messages) {
      const log = baseLog.child({ queue: message.queue, messageId: message.messageId, correlationId: message.correlationId });
      const started = Date.now();
      try {
        await db.transaction((query) => definition.handle(message, { query, log }));
      } catch (error) {
        log.error('message failed; the batch will be retried', { index: message.index, redelivered: message.redelivered, ...errorFields(error) });
        throw error;
      }
      committed += 1;
      log.debug('message committed', { durationMs: Date.now() - started });
    }
    return { messages: messages.length, committed };
  };
}
