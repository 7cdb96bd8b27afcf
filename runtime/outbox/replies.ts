/**
 * Replies (`ctx.reply`): the wire rules, the error reply, the `warren_replies` rows a retried request is answered from,
 * and the count of replies RabbitMQ could not deliver. docs/request-and-reply.md explains the semantics.
 *
 * Wire contract (kept by the asking side, `request()`, too):
 * - A reply goes to the default exchange `""` with the request's `reply_to` as routing key (a named reply queue, or
 *   direct reply-to's `amq.rabbitmq.reply-to.<suffix>`). A `reply_to` of the form `/exchanges/<exchange>/<routing key>`
 *   (each part percent-encoded; RabbitMQ's AMQP 1.0 address format v2 spells exchanges the same way) goes to that
 *   exchange with that routing key instead: how one handler answers another through its consistent-hash exchange.
 * - `correlation_id` is the request's `correlation_id`, or its `message_id` when it has none.
 * - An error reply has the same correlation id, the string header `warren-error` holding the reason,
 *   `content_type: application/json` and the body `{"error": "<reason>"}`.
 * - Replies to a queue are published `mandatory`, so a reply that reaches no queue (its caller deleted it) comes back as
 *   `basic.return`: it is dropped with a log line and counted (`droppedReplies()`), never retried, so it cannot hold up
 *   the outbox. Replies to direct reply-to are published without `mandatory`: RabbitMQ 3.x returns every mandatory
 *   direct reply, delivered or not (measured on 3.10.8; RabbitMQ docs 3.13 "Direct Reply-to"), and 4.x never returns
 *   one (docs "Direct Reply-To", caveats), so a `basic.return` says nothing there. A direct reply whose caller has gone is
 *   dropped by the broker, unseen by Warren (RabbitMQ 4 counts it in `rabbitmq_global_messages_dead_lettered_maxlen_total`
 *   with `queue_type="rabbit_volatile_queue"`).
 */
import type { Message } from 'amqplib';
import type { QueryFn } from '../db/ConnectionManager.js';
import { ReplyNotAllowedError } from '../errors.js';
import { createLogger } from '../logger.js';
import { processSingleton } from '../processRegistry.js';

/** The header an error reply carries, holding the reason. */
export const REPLY_ERROR_HEADER = 'warren-error';

/** The prefix of a `reply_to` that names an exchange and a routing key instead of a queue. */
export const EXCHANGE_ADDRESS_PREFIX = '/exchanges/';

/** The part of a request a reply needs. */
export interface ReplySource {
  readonly messageId: string | null;
  readonly correlationId: string | null;
  readonly properties: { readonly replyTo?: string | null };
}

/** The request's `reply_to`, or null when it has none. */
export function replyToOf(message: ReplySource): string | null {
  const replyTo = message.properties?.replyTo;
  return typeof replyTo === 'string' && replyTo !== '' ? replyTo : null;
}

/** The reply's correlation id: the request's correlation id, else its message id. */
export function replyCorrelationId(message: ReplySource): string | null {
  return message.correlationId ?? message.messageId;
}

/**
 * A `reply_to` that sends the reply to `exchange` with `routingKey` (for a handler asking another handler: its own
 * exchange, keyed so the reply lands on the shard that owns the key, in order with the key's other messages).
 */
export function replyAddress(exchange: string, routingKey: string): string {
  return `${EXCHANGE_ADDRESS_PREFIX}${encodeURIComponent(exchange)}/${encodeURIComponent(routingKey)}`;
}

/** The prefix of the name RabbitMQ gives a direct reply-to caller (`amq.rabbitmq.reply-to.<suffix>`). */
export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

/** True for a reply to a direct reply-to caller (default exchange, `amq.rabbitmq.reply-to...` key). */
export function isDirectReplyTo(exchange: string, routingKey: string): boolean {
  return exchange === '' && routingKey.startsWith(DIRECT_REPLY_TO);
}

/** Where a reply to `replyTo` is published. */
export function replyRoute(replyTo: string): { readonly exchange: string; readonly routingKey: string } {
  if (!replyTo.startsWith(EXCHANGE_ADDRESS_PREFIX)) return { exchange: '', routingKey: replyTo };
  const rest = replyTo.slice(EXCHANGE_ADDRESS_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) throw new ReplyNotAllowedError(`its reply_to ${JSON.stringify(replyTo)} starts with "${EXCHANGE_ADDRESS_PREFIX}" but has no "/<routing key>" after the exchange; build it with replyAddress(exchange, routingKey)`);
  try {
    return { exchange: decodeURIComponent(rest.slice(0, slash)), routingKey: decodeURIComponent(rest.slice(slash + 1)) };
  } catch (error) {
    throw new ReplyNotAllowedError(`its reply_to ${JSON.stringify(replyTo)} is not percent-encoded; build it with replyAddress(exchange, routingKey)`, { cause: error });
  }
}

