/**
 * Reading and replaying a RabbitMQ dead-letter queue (`<queue>.dlq`). Listing browses without consuming (messages are
 * taken unacked, then all returned in order); replay publishes chosen letters back to their source shard queue with
 * publisher confirms and a `x-warren-replayed-at` header (so the inbox lets them through once), then acks them.
 */
import amqp, { type GetMessage } from 'amqplib';
import { DEAD_LETTER_HEADERS as H } from '../runtime/deadLetter/types.js';

export interface DeadLetterEntry {
  readonly index: number;
  readonly messageId: string | null;
  readonly messageKey: string | null;
  readonly sourceQueue: string;
  readonly errorClass: string;
  readonly reason: string;
  readonly kind: string;
  readonly deliveries: number;
  readonly deadLetteredAt: string;
  readonly body: string;
}

function header(msg: GetMessage, name: string): string {
  const value: unknown = msg.properties.headers?.[name];
  return value === undefined || value === null ? '' : Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

function toEntry(msg: GetMessage, index: number): DeadLetterEntry {
  return {
    index,
    messageId: (msg.properties.messageId as string | undefined) ?? null,
    messageKey: header(msg, H.messageKey) || null,
    sourceQueue: header(msg, H.sourceQueue),
    errorClass: header(msg, H.errorClass),
    reason: header(msg, H.errorMessage),
    kind: header(msg, H.errorKind),
    deliveries: Number(header(msg, H.deliveries) || 0),
    deadLetteredAt: header(msg, H.deadLetteredAt),
    body: msg.content.toString('utf8').slice(0, 500),
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
 * Replays the dead letters that `select` picks (all by default) to their source queues; the rest stay. Returns what was
 * replayed.
 */
export async function replayDeadLetters(url: string, queue: string, select: (entry: DeadLetterEntry) => boolean = () => true, limit = 100_000): Promise<DeadLetterEntry[]> {
  return withQueue(url, queue, async (take, channel) => {
    const replayed: DeadLetterEntry[] = [];
    const keep: GetMessage[] = [];
    for (let i = 0; i < limit; i += 1) {
      const msg = await take();
      if (msg === false) break;
      const entry = toEntry(msg, i);
      if (!select(entry) || entry.sourceQueue === '') {
        keep.push(msg);
        continue;
      }
      const headers: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(msg.properties.headers ?? {})) if (!k.startsWith('x-warren-')) headers[k] = v;
      headers[H.replayedAt] = new Date().toISOString();
      channel.sendToQueue(entry.sourceQueue, msg.content, { ...msg.properties, headers, persistent: true });
      await channel.waitForConfirms();
      channel.ack(msg);
      replayed.push(entry);
    }
    for (const msg of keep) channel.nack(msg, false, true);
    return replayed;
  });
}
