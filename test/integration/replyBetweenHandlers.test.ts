/**
 * Handler to handler on the local runner: a handler asks another through the outbox, the answer is addressed to the
 * asker's own consistent-hash exchange with the order id as routing key, and arrives as an ordinary message on the
 * shard that owns that key.
 */
import amqp from 'amqplib';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishRaw } from '../helpers/amqp.js';
import { startTestRunner, type TestRunner } from '../helpers/runner.js';
import { AMQP_URL, createTestDatabase, uniqueName, waitFor, type TestDatabase } from '../helpers/services.js';

let db: TestDatabase;
let running: TestRunner;
const asks = uniqueName('asks');
const askerQueue = uniqueName('t_asker');

beforeAll(async () => {
  db = await createTestDatabase({ schema: false });
  await db.query('CREATE TABLE $db.h2h_events (order_id VARCHAR(64) NOT NULL, kind VARCHAR(16) NOT NULL, queue VARCHAR(255) NOT NULL, price INT NULL, PRIMARY KEY (order_id, kind))');
  running = await startTestRunner(db, [
    { name: 'asker', entry: 'test/fixtures/replies.ts', export: 'asker', queue: askerQueue, concurrency: 3, batchSize: 10, batchingWindowSeconds: 0, publishes: [{ exchange: asks, type: 'topic' }] },
    { name: 'answerer', entry: 'test/fixtures/replies.ts', export: 'answerer', concurrency: 2, batchSize: 10, batchingWindowSeconds: 0, repliesTo: ['asker'] },
  ], { workerEnv: { WARREN_TEST_ASKS_EXCHANGE: asks, WARREN_TEST_ASKER_EXCHANGE: askerQueue } });
  const connection = await amqp.connect(AMQP_URL);
  await (await connection.createChannel()).bindExchange(running.queueOf('answerer'), asks, '#');
  await connection.close();
}, 60_000);
afterAll(async () => {
  await running?.cleanup();
  await db?.drop();
});

describe('Handler to handler: a reply through the asker\'s exchange', () => {
  it('brings each answer back to the shard that owns the order id, once', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `order-${i}`);
    await publishRaw(askerQueue, ids.map((id) => ({ body: JSON.stringify({ orderId: id }), messageId: `m-${id}`, key: id })));
    await waitFor('every answer recorded', async () => Number((await db.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM $db.h2h_events WHERE kind = 'answer'"))[0]?.n) === 12, 30_000);
    const rows = await db.query<RowDataPacket[]>('SELECT order_id, kind, queue, price FROM $db.h2h_events ORDER BY order_id, kind');
    for (const id of ids) {
      const [answer, order] = rows.filter((r) => r.order_id === id);
      expect([answer?.kind, answer?.price, order?.kind]).toEqual(['answer', 40 + id.length, 'order']);
      expect(answer?.queue).toBe(order?.queue); // the consistent hash put the answer on the order's shard
    }
    expect(new Set(rows.map((r) => r.queue)).size).toBeGreaterThan(1); // the orders were spread over the shards
    expect(running.runner.snapshot()).toMatchObject({ failedBatches: 0, deadLettered: 0 });
  });
});
