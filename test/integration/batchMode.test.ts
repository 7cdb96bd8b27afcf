import type { RowDataPacket } from 'mysql2/promise';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listDeadLetters } from '../../local/commands/deadLetters.js';
import { publishRaw } from '../helpers/amqp.js';
import { sendOrders, startTestRunner, type TestRunner } from '../helpers/runner.js';
import { AMQP_URL, createTestDatabase, orderInvariant, waitFor, type TestDatabase } from '../helpers/services.js';

let db: TestDatabase;
let running: TestRunner | undefined;

beforeEach(async () => {
  db = await createTestDatabase();
  await db.query('CREATE TABLE $db.hits (id VARCHAR(64) PRIMARY KEY, n INT NOT NULL)');
});
afterEach(async () => {
  await running?.cleanup();
  running = undefined;
  await db.drop();
});

async function scalar(sql: string): Promise<number> {
  const rows = await db.query<RowDataPacket[]>(sql);
  return Number(Object.values(rows[0] ?? {})[0]);
}

describe('Batch mode (handleBatch)', () => {
  it('commits the example app batch by batch, keeps the invariant, and applies repeated orders once', async () => {
    running = await startTestRunner(db, [{ name: 'orders', entry: 'test/fixtures/orders.ts', export: 'batchHandler', concurrency: 2, batchSize: 100, batchingWindowSeconds: 1 }]); // publishes to its own events exchange
    const queue = running.queueOf('orders');
    const ids = await sendOrders(queue, 1_000, 'b');
    await sendOrders(queue, 200, 'b'); // 200 of them again
    await waitFor('1200 acked', () => running!.runner.snapshot().acked >= 1_200, 60_000);
    expect(await orderInvariant(db)).toMatchObject({ orders: ids.length, distinct: 1_000, totalsMatch: true });
    expect(running.runner.snapshot()).toMatchObject({ committed: 1_000, deduplicated: 200, deadLettered: 0 });
    // one transaction claims a whole batch: its inbox rows share one timestamp
    expect(await scalar('SELECT COUNT(DISTINCT processed_at) FROM $db.warren_inbox')).toBeLessThanOrEqual(100);
    expect(await scalar('SELECT COUNT(*) FROM $db.warren_outbox')).toBe(1_000);
    expect(running.lines.some((l) => l.includes('batch transaction failed'))).toBe(false);
  });

  it('falls back to one message at a time when the batch fails, so only the poison message is dead-lettered', async () => {
    running = await startTestRunner(db, [{ name: 'semantics', entry: 'test/fixtures/semantics.ts', export: 'countingBatch', batchSize: 50, batchingWindowSeconds: 1 }]);
    const exchange = running.queueOf('semantics');
    const messages = Array.from({ length: 50 }, (_, i) => ({ body: JSON.stringify({ id: `x${i}`, quantity: 1 }), messageId: `m-x${i}`, key: 'one' }));
    messages[7] = { body: JSON.stringify({ id: 'x7', sku: 'poison', quantity: 1 }), messageId: 'm-x7', key: 'one' };
    messages[20] = { body: JSON.stringify({ id: 'x20', quantity: 0 }), messageId: 'm-x20', key: 'one' };
    messages[30] = { ...messages[29]! }; // a duplicate inside the batch
    await publishRaw(exchange, messages);
    await waitFor('50 acked', () => running!.runner.snapshot().acked >= 50, 30_000);
    expect(await scalar('SELECT COUNT(*) FROM $db.hits')).toBe(47);
    expect(await scalar('SELECT MAX(n) FROM $db.hits')).toBe(1);
    expect(running.runner.snapshot()).toMatchObject({ committed: 47, deduplicated: 1, deadLettered: 2, failedBatches: 0 });
    const letters = await listDeadLetters(AMQP_URL, `${exchange}.dlq`);
    expect(letters.map((l) => [l.messageId, l.errorClass]).sort()).toEqual([['m-x20', 'SchemaValidationError'], ['m-x7', 'PermanentError']]);
    expect(running.lines.some((l) => l.includes('batch transaction failed; processing the batch message by message'))).toBe(true);
  });

  it('falls back to one message at a time when another shard claimed the same keys concurrently (ConcurrentClaimError), applying each once', async () => {
    running = await startTestRunner(db, [{ name: 'semantics', entry: 'test/fixtures/semantics.ts', export: 'countingBatch', concurrency: 2, batchSize: 20, batchingWindowSeconds: 1 }], { workerEnv: { WARREN_TEST_DELAY_MS: '1500' } });
    const queue = running.queueOf('semantics');
    // the same 20 messages straight into both shard queues: two batches claim the same keys at the same time
    const copy = (shard: number) => Array.from({ length: 20 }, (_, i) => ({ body: JSON.stringify({ id: `y${i}`, quantity: 1 }), messageId: `m-y${i}`, queue: `${queue}.${shard}` }));
    await publishRaw(queue, [...copy(0), ...copy(1)]);
    await waitFor('40 acked', () => running!.runner.snapshot().acked >= 40, 60_000);
    expect(await scalar('SELECT COUNT(*) FROM $db.hits')).toBe(20);
    expect(await scalar('SELECT MAX(n) FROM $db.hits')).toBe(1);
    expect(await scalar('SELECT SUM(n) FROM $db.hits')).toBe(20);
    expect(running.runner.snapshot()).toMatchObject({ committed: 20, deduplicated: 20, deadLettered: 0, failedBatches: 0 });
    expect(running.lines.some((l) => l.includes('batch transaction failed; processing the batch message by message') && l.includes('ConcurrentClaimError'))).toBe(true);
  });
});
