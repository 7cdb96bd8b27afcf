/** Real-service helpers for integration tests: unique databases and queues, cleanup, polling. */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import amqp from 'amqplib';
import mysql from 'mysql2/promise';

export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const ADMIN_DB_URL = process.env.WARREN_TEST_ADMIN_URL ?? 'mysql://root@127.0.0.1:3306';

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** An admin connection (not counted as a worker: it is connected to no database). */
  readonly admin: mysql.Connection;
  query<T = mysql.RowDataPacket[]>(sql: string, values?: unknown[]): Promise<T>;
  /** Server thread ids currently connected to this database (not counting the admin connection). */
  threadIds(): Promise<number[]>;
  drop(): Promise<void>;
}

export async function createTestDatabase(options: { schema?: boolean } = {}): Promise<TestDatabase> {
  const name = uniqueName('warren_t');
  const admin = await mysql.createConnection({ uri: ADMIN_DB_URL, multipleStatements: true });
  await admin.query('CREATE DATABASE ??', [name]);
  if (options.schema !== false) {
    const sql = await readFile(new URL('../../examples/orders/functions/schema.sql', import.meta.url), 'utf8');
    await admin.query(`USE \`${name}\`; ${sql}`);
    await admin.query('USE mysql');
  }
  const url = `${ADMIN_DB_URL.replace(/\/$/, '')}/${name}`;
  return {
    name,
    url,
    admin,
    async query<T>(sql: string, values: unknown[] = []): Promise<T> {
      const [rows] = await admin.query(`/* ${name} */ ${sql.replaceAll('$db', `\`${name}\``)}`, values);
      return rows as T;
    },
    async threadIds(): Promise<number[]> {
      const [rows] = await admin.query<mysql.RowDataPacket[]>('SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()', [name]);
      return rows.map((r) => Number(r.ID));
    },
    async drop(): Promise<void> {
      await admin.query('DROP DATABASE IF EXISTS ??', [name]).catch(() => undefined);
      await admin.end().catch(() => undefined);
    },
  };
}

/** Checks the example app's invariant; returns what was found so tests can assert on it. */
export async function orderInvariant(db: TestDatabase): Promise<{ orders: number; distinct: number; totalsMatch: boolean; mismatches: unknown[] }> {
  const [count] = await db.query<(mysql.RowDataPacket | undefined)[]>('SELECT COUNT(*) AS n, COUNT(DISTINCT order_id) AS d FROM $db.orders');
  const mismatches = await db.query<mysql.RowDataPacket[]>(
    `SELECT s.sku, s.quantity_total, o.total FROM $db.sku_totals s
       LEFT JOIN (SELECT sku, SUM(quantity) AS total FROM $db.orders GROUP BY sku) o ON o.sku = s.sku
      WHERE o.total IS NULL OR o.total <> s.quantity_total
     UNION ALL
     SELECT o.sku, NULL, SUM(o.quantity) FROM $db.orders o LEFT JOIN $db.sku_totals s ON s.sku = o.sku WHERE s.sku IS NULL GROUP BY o.sku`,
  );
  return { orders: Number(count?.n), distinct: Number(count?.d), totalsMatch: mismatches.length === 0, mismatches };
}

/** Deletes a handler's exchange and its shard queues (and the dead-letter queue). */
export async function deleteTopology(queue: string, shards: number, url = AMQP_URL, exchanges: readonly string[] = []): Promise<void> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    for (let i = 0; i < shards + 2; i += 1) await channel.deleteQueue(`${queue}.${i}`).catch(() => undefined);
    await channel.deleteQueue(`${queue}.dlq`).catch(() => undefined);
    await channel.deleteExchange(queue).catch(() => undefined);
    for (const exchange of exchanges) await channel.deleteExchange(exchange).catch(() => undefined);
    await channel.close().catch(() => undefined);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Message counts of queues (ready, not unacked). */
export async function queueDepths(names: readonly string[], url = AMQP_URL): Promise<number[]> {
  const connection = await amqp.connect(url);
  try {
    const out: number[] = [];
    for (const name of names) {
      const channel = await connection.createChannel();
      const { messageCount } = await channel.checkQueue(name);
      out.push(messageCount);
      await channel.close();
    }
    return out;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/**
 * Polls `probe` until it returns a truthy value and returns that value. `undefined`, `null`, `false`, `0`, `NaN` and
 * `''` mean "not yet": a probe that counts (`() => rows.length`) waits for a count above zero, never passes at zero.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | Falsy> | T | Falsy, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (isTruthy(value)) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? ` (last error: ${last.message})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

type Falsy = undefined | null | false | 0 | '';
const isTruthy = <T>(value: T | Falsy): value is T => Boolean(value);

/** Polls the server for thread ids connected to `db` until stopped; returns every distinct id seen. */
export function watchConnections(db: TestDatabase, intervalMs = 50): { stop(): Promise<Set<number>> } {
  const seen = new Set<number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const id of await db.threadIds().catch(() => [])) seen.add(id);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}
