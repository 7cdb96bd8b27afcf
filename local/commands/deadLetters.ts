/**
 * Reading and replaying a RabbitMQ dead-letter queue (`<queue>.dlq`). It holds two kinds of letters:
 * - Warren's own (a permanent error, or `maxDeliveries` failed deliveries): the reason is in `x-warren-*` headers;
 *   replay publishes them back to their source shard queue.
 * - the broker's (a message returned to its shard queue more than the queue's `x-delivery-limit`, e.g. because its
 *   worker crashed on it every time or the database was unreachable): the reason is in RabbitMQ's `x-death` /
 *   `x-first-death-*` headers; replay publishes them to the exchange they were first published to, with their original
 *   routing key, so they land on the shard their key hashes to.
 * Listing browses without consuming (messages are taken unacked, then all returned in order). Replay uses publisher
 * confirms and adds a `x-warren-replayed-at` header (so the inbox lets a dead-lettered key through once), then acks.
 */
import amqp, { type GetMessage } from 'amqplib';
import { DEAD_LETTER_HEADERS as H } from '../../runtime/deadLetter/types.js';
import { WarrenError } from '../../runtime/errors.js';

export interface DeadLetterEntry {
  readonly index: number;
  readonly messageId: string | null;
  readonly messageKey: string | null;
  /** The shard queue it was dead-lettered from. */
  readonly sourceQueue: string;
  /** Warren's error class, or `BrokerDeadLetter` for a letter the broker dead-lettered. */
  readonly errorClass: string;
  readonly reason: string;
  /** Warren's error kind (`permanent`, `transient`, ...), or `broker`. */
  readonly kind: string;
  /** Failed deliveries as Warren counted them; 0 for the broker's letters (the broker does not say). */
  readonly deliveries: number;
  readonly deadLetteredAt: string;
  readonly body: string;
  /** Where replay publishes it: the source shard queue (Warren's letters) or the original exchange and key (the broker's). */
  readonly replayTo: { readonly exchange: string; readonly routingKey: string };
}

/** Headers RabbitMQ adds when it dead-letters; a replay leaves them out so the message starts afresh. */
const BROKER_HEADERS = ['x-death', 'x-first-death-reason', 'x-first-death-queue', 'x-first-death-exchange', 'x-last-death-reason', 'x-last-death-queue', 'x-last-death-exchange', 'x-delivery-count'];

