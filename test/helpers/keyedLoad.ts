/**
 * Keyed load for the concurrency-change tests: messages `<key>:<seq>` (message_id = body id = the id, routing key =
 * the key) published in rounds (one message per key per round), and the per-key order analysis of what the counter
 * fixture applied (its `applied` log names the shard queue each message came from).
 */
import amqp from 'amqplib';
import type { RowDataPacket } from 'mysql2/promise';
import { AMQP_URL, type TestDatabase } from './services.js';

export interface KeyedPublisher {
  /** Publishes one round (one message per key, seq = round number); resolves once the broker confirmed it. */
  round(): Promise<void>;
  /** Publishes rounds back to back every `intervalMs` until `stop()`; resolves with the rounds published. */
  run(intervalMs: number): { stop(): Promise<number> };
  readonly published: number;
  close(): Promise<void>;
}

export async function keyedPublisher(exchange: string, keys: readonly string[]): Promise<KeyedPublisher> {
  const connection = await amqp.connect(AMQP_URL);
  const channel = await connection.createConfirmChannel();
  let rounds = 0;
  const publisher: KeyedPublisher = {
    get published() { return rounds * keys.length; },
    async round() {
      const seq = rounds;
      for (const key of keys) {
        const id = `${key}:${seq}`;
        channel.publish(exchange, key, Buffer.from(JSON.stringify({ id })), { persistent: true, messageId: id });
      }
      await channel.waitForConfirms();
      rounds += 1;
    },
    run(intervalMs) {
      let running = true;
      const loop = (async () => {
        while (running) {
          await publisher.round().catch(() => { running = false; }); // the channel closed under it (a failed test's cleanup)
          await new Promise((r) => setTimeout(r, intervalMs));
        }
      })();
      return { async stop() { running = false; await loop; return rounds; } };
    },
    async close() {
      await channel.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
    },
  };
  return publisher;
}

export interface AppliedRow { readonly key: string; readonly seq: number; readonly queue: string; readonly at: Date }

/** What the counter fixture applied, in the order it applied it. */
export async function appliedRows(db: TestDatabase): Promise<AppliedRow[]> {
  const rows = await db.query<RowDataPacket[]>('SELECT message_id, queue, at FROM $db.applied ORDER BY seq');
  return rows.map((r) => {
    const [key, seq] = String(r.message_id).split(':');
    return { key: key!, seq: Number(seq), queue: String(r.queue), at: r.at as Date };
  });
}

/** A message applied after a message of the same key with a higher seq: `late` came from `lateQueue`, after `early`. */
export interface Reordering { readonly key: string; readonly late: number; readonly lateQueue: string; readonly overtakenBy: number; readonly overtakerQueue: string }

/** Every message applied after a higher-seq message of its key had been applied, with the queue of each. */
export function reorderings(rows: readonly AppliedRow[]): Reordering[] {
  const highest = new Map<string, AppliedRow>();
  const out: Reordering[] = [];
  for (const row of rows) {
    const top = highest.get(row.key);
    if (top !== undefined && top.seq > row.seq) out.push({ key: row.key, late: row.seq, lateQueue: row.queue, overtakenBy: top.seq, overtakerQueue: top.queue });
    if (top === undefined || row.seq > top.seq) highest.set(row.key, row);
  }
  return out;
}

/** The shard queues each key's messages were applied from. */
export function queuesByKey(rows: readonly AppliedRow[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const row of rows) out.set(row.key, (out.get(row.key) ?? new Set()).add(row.queue));
  return out;
}
