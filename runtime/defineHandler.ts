/**
 * `defineHandler()` turns a per-message function into a standard Lambda handler for an Amazon MQ for RabbitMQ trigger.
 *
 * ```ts
 * import { z } from 'zod';
 * import { defineHandler } from '../runtime/index.js';
 *
 * export const handler = defineHandler({
 *   schema: z.object({ orderId: z.string(), quantity: z.number().int().positive() }),
 *   async handle(message, { query }) {
 *     // message.body is typed from the schema; query() runs inside this message's transaction
 *     await query('INSERT INTO orders (order_id, quantity) VALUES (?, ?)', [message.body.orderId, message.body.quantity]);
 *   },
 * });
 * ```
 *
 * Each message runs in its own MySQL transaction on the process's one connection, with its key claimed in the inbox in
 * that same transaction (exactly-once effects). Permanent failures go to the dead-letter queue and the batch carries
 * on; transient ones are retried here, then the batch fails so the broker redelivers it; a message that fails on
 * `maxDeliveries` deliveries is dead-lettered so it cannot block its queue.
 */
import { backoffDelay, sleep } from './backoff.js';
import { classifyError } from './classify.js';
import type { ConnectionManager } from './ConnectionManager.js';
import { deadLetterSinkFromEnv } from './deadLetter/fromEnv.js';
import { isReplayed } from './deadLetter/types.js';
import { decodeEvent, setBody, type WarrenMessage } from './decode.js';
import { DeadLetterError } from './errors.js';
import { claim, inboxOutcome, markDeadLettered, messageKey, recordFailure } from './inbox.js';
import { createLogger, errorFields, type Logger } from './logger.js';
import { processConnection } from './processConnection.js';
import { validateBody } from './validate.js';
import { batchContext, runBatchTransaction, type BatchFunction, type Prepared } from './batchMode.js';
import { flushOutbox, OutboxBuffer, publishCommitted, publishDefaults, type CommittedRows } from './outbox/outbox.js';
import { processPublisher } from './outbox/Publisher.js';
import { ensureWarrenTables } from './warrenTables.js';
import { withInvocationMetrics } from './emf.js';
import { traceFields } from './traceparent.js';
import { HANDLER_RUNTIME_DEFAULTS, type HandlerOptions, type RmqHandler } from './handlerOptions.js';
import { currentHandlerScope, ENV, envValue } from './env.js';

export { HANDLER_RUNTIME_DEFAULTS } from './handlerOptions.js';
export type { BatchSummary, HandlerContext, HandlerFunctions, HandlerOptions, HandlerSettings, RmqHandler } from './handlerOptions.js';

type Outcome = 'committed' | 'deduplicated' | 'dead-lettered';

