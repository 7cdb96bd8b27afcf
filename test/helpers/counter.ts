/** The non-idempotent counter fixture (test/fixtures/counter.ts): its tables, its messages, its gate, its totals. */
import type { RowDataPacket } from 'mysql2/promise';
import { publishRaw } from './amqp.js';
import { waitFor, type TestDatabase } from './services.js';

export const COUNTER_ENTRY = 'test/fixtures/counter.ts';

export async function createCounterTables(db: TestDatabase): Promise<void> {
  await db.query('CREATE TABLE $db.counters (id INT PRIMARY KEY, n INT NOT NULL)');
  await db.query('INSERT INTO $db.counters VALUES (1, 0)');
  await db.query('CREATE TABLE $db.applied (seq INT AUTO_INCREMENT PRIMARY KEY, message_id VARCHAR(64) NOT NULL, queue VARCHAR(255) NULL, at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))');
}

/** What the handler did: the counter, the log rows, the distinct ids among them. */
export async function counterState(db: TestDatabase): Promise<{ n: number; applied: number; distinct: number }> {
  const [counter] = await db.query<RowDataPacket[]>('SELECT n FROM $db.counters WHERE id = 1');
  const [log] = await db.query<RowDataPacket[]>('SELECT COUNT(*) AS applied, COUNT(DISTINCT message_id) AS d FROM $db.applied');
  return { n: Number(counter?.n), applied: Number(log?.applied), distinct: Number(log?.d) };
}

/** Ids in the order the handler applied them. */
export async function appliedOrder(db: TestDatabase): Promise<string[]> {
  const rows = await db.query<RowDataPacket[]>('SELECT message_id FROM $db.applied ORDER BY seq');
  return rows.map((r) => String(r.message_id));
}

/**
 * Publishes `ids.length` messages (message_id = routing key = id); the one at `gateAt` carries `gate: true`, the one at
 * `failFirstAt` `failFirst: true`, the one at `crashAt` `crash` (its first delivery ends its worker).
 * `key` sends them all to one shard.
 */
export async function sendCounted(exchange: string, ids: readonly string[], options: { gateAt?: number; failFirstAt?: number; crashAt?: number; crash?: 'exit' | 'timer' | 'loop' | 'oom'; key?: string } = {}): Promise<void> {
  for (let from = 0; from < ids.length; from += 500) {
    await publishRaw(exchange, ids.slice(from, from + 500).map((id, j) => ({
      body: JSON.stringify({
        id, ...(from + j === options.gateAt ? { gate: true } : {}), ...(from + j === options.failFirstAt ? { failFirst: true } : {}),
        ...(from + j === options.crashAt ? { crash: options.crash ?? 'exit' } : {}),
      }),
      messageId: id,
      key: options.key ?? id,
    })));
  }
}

/** The test holds `<database>.gate` on its admin connection: a gated message waits until `release()`. */
export async function closeGate(db: TestDatabase): Promise<{ release(): Promise<void> }> {
  const [row] = await db.query<RowDataPacket[]>('SELECT GET_LOCK(?, 0) AS got', [`${db.name}.gate`]);
  if (Number(row?.got) !== 1) throw new Error(`could not take the lock ${db.name}.gate`);
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await db.query('SELECT RELEASE_LOCK(?)', [`${db.name}.gate`]);
    },
  };
}

/** Waits until a worker's connection is waiting on the gate (a positive signal that the batch is in flight there). */
export async function waitAtGate(db: TestDatabase, timeoutMs = 30_000): Promise<void> {
  await waitFor('a worker waiting at the gate', async () => {
    const rows = await db.query<RowDataPacket[]>("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE 'SELECT GET_LOCK(%'", [db.name]);
    return rows.length > 0;
  }, timeoutMs, 20);
}