function header(msg: GetMessage, name: string): string {
  const value: unknown = msg.properties.headers?.[name];
  return value === undefined || value === null ? '' : Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

interface XDeath { readonly reason?: unknown; readonly queue?: unknown; readonly exchange?: unknown; readonly time?: unknown; readonly count?: unknown; readonly 'routing-keys'?: unknown }

function firstDeath(msg: GetMessage): XDeath | undefined {
  const deaths: unknown = msg.properties.headers?.['x-death'];
  return Array.isArray(deaths) && deaths.length > 0 ? deaths[deaths.length - 1] as XDeath : undefined;
}

const text = (value: unknown): string => (Buffer.isBuffer(value) ? value.toString('utf8') : typeof value === 'string' ? value : '');

/** What RabbitMQ's dead-letter reasons mean for a Warren shard queue. */
const BROKER_REASONS: Readonly<Record<string, string>> = {
  delivery_limit: 'returned to its shard queue more often than the queue\'s x-delivery-limit (the handler\'s deliveryLimit) without Warren counting the failures: its worker crashed or timed out on it, or the database was unreachable',
  rejected: 'rejected by a consumer without requeue',
  expired: 'its TTL expired',
  maxlen: 'the queue was over its length limit',
};

function toEntry(msg: GetMessage, index: number): DeadLetterEntry {
  const common = { index, messageId: (msg.properties.messageId as string | undefined) ?? null, body: msg.content.toString('utf8').slice(0, 500) };
  const death = firstDeath(msg);
  if (header(msg, H.sourceQueue) === '' && death !== undefined) {
    const reason = header(msg, 'x-first-death-reason') || text(death.reason);
    const keys = Array.isArray(death['routing-keys']) ? death['routing-keys'].map(text) : [];
    const time = death.time as { value?: unknown } | number | undefined;
    const seconds = typeof time === 'number' ? time : typeof time?.value === 'number' ? time.value : undefined;
    return {
      ...common,
      messageKey: keys[0] ?? null,
      sourceQueue: header(msg, 'x-first-death-queue') || text(death.queue),
      errorClass: 'BrokerDeadLetter',
      reason: `${reason}: ${BROKER_REASONS[reason] ?? 'dead-lettered by RabbitMQ'}`,
      kind: 'broker',
      deliveries: 0,
      deadLetteredAt: seconds === undefined ? '' : new Date(seconds * 1000).toISOString(),
      replayTo: { exchange: header(msg, 'x-first-death-exchange') || text(death.exchange), routingKey: keys[0] ?? '' },
    };
  }
  const sourceQueue = header(msg, H.sourceQueue);
  return {
    ...common,
    messageKey: header(msg, H.messageKey) || null,
    sourceQueue,
    errorClass: header(msg, H.errorClass),
    reason: header(msg, H.errorMessage),
    kind: header(msg, H.errorKind),
    deliveries: Number(header(msg, H.deliveries) || 0),
    deadLetteredAt: header(msg, H.deadLetteredAt),
    replayTo: { exchange: '', routingKey: sourceQueue },
  };
}

async function withQueue<T>(url: string, queue: string, fn: (take: () => Promise<GetMessage | false>, channel: amqp.ConfirmChannel) => Promise<T>): Promise<T> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createConfirmChannel();
    await channel.checkQueue(queue);
    const result = await fn(() => channel.get(queue, { noAck: false }), channel);
    await channel.close();
    return result;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Lists up to `limit` dead letters without removing them. */
export async function listDeadLetters(url: string, queue: string, limit = 1_000): Promise<DeadLetterEntry[]> {
  return withQueue(url, queue, async (take, channel) => {
    const entries: DeadLetterEntry[] = [];
    for (let i = 0; i < limit; i += 1) {
      const msg = await take();
      if (msg === false) break;
      entries.push(toEntry(msg, i));
    }
    channel.nackAll(true);
    return entries;
  });
}

/**
 * Replays the dead letters that `select` picks (all by default) to their source queue (Warren's letters) or original
 * exchange and routing key (the broker's); the rest stay. Returns what was replayed.
 */
export async function replayDeadLetters(url: string, queue: string, select: (entry: DeadLetterEntry) => boolean = () => true, limit = 100_000): Promise<DeadLetterEntry[]> {
  return withQueue(url, queue, async (take, channel) => {
    const replayed: DeadLetterEntry[] = [];
    const keep: GetMessage[] = [];
    for (let i = 0; i < limit; i += 1) {
      const msg = await take();
      if (msg === false) break;
      const entry = toEntry(msg, i);
      if (!select(entry) || entry.replayTo.routingKey === '') {
        keep.push(msg);
        continue;
      }
      const headers: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(msg.properties.headers ?? {})) if (!k.startsWith('x-warren-') && !BROKER_HEADERS.includes(k)) headers[k] = v;
      headers[H.replayedAt] = new Date().toISOString();
      // mandatory: a letter whose exchange or queue is gone comes back (basic.return) instead of vanishing.
      let returned = false;
      const onReturn = () => { returned = true; };
      channel.once('return', onReturn);
      channel.publish(entry.replayTo.exchange, entry.replayTo.routingKey, msg.content, { ...msg.properties, headers, persistent: true, mandatory: true });
      await channel.waitForConfirms();
      channel.removeListener('return', onReturn);
      if (returned) throw new WarrenError(`dead letter ${entry.messageId ?? `#${entry.index}`} could not be routed to ${entry.replayTo.exchange === '' ? `queue "${entry.replayTo.routingKey}"` : `exchange "${entry.replayTo.exchange}" with key "${entry.replayTo.routingKey}"`}; start the runner once (it declares the topology) and replay again`);
      channel.ack(msg);
      replayed.push(entry);
    }
    for (const msg of keep) channel.nack(msg, false, true);
    return replayed;
  });
}
