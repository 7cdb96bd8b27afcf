import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, orderInvariant, waitFor, type TestDatabase } from '../helpers/services.js';
import { killWorker, sendOrders, startTestRunner, workerRunning, type TestRunner } from '../helpers/runner.js';
import type { BatchReport } from '../../local/pool/WorkerHandle.js';
import type { Runner } from '../../local/Runner.js';
import { ConnectionBudgetError } from '../../runtime/errors.js';
import { appliedOrder, counterState, COUNTER_ENTRY, createCounterTables, sendCounted } from '../helpers/counter.js';
import { publishRaw } from '../helpers/amqp.js';

let db: TestDatabase;
let running: TestRunner | undefined;

beforeEach(async () => { db = await createTestDatabase(); });
afterEach(async () => {
  await running?.cleanup();
  running = undefined;
  await db.drop();
});

const acked = (runner: Runner, handler: string) => runner.shardViews.filter((s) => s.handler === handler).reduce((n, s) => n + s.consumer.counters.acked, 0);
const failed = (runner: Runner, handler: string) => runner.shardViews.filter((s) => s.handler === handler).reduce((n, s) => n + s.consumer.counters.failedBatches, 0);

describe('The shared worker pool', () => {
  it('finishes a cold handler\'s messages while a hot handler\'s deep backlog is still mostly waiting', async () => {
    // Prepare: one worker for both; the hot handler has 4 shards and 2,000 slow messages queued
    running = await startTestRunner(db, [
      { name: 'hot', entry: 'test/fixtures/slowOrders.ts', concurrency: 4, batchSize: 10, batchingWindowSeconds: 0 },
      { name: 'cold', entry: 'test/fixtures/orders.ts', concurrency: 1, batchSize: 10, batchingWindowSeconds: 0 },
    ], { workers: 1, workerEnv: { WARREN_TEST_DELAY_MS: '5' } });
    await sendOrders(running.queueOf('hot'), 2_000, 'hot');
    await waitFor('the hot handler running', () => acked(running!.runner, 'hot') >= 20, 30_000, 5);

    // Act
    await sendOrders(running.queueOf('cold'), 30, 'cold');
    await waitFor('every cold message acked', () => acked(running!.runner, 'cold') === 30, 30_000, 5);

    // Assess: the cold handler did not wait for the backlog (each of its batches waits one round of 4 hot batches)
    expect(acked(running.runner, 'hot')).toBeLessThan(1_000);
    await waitFor('everything acked', () => running!.runner.snapshot().acked === 2_030, 120_000);
    expect(await orderInvariant(db)).toMatchObject({ orders: 2_030, distinct: 2_030, totalsMatch: true });
    expect(running.runner.snapshot()).toMatchObject({ workers: 1, dbConnections: 1, dbConnects: 1 });
  });

  it('runs a dedicated handler only on its own workers, and the rest only on the shared pool', async () => {
    running = await startTestRunner(db, [
      { name: 'alpha', entry: 'test/fixtures/orders.ts', concurrency: 2, batchSize: 10, batchingWindowSeconds: 0 },
      { name: 'beta', entry: 'test/fixtures/orders.ts', concurrency: 2, batchSize: 10, batchingWindowSeconds: 0 },
      { name: 'isolated', entry: 'test/fixtures/orders.ts', concurrency: 2, batchSize: 10, batchingWindowSeconds: 0 },
    ], { workers: 2, dedicated: { isolated: 1 } });
    const ran = new Map<string, Set<string>>();
    for (const w of running.runner.workerHandles) w.on('batch', (r: BatchReport) => ran.set(w.spec.id, new Set([...(ran.get(w.spec.id) ?? []), r.handler])));
    await sendOrders(running.queueOf('alpha'), 300, 'a');
    await sendOrders(running.queueOf('beta'), 300, 'b');
    await sendOrders(running.queueOf('isolated'), 300, 'i');
    await waitFor('all acked', () => running!.runner.snapshot().acked === 900, 60_000);
    expect(running.runner.workerHandles.map((w) => w.spec.id)).toEqual(['w0', 'w1', 'isolated.w0']);
    expect([...(ran.get('isolated.w0') ?? [])]).toEqual(['isolated']);
    const shared = new Set([...(ran.get('w0') ?? []), ...(ran.get('w1') ?? [])]);
    expect([...shared].sort()).toEqual(['alpha', 'beta']);
    expect(await orderInvariant(db)).toMatchObject({ orders: 900, distinct: 900, totalsMatch: true });
    expect(running.runner.snapshot()).toMatchObject({ workers: 3, dbConnections: 3 });
  });
});