/** The reason an error reply carries (header and body), at most 1,000 characters. */
export function errorReason(error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  return reason.length <= 1_000 ? reason : `${reason.slice(0, 997)}...`;
}

/** The body of an error reply: `{"error": "<reason>"}`. */
export function errorReplyBody(reason: string): Buffer {
  return Buffer.from(JSON.stringify({ error: reason }));
}

/**
 * The error reply for a request, as one message to publish directly (not through the outbox): for the runner's set-aside
 * of a message Lambda would drop, which runs in no transaction. Undefined when the message is not a request.
 */
export function errorReplyMessage(message: ReplySource, reason: string): { exchange: string; routingKey: string; body: Buffer; properties: { correlationId?: string; contentType: string; headers: Record<string, string>; messageId?: string } } | undefined {
  const replyTo = replyToOf(message);
  if (replyTo === null) return undefined;
  const { exchange, routingKey } = replyRoute(replyTo);
  const correlationId = replyCorrelationId(message);
  return {
    exchange,
    routingKey,
    body: errorReplyBody(reason),
    properties: {
      contentType: 'application/json',
      headers: { [REPLY_ERROR_HEADER]: reason },
      ...(correlationId === null ? {} : { correlationId }),
      ...(message.messageId === null ? {} : { messageId: `${message.messageId}/error-reply` }),
    },
  };
}

/** A reply kept with the inbox: its body and properties, without the per-request routing and correlation id. */
export interface StoredReply {
  readonly body: Buffer;
  /** JSON of the reply's properties (headers, content type, ...). */
  readonly properties: string;
}

/** The reply stored for `key`, or undefined. Runs in the caller's transaction. */
export async function storedReply(query: QueryFn, handler: string, key: string): Promise<StoredReply | undefined> {
  const { rows } = await query<{ body: Buffer; properties: string }>('SELECT body, properties FROM warren_replies WHERE handler = ? AND message_key = ?', [handler, key]);
  const row = rows[0];
  return row === undefined ? undefined : { body: Buffer.from(row.body), properties: row.properties };
}

/** Stores replies in the caller's transaction (one statement); a later reply for the same key replaces the earlier. */
export async function storeReplies(query: QueryFn, handler: string, replies: readonly { readonly key: string; readonly reply: StoredReply }[]): Promise<void> {
  if (replies.length === 0) return;
  await query(
    `INSERT INTO warren_replies (handler, message_key, body, properties) VALUES ${replies.map(() => '(?, ?, ?, ?)').join(', ')}
      ON DUPLICATE KEY UPDATE body = VALUES(body), properties = VALUES(properties), created_at = CURRENT_TIMESTAMP(3)`,
    replies.flatMap((r) => [handler, r.key, r.reply.body, r.reply.properties]),
  );
}

const log = createLogger({ component: 'replies' });

/** The process's count of dropped replies (one counter however many copies of this module are loaded). */
function dropped(): { count: number } {
  return processSingleton('droppedReplies', () => ({ count: 0 }));
}

/** Replies this process published that RabbitMQ returned as unroutable (their caller's queue is gone), so far. */
export function droppedReplies(): number {
  return dropped().count;
}

/** A publishing channel's `return` listener: a returned reply is dropped, logged and counted; never published again. */
export function onReturnedMessage(message: Pick<Message, 'fields' | 'properties'>): void {
  dropped().count += 1;
  const properties = message.properties as { messageId?: unknown; correlationId?: unknown; appId?: unknown };
  const fields = message.fields as { exchange: string; routingKey: string; replyCode?: unknown; replyText?: unknown };
  log.warn('reply dropped: RabbitMQ could route it to no queue (the caller\'s reply queue is gone or its direct reply-to consumer closed); the caller\'s timeout answers it', {
    exchange: fields.exchange,
    routingKey: fields.routingKey,
    replyCode: typeof fields.replyCode === 'number' ? fields.replyCode : null,
    replyText: typeof fields.replyText === 'string' ? fields.replyText : null,
    messageId: typeof properties.messageId === 'string' ? properties.messageId : null,
    correlationId: typeof properties.correlationId === 'string' ? properties.correlationId : null,
    from: typeof properties.appId === 'string' ? properties.appId : null,
  });
}
