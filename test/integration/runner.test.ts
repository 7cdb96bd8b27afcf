import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, orderInvariant, queueDepths, waitFor, watchConnections, type TestDatabase } from '../helpers/services.js';
import { sendOrders, startTestRunner, workerServed, type TestRunner } from '../helpers/runner.js';
import { shardQueues } from '../../config/config.js';
import { counterState, COUNTER_ENTRY, createCounterTables, sendCounted } from '../helpers/counter.js';

let db: TestDatabase;
let running: TestRunner | undefined;

beforeEach(async () => { db = await createTestDatabase(); });
afterEach(async () => {
  await running?.cleanup();
  running = undefined;
  await db.drop();
});

describe('Class: Runner', () => {
  it('processes every message into MySQL with exactly one connection per worker', async () => {
    running = await startTestRunner(db, [{ name: 'orders', entry: 'test/fixtures/orders.ts', concurrency: 3, batchSize: 50, batchingWindowSeconds: 0 }]);
    // Watched from here: the start-up checks (connection budget, privileges) use short-lived connections of their own;
    // workers connect at their first batch and the relay at its first tick, both after start().
    const watch = watchConnections(db);
    const queue = running.queueOf('orders');
    const ids = await sendOrders(queue, 3_000);
    await waitFor('all orders acked', () => running!.runner.snapshot().acked >= ids.length, 60_000);
    const seen = await watch.stop();
    const invariant = await orderInvariant(db);
    expect(invariant).toMatchObject({ orders: 3_000, distinct: 3_000, totalsMatch: true });
    expect(seen.size).toBe(3 + 1); // one per worker, plus the outbox relay's (the example app publishes events)
    const snapshot = running.runner.snapshot();
    expect(snapshot).toMatchObject({ acked: 3_000, failedBatches: 0, workers: 3, dbConnections: 3, dbConnects: 3 });
    expect(running.runner.acked).toBe(3_000); // the lean count the bench polls
    expect(await queueDepths(shardQueues({ queue, concurrency: 3 }))).toEqual([0, 0, 0]);
    // every shard got work: the consistent-hash exchange spreads the keys
    const served = workerServed(running.runner);
    expect(served.every((n) => n > 0)).toBe(true);
    const summary = await running.runner.stop();
    expect(summary).toMatchObject({ dbConnections: 0, shutdownTimedOut: false });
    await waitFor('no connection left on the server', async () => (await db.threadIds()).length === 0, 5_000);
  });

  it('redelivers the whole batch when a handler throws, applying each message of the non-idempotent counter once, while other handlers are unaffected', async () => {
    await createCounterTables(db);
    running = await startTestRunner(db, [
      { name: 'orders', entry: 'test/fixtures/orders.ts', concurrency: 2, batchSize: 20, batchingWindowSeconds: 0 },
      { name: 'flaky', entry: COUNTER_ENTRY, concurrency: 1, batchSize: 20, batchingWindowSeconds: 1 },
    ]);
    const good = await sendOrders(running.queueOf('orders'), 500, 'good');
    // one shard, the 50th message throws on its first delivery: its batch fails after committing the ones before it
    await sendCounted(running.queueOf('flaky'), Array.from({ length: 100 }, (_, i) => `f${i}`), { failFirstAt: 50, key: 'one-shard' });
    await waitFor('all acked', () => running!.runner.snapshot().acked >= good.length + 100, 60_000);
    expect(await orderInvariant(db)).toMatchObject({ orders: 500, distinct: 500, totalsMatch: true });
    expect(await counterState(db)).toEqual({ n: 100, applied: 100, distinct: 100 });
    const snapshot = running.runner.snapshot();
    expect(snapshot.failedBatches).toBeGreaterThan(0);
    expect(snapshot.workerRestarts).toBe(0);
    expect(snapshot.deadLettered).toBe(0);
    // A failed batch may have committed some messages before the failing one: they come back and are deduplicated.
    expect(snapshot.committed + snapshot.deduplicated).toBe(600);
    expect(running.lines.some((l) => l.includes('batch failed; it will be redelivered whole') && l.includes('refusing the first delivery of f50'))).toBe(true);
    expect(running.lines.some((l) => l.includes('message failed on this delivery; the batch will be redelivered'))).toBe(true);
  });

  it('fails at start with a clear error when a handler module has no such export', async () => {
    await expect(startTestRunner(db, [{ name: 'orders', entry: 'test/fixtures/orders.ts', export: 'nope' }])).rejects.toThrow(
      /handler "orders" \(.*fixtures\/orders\.ts\): no exported function "nope"/,
    );
  });
});