describe.each(['process', 'thread'] as const)('The shared worker pool, with %s workers', (workerModel) => {
  it('requeues only the killed worker\'s batch of one handler: the non-idempotent counter ends at exactly 300, the other handler loses nothing and fails no batch', async () => {
    await createCounterTables(db);
    running = await startTestRunner(db, [
      { name: 'victim', entry: COUNTER_ENTRY, concurrency: 1, batchSize: 20, batchingWindowSeconds: 0 },
      { name: 'bystander', entry: 'test/fixtures/slowOrders.ts', concurrency: 1, batchSize: 20, batchingWindowSeconds: 0 },
    ], { workers: 2, workerModel, workerEnv: { WARREN_TEST_DELAY_MS: '10' } });
    await sendCounted(running.queueOf('victim'), Array.from({ length: 300 }, (_, i) => `v${i}`));
    await sendOrders(running.queueOf('bystander'), 300, 'b');
    const worker = await waitFor('a worker running a victim batch after some acks', () => (acked(running!.runner, 'victim') >= 40 ? workerRunning(running!.runner, 'victim') : undefined), 30_000, 5);
    const killed = worker.key;
    killWorker(worker);
    await waitFor('a replacement worker', () => worker.restarts === 1 && worker.alive && worker.key !== killed, 15_000);
    await waitFor('all acked', () => running!.runner.snapshot().acked === 600, 60_000);
    expect(await counterState(db)).toEqual({ n: 300, applied: 300, distinct: 300 });
    expect(await orderInvariant(db)).toMatchObject({ orders: 300, distinct: 300, totalsMatch: true });
    expect(failed(running.runner, 'victim')).toBe(1);
    expect(failed(running.runner, 'bystander')).toBe(0);
    expect(running.lines.some((l) => l.includes(`worker ${workerModel} died; its batch is requeued`) && l.includes('"handler":"victim"'))).toBe(true);
  });
});

describe('One batch in flight per shard', () => {
  it('never runs two batches of one hot shard at once, even with spare workers and uneven batches, and applies its keys in order', async () => {
    await createCounterTables(db);
    running = await startTestRunner(db, [{ name: 'hot', entry: COUNTER_ENTRY, concurrency: 1, batchSize: 10, batchingWindowSeconds: 0 }], { workers: 4 });
    // Watch every hand-over of a batch to a worker: how many of the shard's batches run at once.
    let inFlight = 0;
    let most = 0;
    const ranOn = new Set<string>();
    for (const w of running.runner.workerHandles) {
      const run = w.run.bind(w);
      w.run = (handler, queue, event) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        ranOn.add(w.spec.id);
        return run(handler, queue, event).finally(() => { inFlight -= 1; });
      };
    }
    const ids = Array.from({ length: 200 }, (_, i) => `h${i}`);
    // every 7th message takes 40 ms more: batches of uneven length, so a second batch would overtake the first
    await publishRaw(running.queueOf('hot'), ids.map((id, i) => ({ body: JSON.stringify({ id, sleepMs: i % 7 === 0 ? 40 : 0 }), messageId: id, key: 'one-key' })));
    await waitFor('200 acked', () => running!.runner.snapshot().acked === 200, 60_000);
    expect(most).toBe(1);
    expect(ranOn.size).toBeGreaterThan(1); // the spare workers did take the shard's batches, one after another
    expect(await appliedOrder(db)).toEqual(ids);
    expect(await counterState(db)).toEqual({ n: 200, applied: 200, distinct: 200 });
  });
});

describe('Bad input at start', () => {
  it('names every handler whose module fails to import or exports no handler, with its file and the cause', async () => {
    const start = startTestRunner(db, [
      { name: 'good', entry: 'test/fixtures/orders.ts' },
      { name: 'broken', entry: 'test/fixtures/brokenImport.ts' },
      { name: 'noexport', entry: 'test/fixtures/orders.ts', export: 'nope' },
    ], { workers: 2 });
    const error = await start.then(() => undefined, (e: unknown) => e as Error);
    expect(error?.name).toBe('HandlerImportError');
    expect(error?.message).toMatch(/^2 handler module\(s\) could not be loaded/);
    expect(error?.message).toMatch(/handler "broken" \(.*test\/fixtures\/brokenImport\.ts\): WARREN_TEST_REQUIRED is not set/);
    expect(error?.message).toMatch(/handler "noexport" \(.*fixtures\/orders\.ts\): no exported function "nope"/);
  });

  it('stops with both numbers when the database user may not open as many connections as the pool needs', async () => {
    const user = `wt_${db.name.slice(-8)}`;
    await db.admin.query(`CREATE USER ?@'%' IDENTIFIED BY 'pw' WITH MAX_USER_CONNECTIONS 3`, [user]);
    try {
      await db.admin.query(`GRANT ALL ON ${db.admin.escapeId(db.name)}.* TO ?@'%'`, [user]);
      const url = db.url.replace('mysql://root@', `mysql://${user}:pw@`);
      const start = startTestRunner({ ...db, url }, [{ name: 'orders', entry: 'test/fixtures/orders.ts' }], { workers: 4 });
      // 4 workers + the outbox relay's one (the example app publishes)
      await expect(start).rejects.toMatchObject({ name: 'ServerConnectionBudgetError', needed: 5, available: 3 });
      await expect(start).rejects.toBeInstanceOf(ConnectionBudgetError);
      await expect(start).rejects.toThrow("The runner needs 5 MySQL connection(s) but the server allows only 3 more (the user's MAX_USER_CONNECTIONS is 3 and it has 0 open); lower runner.workers (or runner.dedicated), or raise max_connections / the user's MAX_USER_CONNECTIONS");
      const fits = await startTestRunner({ ...db, url }, [{ name: 'orders', entry: 'test/fixtures/orders.ts', batchingWindowSeconds: 0 }], { workers: 2 });
      await fits.cleanup();
    } finally {
      await db.admin.query(`DROP USER IF EXISTS ?@'%'`, [user]);
    }
  });
});
