/**
 * Batch mode: a handler that declares `handleBatch(messages, ctx)` gets the whole batch in ONE transaction, so it can
 * use multi-row statements. The inbox claims every key of the batch in that same transaction (one SELECT, one
 * multi-row INSERT), so the guarantees are those of per-message mode. If the batch transaction fails for any reason,
 * Warren rolls it back and processes the batch again message by message (`handleBatch([message])` each in its own
 * transaction), where a poison message is dead-lettered alone and transient errors are retried per message.
 */
import type { Database, QueryFn } from './db/ConnectionManager.js';
import { isReplayed } from './deadLetter/types.js';
import type { WarrenMessage } from './decode.js';
import { ConcurrentClaimError, UnknownPublishSourceError } from './errors.js';
import { errorFields, type Logger } from './logger.js';
import type { BatchContext, BatchPreparer, InvocationCounts, Keyed } from './invocation.js';
import { OutboxBuffer, type CommittedRows, type PublishFn, type ReplyFn } from './outbox/outbox.js';

export type BatchFunction<TBody> = (messages: WarrenMessage<TBody>[], ctx: BatchContext) => Promise<void>;

export type Prepared<TBody> = Keyed<TBody>;

/** Builds the context a batch function sees, for the given messages and their keys, on the given transaction. */
export function batchContext(query: QueryFn, outbox: OutboxBuffer, prepared: readonly Prepared<unknown>[], log: Logger, attempt: number, fallbackKey: (m: WarrenMessage) => string): BatchContext {
  const writers = new Map<WarrenMessage, PublishFn>();
  const repliers = new Map<WarrenMessage, ReplyFn>();
  for (const { message, key } of prepared) {
    const messageKey = key ?? (() => fallbackKey(message));
    writers.set(message, outbox.writer(messageKey, message));
    repliers.set(message, outbox.replier(message, messageKey, key));
  }
  return {
    reply: async (source, body, properties) => {
      const replier = repliers.get(source);
      if (replier === undefined) throw new UnknownPublishSourceError();
      await replier(body, properties);
    },
    query,
    log,
    attempt,
    publish: async (source, exchange, routingKey, body, properties) => {
      const writer = writers.get(source);
      if (writer === undefined) throw new UnknownPublishSourceError();
      await writer(exchange, routingKey, body, properties);
    },
  };
}

export interface BatchResult {
  readonly committed: number;
  readonly deduplicated: number;
  /** The outbox rows the transaction wrote, to publish after the commit. */
  readonly outbox: CommittedRows | undefined;
}

/**
 * Runs the prepared messages in one transaction. Resolves with what it did, or rejects (rolled back) so the caller can
 * fall back to per-message processing.
 */
export async function runBatchTransaction<TBody>(db: Database, handler: string, prepared: readonly Prepared<TBody>[], fn: BatchFunction<TBody>, log: Logger, fallbackKey: (m: WarrenMessage) => string): Promise<BatchResult> {
  return db.transaction(async (query) => {
    const keyed = prepared.filter((p) => p.key !== null);
    const keys = keyed.map((p) => p.key as string);
    const known = new Set<string>();
    if (keys.length > 0) {
      const { rows } = await query<{ message_key: string }>(
        `SELECT message_key FROM warren_inbox WHERE handler = ? AND message_key IN (${keys.map(() => '?').join(', ')})`,
        [handler, ...keys],
      );
      for (const r of rows) known.add(r.message_key);
    }
    const fresh: Prepared<TBody>[] = [];
    const repeated: Prepared<TBody>[] = [];
    const claimed = new Set<string>();
    for (const p of prepared) {
      if (p.key === null) { fresh.push(p); continue; }
      if (known.has(p.key) || claimed.has(p.key)) { repeated.push(p); continue; } // processed before, or twice in this batch
      claimed.add(p.key);
      fresh.push(p);
    }
    const deduplicated = prepared.length - fresh.length;
    const outbox = new OutboxBuffer(handler, prepared[0]?.message.queue ?? '');
    // A retried request gets the kept reply (one handled before: from warren_replies; twice in this batch: the first's).
    const resendAll = async () => { for (const p of repeated) await outbox.resend(query, p.message, p.key as string); };
    if (fresh.length === 0) {
      await resendAll();
      await outbox.write(query);
      return { committed: 0, deduplicated, outbox: outbox.size > 0 ? outbox.committed() : undefined };
    }
    if (claimed.size > 0) {
      const claimKeys = [...claimed];
      const inserted = await query(
        `INSERT IGNORE INTO warren_inbox (handler, message_key) VALUES ${claimKeys.map(() => '(?, ?)').join(', ')}`,
        claimKeys.flatMap((k) => [handler, k]),
      );
      if (inserted.affectedRows !== claimKeys.length) throw new ConcurrentClaimError();
      const redelivered = fresh.filter((p) => p.key !== null && p.message.redelivered).map((p) => p.key as string);
      if (redelivered.length > 0) {
        await query(`DELETE FROM warren_deliveries WHERE handler = ? AND message_key IN (${redelivered.map(() => '?').join(', ')})`, [handler, ...redelivered]);
      }
    }
    await fn(fresh.map((p) => p.message), batchContext(query, outbox, fresh, log, 1, fallbackKey));
    await resendAll();
    await outbox.write(query);
    return { committed: fresh.length, deduplicated, outbox: outbox.committed() };
  });
}

/**
 * Batch mode's first try: prepares every message (dead-lettering permanent failures at once), then runs the rest in
 * one transaction. Returns the messages still to process one by one: none when the batch committed, all the prepared
 * ones when its transaction failed and was rolled back (or when a replayed dead letter is among them).
 */
export async function processAsBatch<TBody>(processor: BatchPreparer<TBody>, db: Database, messages: readonly WarrenMessage<TBody>[], fn: BatchFunction<TBody>, counts: InvocationCounts, log: Logger): Promise<WarrenMessage<TBody>[]> {
  const prepared: Prepared<TBody>[] = [];
  for (const message of messages) {
    const p = await processor.prepare(db, message, processor.messageLog(message), counts);
    if (typeof p !== 'string') prepared.push(p);
    else if (p === 'dead-lettered') counts.deadLettered += 1;
    else counts.deduplicated += 1;
  }
  const rest = prepared.map((p) => p.message);
  if (prepared.some((p) => isReplayed(p.message))) return rest;
  const started = Date.now();
  try {
    const result = await runBatchTransaction(db, processor.handler, prepared, fn, log.child({ queue: messages[0]?.queue, batch: prepared.length }), processor.publishKey);
    counts.committed += result.committed;
    counts.deduplicated += result.deduplicated;
    processor.countUnkeyed(counts, prepared);
    if (result.outbox !== undefined) counts.outbox.push(result.outbox);
    log.debug('batch committed', { messages: prepared.length, committed: result.committed, durationMs: Date.now() - started });
    return [];
  } catch (error) {
    log.warn('batch transaction failed; processing the batch message by message', { messages: prepared.length, ...errorFields(error) });
    return rest;
  }
}
