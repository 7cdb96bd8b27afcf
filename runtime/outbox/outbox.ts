/**
 * The transactional outbox. `ctx.publish()` writes a row in the handler's own transaction; after the commit the rows
 * are published (with confirms) and marked sent. A publish before the commit could announce work that then rolls
 * back; a publish after it could be lost if the process died in between. The row closes both gaps, and the message id
 * (the incoming message's key + the publish's position) is deterministic, so a consumer's inbox drops any repeat.
 */
import type { Database, QueryFn } from '../db/ConnectionManager.js';
import type { OutgoingMessage, Publisher } from './Publisher.js';
import type { SentMarks } from './SentMarks.js';
import { checkLambdaBodySize } from '../payloadLimit.js';
import { ReplyNotAllowedError } from '../errors.js';
import { errorReplyBody, isDirectReplyTo, REPLY_ERROR_HEADER, replyCorrelationId, replyRoute, replyToOf, storedReply, storeReplies, type ReplySource, type StoredReply } from './replies.js';

/** Properties a handler may set on a published message. */
export interface PublishProperties {
  readonly headers?: Readonly<Record<string, string | number | boolean>>;
  readonly contentType?: string;
  readonly correlationId?: string;
  readonly type?: string;
  readonly priority?: number;
  readonly expiration?: string;
  /**
   * Makes the published message a request: where its reply goes. For a reply that must come back to a handler, use
   * `replyAddress(<that handler's exchange>, <routing key>)` (docs/request-and-reply.md, "Handler to handler").
   */
  readonly replyTo?: string;
}

/** `ctx.publish(exchange, routingKey, body, properties?)`: a Buffer is sent as is, anything else as JSON. */
export type PublishFn = (exchange: string, routingKey: string, body: unknown, properties?: PublishProperties) => Promise<void>;

/** Properties a handler may set on a reply (its correlation id is the request's). */
export type ReplyProperties = Omit<PublishProperties, 'correlationId' | 'replyTo'>;

/**
 * `ctx.reply(body, properties?)`: answers the request (its `reply_to`) once, through the outbox; a Buffer is sent as
 * is, anything else as JSON. Throws `ReplyNotAllowedError` when the message has no `reply_to` or was answered already.
 */
export type ReplyFn = (body: unknown, properties?: ReplyProperties) => Promise<void>;

interface StoredProperties {
  readonly headers?: Record<string, string | number | boolean>;
  readonly contentType?: string;
  readonly correlationId?: string;
  readonly type?: string;
  readonly priority?: number;
  readonly expiration?: string;
  readonly replyTo?: string;
  /** Set on replies: a reply no queue takes comes back (basic.return) and is dropped with a log line (replies.ts). */
  readonly mandatory?: boolean;
}

/** The message a follow-up is published for (what it inherits from). */
export interface PublishSource { readonly correlationId: string | null; readonly messageId: string | null; readonly headers: Readonly<Record<string, unknown>> }
export interface PublishDefaults { readonly correlationId: string | null; readonly traceparent: string | null }

/** What a follow-up inherits from the message that caused it: the correlation id and the W3C trace. */
export function publishDefaults(message: PublishSource): PublishDefaults {
  return {
    correlationId: message.correlationId ?? message.messageId,
    traceparent: typeof message.headers.traceparent === 'string' ? message.headers.traceparent : null,
  };
}

/**
 * Outbox rows written by one transaction, inserted with ONE multi-row statement just before its COMMIT (so a batch
 * that publishes a message per order costs one statement, not one per order).
 */
export class OutboxBuffer {
  private readonly rows: { exchange: string; routingKey: string; messageId: string; data: Buffer; stored: StoredProperties }[] = [];
  /** Replies to keep with the inbox, by message key (a retried request is answered from them). */
  private readonly replies = new Map<string, StoredReply>();
  /** The id of the first row once written (a multi-row INSERT's ids increase in row order). */
  private firstId = 0;