export function defineHandler<TBody = unknown>(options: HandlerOptions<TBody>): RmqHandler {
  const o = { ...HANDLER_RUNTIME_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as HandlerOptions<TBody> & typeof HANDLER_RUNTIME_DEFAULTS;
  // One module may serve several handlers of warren.config.ts in a shared-pool worker: the name (inbox, logs, dead
  // letters) is the invocation's, and so is the per-handler state below.
  const bound = new Map<string, RmqHandler>();
  return (event, context) => {
    const name = options.name ?? currentHandlerScope()?.handler ?? envValue(ENV.handler) ?? 'handler';
    let handler = bound.get(name);
    if (handler === undefined) {
      handler = bindHandler(name, options, o);
      bound.set(name, handler);
    }
    return handler(event, context);
  };
}

function bindHandler<TBody>(name: string, options: HandlerOptions<TBody>, o: HandlerOptions<TBody> & typeof HANDLER_RUNTIME_DEFAULTS): RmqHandler {
  const baseLog = createLogger({ handler: name });
  let lastLeftoverCheck = Date.now();
  /** Rows a crashed predecessor (or a failed flush) may have left: flush in order, under lock, before the fast path. */
  let orderedFlushNeeded = true;

  async function deadLetter(db: ConnectionManager, message: WarrenMessage, key: string | null, error: unknown, deliveries: number, log: Logger): Promise<Outcome> {
    if (o.inbox && key !== null) {
      // Already handled, or already dead-lettered by an earlier delivery: don't write a second letter. A replay that
      // fails again is dead-lettered again.
      const known = await inboxOutcome(db, name, key);
      const replayed = isReplayed(message);
      if (known === 'processed' || (known === 'dead-lettered' && !replayed)) return 'deduplicated';
    }
    const sink = o.deadLetter ?? deadLetterSinkFromEnv();
    const err = error instanceof Error ? error : new Error(String(error));
    if (sink === undefined) {
      throw new DeadLetterError(`No dead-letter queue is configured for handler "${name}", so a permanent failure (${err.message}) cannot be set aside; set WARREN_DLQ_URL (SQS) or WARREN_DLQ_AMQP_URL and WARREN_DLQ_QUEUE`, { cause: error });
    }
    try {
      await sink.send({
        handler: name,
        sourceQueue: message.queue,
        vhost: message.vhost,
        messageKey: key,
        data: message.data,
        properties: message.properties,
        error: { name: err.name, message: err.message, kind: classifyError(error, o.classify) },
        deliveries,
        deadLetteredAt: new Date().toISOString(),
      });
    } catch (sendError) {
      throw new DeadLetterError(`Could not write to the dead-letter queue (${sink.destination}): ${(sendError as Error).message}`, { cause: sendError });
    }
    if (o.inbox && key !== null) await markDeadLettered(db, name, key);
    log.error('message dead-lettered', { reason: err.message, errorClass: err.name, deliveries, to: sink.destination });
    return 'dead-lettered';
  }

  /** Finds the inbox key and validates the body; a permanent problem dead-letters the message at once. */
  async function prepare(db: ConnectionManager, message: WarrenMessage<TBody>, log: Logger): Promise<{ key: string | null } | { outcome: Outcome }> {
    let key: string | null = null;
    try {
      if (o.inbox) key = messageKey(message, o.key, o.onMissingKey);
      if (o.schema !== undefined) setBody(message, await validateBody(o.schema, message.body));
      return { key };
    } catch (error) {
      if (classifyError(error, o.classify) === 'permanent') return { outcome: await deadLetter(db, message, key, error, 1, log) };
      throw error;
    }
  }

  const fallbackKey = (m: WarrenMessage) => messageKey(m, o.key, o.onMissingKey);

  async function processOne(db: ConnectionManager, message: WarrenMessage<TBody>, log: Logger, counts: { retries: number; outbox: CommittedRows[] }): Promise<Outcome> {
    const prepared = await prepare(db, message, log);
    if ('outcome' in prepared) return prepared.outcome;
    const { key } = prepared;
    const replayed = isReplayed(message);
    for (let attempt = 1; ; attempt += 1) {
      const attemptLog = log.child({ attempt });
      const started = Date.now();
      let written: CommittedRows | undefined;
      try {
        const outcome = await db.transaction(async (query): Promise<Outcome> => {
          if (key !== null && !(await claim(query, name, key, replayed))) return 'deduplicated';
          if (key !== null && message.redelivered) await query('DELETE FROM warren_deliveries WHERE handler = ? AND message_key = ?', [name, key]);
          const outbox = new OutboxBuffer(name, message.queue);
          if (o.handleBatch !== undefined) {
            await o.handleBatch([message], batchContext(query, outbox, [{ message, key }], attemptLog, attempt, fallbackKey));
          } else {
            const publish = outbox.writer(key ?? fallbackKey(message), publishDefaults(message));
            await o.handle(message, { query, log: attemptLog, attempt, publish });
          }
          await outbox.write(query);
          written = outbox.size > 0 ? outbox.committed() : undefined;
          return 'committed';
        });
        if (written !== undefined) counts.outbox.push(written);
        return outcome;
      } catch (error) {
        if (classifyError(error, o.classify) === 'permanent') return deadLetter(db, message, key, error, 1, attemptLog);
        if (attempt < o.attempts) {
          const delay = backoffDelay(attempt - 1, o.retryBackoffBaseMs, o.retryBackoffMaxMs);
          attemptLog.warn('transient failure; retrying the message', { retryInMs: delay, durationMs: Date.now() - started, ...errorFields(error) });
          counts.retries += 1;
          await sleep(delay);
          continue;
        }
        if (key !== null) {
          let failures: number;
          try {
            failures = await recordFailure(db, name, key, error instanceof Error ? `${error.name}: ${error.message}` : String(error));
          } catch {
            throw error; // the database itself is unreachable: let the batch be redelivered
          }
          if (failures >= o.maxDeliveries) return deadLetter(db, message, key, error, failures, attemptLog);
          attemptLog.error('message failed on this delivery; the batch will be redelivered', { failures, maxDeliveries: o.maxDeliveries, durationMs: Date.now() - started, ...errorFields(error) });
        } else {
          attemptLog.error('message failed; the batch will be redelivered', { durationMs: Date.now() - started, ...errorFields(error) });
        }
        throw error;
      }
    }
  }

  return withInvocationMetrics(name, async (event, context) => {
    // The open connection must not keep the invocation waiting for an empty event loop.
    if (context !== undefined) context.callbackWaitsForEmptyEventLoop = false;
    const db = processConnection({ logger: baseLog.child({ component: 'mysql' }), ...options.connection });
    await ensureWarrenTables(db);
    const messages = decodeEvent(event) as WarrenMessage<TBody>[];
    const counts = { committed: 0, deduplicated: 0, deadLettered: 0, retries: 0, outbox: [] as CommittedRows[] };
    try {
      const oneByOne = o.handleBatch !== undefined && messages.length > 1 ? await processAsBatch(db, messages, o.handleBatch, counts) : messages;
      for (const message of oneByOne) {
        const log = baseLog.child({ queue: message.queue, messageId: message.messageId, correlationId: message.correlationId, ...traceFields(message.headers) });
        const started = Date.now();
        const outcome = await processOne(db, message, log, counts);
        if (outcome === 'committed') counts.committed += 1;
        else if (outcome === 'deduplicated') counts.deduplicated += 1;
        else counts.deadLettered += 1;
        log.debug(`message ${outcome}`, { durationMs: Date.now() - started });
      }
    } catch (error) {
      // Messages committed before the failure still announce their work now, not at the next flush.
      if (counts.outbox.length > 0) await flushAfterCommit(db, counts.outbox, messages);
      throw error;
    }
    const published = await flushAfterCommit(db, counts.outbox, messages);
    const { outbox: _outbox, ...summary } = counts;
    return { messages: messages.length, ...summary, published };
  }); // one EMF line per invocation on Lambda (emf.ts)

  /**
   * Batch mode: prepares every message (dead-lettering permanent failures at once), then runs the rest in one
   * transaction. Returns the messages still to process one by one: none when the batch committed, all the prepared
   * ones when its transaction failed and was rolled back (or when a replayed dead letter is among them).
   */
  async function processAsBatch(db: ConnectionManager, messages: WarrenMessage<TBody>[], fn: BatchFunction<TBody>, counts: { committed: number; deduplicated: number; deadLettered: number; outbox: CommittedRows[] }): Promise<WarrenMessage<TBody>[]> {
    const prepared: Prepared<TBody>[] = [];
    for (const message of messages) {
      const p = await prepare(db, message, baseLog.child({ queue: message.queue, messageId: message.messageId }));
      if (!('outcome' in p)) prepared.push({ message, key: p.key });
      else if (p.outcome === 'dead-lettered') counts.deadLettered += 1;
      else counts.deduplicated += 1;
    }
    const rest = prepared.map((p) => p.message);
    if (prepared.some((p) => isReplayed(p.message))) return rest;
    const started = Date.now();
    try {
      const result = await runBatchTransaction(db, name, prepared, fn, baseLog.child({ queue: messages[0]?.queue, batch: prepared.length }), fallbackKey);
      counts.committed += result.committed;
      counts.deduplicated += result.deduplicated;
      if (result.outbox !== undefined) counts.outbox.push(result.outbox);
      baseLog.debug('batch committed', { messages: prepared.length, committed: result.committed, durationMs: Date.now() - started });
      return [];
    } catch (error) {
      baseLog.warn('batch transaction failed; processing the batch message by message', { messages: prepared.length, ...errorFields(error) });
      return rest;
    }
  }

  /**
   * Publishes this invocation's outbox rows after their commits: from memory, without a lock (the fast path), or, when
   * this process has not flushed yet, its last flush failed, or the leftover check is due, every unsent row of the
   * handler in id order under lock. A failure is logged, never thrown: the rows stay for a later flush or the relay.
   */
  async function flushAfterCommit(db: ConnectionManager, written: readonly CommittedRows[], messages: readonly WarrenMessage[]): Promise<number> {
    const now = Date.now();
    const leftoverDue = now - lastLeftoverCheck >= o.outboxLeftoverCheckMs;
    if (written.length === 0 && !leftoverDue && !orderedFlushNeeded) return 0;
    const publisher = o.publisher ?? processPublisher();
    try {
      if (orderedFlushNeeded || leftoverDue) {
        lastLeftoverCheck = now;
        let published = 0;
        // Only this invocation's shard queues: no other live process flushes them, so nothing is published twice.
        for (const sourceQueue of new Set(messages.map((m) => m.queue))) published += await flushOutbox(db, publisher, name, { sourceQueue });
        orderedFlushNeeded = false;
        return published;
      }
      return await publishCommitted(db, publisher, written);
    } catch (error) {
      orderedFlushNeeded = true;
      baseLog.warn('outbox flush failed; the rows stay and are published by a later invocation or the relay', errorFields(error));
      return 0;
    }
  }
}