  /** `sourceQueue`: the shard queue of the message(s) this transaction handles. */
  public constructor(private readonly handler: string, private readonly sourceQueue: string) {}

  public get size(): number { return this.rows.length; }

  /**
   * A publish function for one incoming message: ids `<messageKey>/0`, `<messageKey>/1`, ... Its key and defaults are
   * given as functions, called on the first publish only (most messages publish nothing).
   */
  public writer(key: string | (() => string), source: PublishSource | (() => PublishDefaults)): PublishFn {
    let position = 0;
    let messageKey = '';
    let defaults: PublishDefaults = { correlationId: null, traceparent: null };
    return async (exchange, routingKey, body, properties = {}) => {
      if (position === 0) {
        messageKey = typeof key === 'string' ? key : key();
        defaults = typeof source === 'function' ? source() : publishDefaults(source);
      }
      const data = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
      // Refused here, in the handler's transaction, rather than poisoning the consumer: Lambda would drop it.
      checkLambdaBodySize(data, `ctx.publish('${exchange}', '${routingKey}', body): the body`);
      const headers = { ...properties.headers, ...(defaults.traceparent === null || properties.headers?.traceparent !== undefined ? {} : { traceparent: defaults.traceparent }) };
      const correlationId = properties.correlationId ?? defaults.correlationId ?? undefined;
      const stored: StoredProperties = {
        ...properties,
        headers,
        contentType: properties.contentType ?? (Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json'),
        ...(correlationId === undefined ? {} : { correlationId }),
      };
      this.rows.push({ exchange, routingKey, messageId: `${messageKey}/${position}`, data, stored });
      position += 1;
    };
  }

  /**
   * A reply function for one incoming message: one reply, id `<messageKey>/reply`, to the message's `reply_to`.
   * `storeKey`: the inbox key it is kept under (null: not kept, the request is answered once).
   */
  public replier(message: ReplySource & PublishSource, key: string | (() => string), storeKey: string | null): ReplyFn {
    let answered = false;
    return async (body, properties = {}) => {
      if (replyToOf(message) === null) {
        throw new ReplyNotAllowedError('it has no reply_to property, so no caller waits for an answer (a request carries reply_to: check message.properties.replyTo before replying, or send the result on with ctx.publish)');
      }
      if (answered) throw new ReplyNotAllowedError('it was answered already; a request gets one reply (call ctx.reply once per message)');
      const data = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
      checkLambdaBodySize(data, 'ctx.reply(body): the body');
      const { traceparent } = publishDefaults(message);
      const stored: StoredProperties = {
        ...properties,
        headers: { ...properties.headers, ...(traceparent === null || properties.headers?.traceparent !== undefined ? {} : { traceparent }) },
        contentType: properties.contentType ?? (Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json'),
      };
      const reply = { body: data, properties: JSON.stringify(stored) };
      this.addReply(message, typeof key === 'string' ? key : key(), reply);
      answered = true;
      if (storeKey !== null) this.replies.set(storeKey, reply);
    };
  }

  /** An error reply for a request Warren dead-lettered: header `warren-error` and body `{"error": reason}`. */
  public errorReply(message: ReplySource, key: string, storeKey: string | null, reason: string): void {
    const stored: StoredProperties = { headers: { [REPLY_ERROR_HEADER]: reason }, contentType: 'application/json' };
    const reply = { body: errorReplyBody(reason), properties: JSON.stringify(stored) };
    this.addReply(message, key, reply);
    if (storeKey !== null) this.replies.set(storeKey, reply);
  }

  /**
   * A retried request (its key was handled before): sends the reply kept for `key` (this transaction's, else the
   * stored one) to this message's `reply_to` with its correlation id. False when there is nothing to send.
   */
  public async resend(query: QueryFn, message: ReplySource, key: string): Promise<boolean> {
    if (replyToOf(message) === null) return false;
    const reply = this.replies.get(key) ?? await storedReply(query, this.handler, key);
    if (reply === undefined) return false;
    this.addReply(message, key, reply);
    return true;
  }

  private addReply(message: ReplySource, key: string, reply: StoredReply): void {
    const { exchange, routingKey } = replyRoute(replyToOf(message) ?? '');
    const correlationId = replyCorrelationId(message);
    const kept = JSON.parse(reply.properties) as StoredProperties;
    const isError = kept.headers?.[REPLY_ERROR_HEADER] !== undefined;
    const stored: StoredProperties = { ...kept, ...(correlationId === null ? {} : { correlationId }), ...(isDirectReplyTo(exchange, routingKey) ? {} : { mandatory: true }) };
    this.rows.push({ exchange, routingKey, messageId: `${key}/${isError ? 'error-reply' : 'reply'}`, data: reply.body, stored });
  }

  /** Inserts the buffered rows (in publish order, so ids follow it) and the replies to keep, in the caller's transaction. */
  public async write(query: QueryFn): Promise<void> {
    if (this.replies.size > 0) await storeReplies(query, this.handler, [...this.replies].map(([key, reply]) => ({ key, reply })));
    if (this.rows.length === 0) return;
    const { insertId } = await query(
      `INSERT INTO warren_outbox (handler, source_queue, exchange, routing_key, message_id, body, properties) VALUES ${this.rows.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      this.rows.flatMap((r) => [this.handler, this.sourceQueue, r.exchange, r.routingKey, r.messageId, r.data, JSON.stringify(r.stored)]),
    );
    this.firstId = insertId;
  }

  /** The rows as they are published, once the transaction that wrote them committed. */
  public committed(): CommittedRows {
    return { handler: this.handler, sourceQueue: this.sourceQueue, firstId: this.firstId, messages: this.rows.map((r) => toOutgoing(this.handler, r.exchange, r.routingKey, r.messageId, r.data, r.stored)) };
  }
}

/** Rows a committed transaction wrote, ready to publish without reading them back. */
export interface CommittedRows {
  readonly handler: string;
  readonly sourceQueue: string;
  readonly firstId: number;
  readonly messages: readonly OutgoingMessage[];
}

function toOutgoing(handler: string, exchange: string, routingKey: string, messageId: string, body: Buffer, stored: StoredProperties): OutgoingMessage {
  return { exchange, routingKey, body, properties: { ...stored, messageId, persistent: true, timestamp: Math.floor(Date.now() / 1000), appId: `warren:${handler}` } };
}

/**
 * The fast path after the commits of one invocation: publishes the rows its transactions wrote straight from memory,
 * then marks them all sent with ONE UPDATE (outside any transaction), so the bookkeeping costs one statement per
 * invocation, not one per message. Takes no lock, so shards never wait for each other. If the process dies after the
 * publish and before the UPDATE, the rows stay unsent and are published again by the next ordered flush or the relay:
 * a duplicate with the same message_id, which the consumer's inbox drops. A relay that publishes the same rows at the
 * same moment (only rows older than its minimum age) makes such a duplicate too. With `marks` deferred (the local
 * runner's workers), the UPDATE of one-row transactions rides along in a later transaction instead (`SentMarks.ts`).
 */
export async function publishCommitted(db: Database, publisher: Publisher, batches: readonly CommittedRows[], marks?: SentMarks): Promise<number> {
  const messages = batches.flatMap((b) => b.messages);
  if (messages.length === 0) return 0;
  await publisher.publish(messages);
  if (marks?.deferred !== true) {
    await markSent(db, batches);
    return messages.length;
  }
  // Deferred (`SentMarks`): a one-row transaction's row id is exactly its INSERT's id, so it is marked later by id
  // (point locks only); rows of a multi-row INSERT have no exact ids (auto-increment lock mode 2) and are marked now.
  const several: CommittedRows[] = [];
  for (const b of batches) {
    if (b.messages.length === 1 && b.firstId > 0) marks.add([b.firstId], b.sourceQueue);
    else if (b.messages.length > 1) several.push(b);
  }
  if (several.length > 0) await markSent(db, several);
  return messages.length;
}

/** One UPDATE for every row of `batches` (one handler): ids are known only from their first id, so the message ids pin them. */
async function markSent(db: Database, batches: readonly CommittedRows[]): Promise<void> {
  const byHandler = new Map<string, { firstId: number; ids: string[] }>();
  for (const b of batches) {
    if (b.messages.length === 0) continue;
    const entry = byHandler.get(b.handler) ?? { firstId: b.firstId, ids: [] };
    entry.firstId = Math.min(entry.firstId, b.firstId);
    for (const m of b.messages) entry.ids.push(String(m.properties.messageId));
    byHandler.set(b.handler, entry);
  }
  for (const [handler, { firstId, ids }] of byHandler) {
    await db.autocommit(
      `UPDATE warren_outbox SET sent_at = NOW(3) WHERE id >= ? AND handler = ? AND message_id IN (${ids.map(() => '?').join(', ')}) AND sent_at IS NULL`,
      [firstId, handler, ...ids],
    );
  }
}

interface OutboxRow {
  id: number;
  exchange: string;
  routing_key: string;
  message_id: string;
  body: Buffer;
  properties: string;
}

/**
 * The ordered path: publishes the handler's unsent rows (of one shard queue, or of all) in id order and marks them
 * sent, in one transaction that locks them, so two flushers never publish the same rows at once or out of order. An
 * invocation uses it for its own shard queue when its process has not flushed yet (rows a crashed predecessor left),
 * its last flush failed, or the leftover check is due; the relays use it for all shards, for rows older than
 * `minAgeMs` (younger ones belong to the live process of their shard, which publishes them itself). Rows younger than
 * `minAgeMs` are left to the invocation that wrote them. Returns how many were published.
 */
export async function flushOutbox(db: Database, publisher: Publisher, handler: string, options: { limit?: number; minAgeMs?: number; sourceQueue?: string } = {}): Promise<number> {
  const limit = options.limit ?? 500;
  const minAge = options.minAgeMs ?? 0;
  const shard = options.sourceQueue === undefined ? '' : ' AND source_queue = ?';
  const shardValues = options.sourceQueue === undefined ? [] : [options.sourceQueue];
  // A cheap look first (one statement, no transaction): most checks find nothing to do.
  const { rows: found } = await db.autocommit(`SELECT 1 AS unsent FROM warren_outbox WHERE handler = ?${shard} AND sent_at IS NULL LIMIT 1`, [handler, ...shardValues]);
  if (found.length === 0) return 0;
  let total = 0;
  for (;;) {
    const sent = await db.transaction(async (query) => {
      const { rows } = await query<OutboxRow>(
        `SELECT id, exchange, routing_key, message_id, body, properties FROM warren_outbox
          WHERE handler = ?${shard} AND sent_at IS NULL${minAge > 0 ? ' AND created_at < NOW(3) - INTERVAL ? MICROSECOND' : ''}
          ORDER BY id LIMIT ? FOR UPDATE`,
        [handler, ...shardValues, ...(minAge > 0 ? [minAge * 1000] : []), limit],
      );
      if (rows.length === 0) return 0;
      const messages = rows.map((r) => toOutgoing(handler, r.exchange, r.routing_key, r.message_id, r.body, JSON.parse(r.properties) as StoredProperties));
      await publisher.publish(messages);
      await query(`UPDATE warren_outbox SET sent_at = NOW(3) WHERE id IN (${rows.map(() => '?').join(', ')})`, rows.map((r) => r.id));
      return rows.length;
    });
    total += sent;
    if (sent < limit) return total;
  }
}

/** Deletes sent rows older than `olderThanSeconds`. */
export async function pruneOutbox(db: Database, olderThanSeconds: number): Promise<number> {
  const cutoff = new Date(Date.now() - olderThanSeconds * 1000);
  const { affectedRows } = await db.autocommit('DELETE FROM warren_outbox WHERE sent_at IS NOT NULL AND sent_at < ?', [cutoff]);
  return affectedRows;
}
