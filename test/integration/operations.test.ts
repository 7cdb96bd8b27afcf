import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { publishRaw } from '../helpers/amqp.js';
import { getJson, metricSum, scrape, type Sample } from '../helpers/operations.js';
import { closeGate, counterState, COUNTER_ENTRY, createCounterTables, sendCounted, waitAtGate } from '../helpers/counter.js';
import { killWorkerOf, killWorkerRunning, sendOrders, startTestRunner, workersReplaced, type TestRunner } from '../helpers/runner.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../helpers/services.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js';

let db: TestDatabase;
let running: TestRunner | undefined;
let proxy: TcpProxy | undefined;

beforeEach(async () => { db = await createTestDatabase(); });
afterEach(async () => {
  await running?.cleanup();
  running = undefined;
  await proxy?.close();
  proxy = undefined;
  await db.drop();
});

interface ReadyBody { status: string; reasons: string[]; brokerConnected: boolean; workers: { worker: string; db: string }[] }

const portOf = (r: TestRunner): number => r.runner.metricsPort ?? 0;

describe('Operations: /metrics', () => {
  it('moves every counter by exactly what happened while N messages are processed, per handler and shard queue', async () => {
    // Prepare
    running = await startTestRunner(db, [{ name: 'orders', entry: 'test/fixtures/orders.ts', concurrency: 2, batchSize: 20, batchingWindowSeconds: 0 }]);
    const port = portOf(running);
    expect(port).toBeGreaterThan(0);
    const queue = running.queueOf('orders');
    const where = { handler: 'orders' };
    const before = await scrape(port);
    const N = 300;
    const invalid = 3;

    // Act
    await sendOrders(queue, N);
    await publishRaw(queue, Array.from({ length: invalid }, (_, i) => ({ body: 'not json', messageId: `bad-${i}` })));
    await waitFor('all acked', () => running!.runner.snapshot().acked >= N + invalid, 60_000, 20);
    const after = await scrape(port);

    // Assess
    const delta = (name: string) => metricSum(after, name, where) - metricSum(before, name, where);
    expect(delta('warren_messages_acked_total')).toBe(N + invalid);
    expect(delta('messaging_client_consumed_messages_total')).toBe(N + invalid);
    expect(delta('warren_messages_committed_total')).toBe(N);
    expect(delta('warren_messages_dead_lettered_total')).toBe(invalid);
    expect(delta('warren_messages_deduplicated_total')).toBe(0);
    expect(delta('warren_messages_failed_total')).toBe(0);
    expect(delta('warren_batches_failed_total')).toBe(0);
    // worker series are labelled by worker, not by handler: two pool workers, one connection each
    const workerDelta = (name: string) => metricSum(after, name) - metricSum(before, name);
    expect(workerDelta('warren_db_connects_total')).toBe(2);
    expect(workerDelta('warren_db_reconnects_total')).toBe(0);
    expect(new Set(after.filter((s: Sample) => s.name === 'warren_db_connects_total').map((s) => s.labels.worker))).toEqual(new Set(['w0', 'w1']));
    const batches = delta('warren_batches_total');
    expect(batches).toBeGreaterThanOrEqual(Math.ceil((N + invalid) / 20));
    expect(delta('messaging_process_duration_seconds_count')).toBe(batches);
    expect(delta('messaging_process_duration_seconds_sum')).toBeGreaterThan(0);
    expect(metricSum(after, 'warren_db_connections_open')).toBe(2);
    expect(workerDelta('warren_worker_batches_total')).toBe(batches);
    expect(metricSum(after, 'warren_in_flight_messages', where)).toBe(0);
    expect(metricSum(after, 'warren_broker_connected')).toBe(1);
    // one series per shard queue, and the shards share the work
    const shardQueues = new Set(after.filter((s: Sample) => s.name === 'warren_messages_acked_total').map((s) => s.labels.queue));
    expect(shardQueues).toEqual(new Set([`${queue}.0`, `${queue}.1`]));
    // the histogram's +Inf bucket holds every batch
    expect(metricSum(after, 'messaging_process_duration_seconds_bucket', { ...where, le: '+Inf' })).toBe(batches);
    // the figures agree with the runner's own snapshot
    expect(metricSum(after, 'warren_messages_acked_total')).toBe(running.runner.snapshot().acked);
  });
});

describe('Operations: /metrics while a batch runs and after its worker dies', () => {
  it('shows the in-flight batch, the worker and its connection, then the restart, the requeue and the failed messages', async () => {
    // Prepare: ten messages in one batch on one shard, the sixth held at the gate
    await createCounterTables(db);
    running = await startTestRunner(db, [{ name: 'counter', entry: COUNTER_ENTRY, concurrency: 1, batchSize: 20, batchingWindowSeconds: 1 }]);
    const port = portOf(running);
    const queue = running.queueOf('counter');
    const where = { handler: 'counter', queue: `${queue}.0` };
    // a first batch, so the worker has reported its connection (its DB figures arrive with each finished batch)
    await sendCounted(queue, ['w0', 'w1', 'w2'], { key: 'one-shard' });
    await waitFor('3 acked', () => running!.runner.snapshot().acked >= 3, 30_000);
    const gate = await closeGate(db);
    await sendCounted(queue, Array.from({ length: 10 }, (_, i) => `x${i}`), { gateAt: 5, key: 'one-shard' });
    await waitAtGate(db);

    // Assess: mid-batch
    const during = await scrape(port);
    const value = (samples: readonly Sample[], name: string) => metricSum(samples, name, where);
    // worker series are labelled by pool worker; this runner has exactly one (w0)
    const worker = (samples: readonly Sample[], name: string) => metricSum(samples, name, { worker: 'w0' });
    expect(value(during, 'warren_in_flight_batches')).toBe(1);
    expect(value(during, 'warren_in_flight_messages')).toBe(10);
    expect(worker(during, 'warren_worker_up')).toBe(1);
    expect(worker(during, 'warren_db_connections_open')).toBe(1);
    expect(worker(during, 'warren_db_connection_served')).toBeGreaterThanOrEqual(3);
    expect(worker(during, 'warren_db_connection_age_seconds')).toBeGreaterThan(0);
    expect(worker(during, 'warren_worker_restarts_total')).toBe(0);
    expect(value(during, 'warren_messages_requeued_total')).toBe(0);
    expect(value(during, 'warren_messages_failed_total')).toBe(0);

    // Act: the worker dies mid-batch; its batch comes back to a replacement
    const pid = await killWorkerRunning(running.runner, 'counter');
    await gate.release();
    await waitFor('replacement worker', () => workersReplaced(running!.runner, pid), 15_000);
    await waitFor('13 acked', () => running!.runner.snapshot().acked >= 13, 30_000);
    const after = await scrape(port);

    // Assess
    expect(worker(after, 'warren_worker_restarts_total')).toBe(1);
    expect(value(after, 'warren_messages_requeued_total')).toBe(10);
    expect(value(after, 'warren_messages_failed_total')).toBe(10);
    expect(value(after, 'warren_batches_failed_total')).toBe(1);
    expect(value(after, 'warren_messages_committed_total')).toBe(3 + 5);
    expect(value(after, 'warren_messages_deduplicated_total')).toBe(5);
    expect(value(after, 'warren_in_flight_batches')).toBe(0);
    expect(worker(after, 'warren_worker_up')).toBe(1);
    expect(await counterState(db)).toEqual({ n: 13, applied: 13, distinct: 13 });
  });
});

describe('Operations: /healthz and /readyz', () => {
  it('turns unready while the broker connection is lost and ready again after it returns', async () => {
    // Prepare: RabbitMQ behind a proxy that can play "down"
    proxy = await startTcpProxy(5672);
    running = await startTestRunner(db, [{ name: 'orders', entry: 'test/fixtures/orders.ts', concurrency: 2, batchSize: 10, batchingWindowSeconds: 0 }], {
      amqpUrl: `amqp://guest:guest@127.0.0.1:${proxy.port}`,
    });
    const port = portOf(running);
    const lazy = await getJson<ReadyBody>(port, '/readyz');
    expect(lazy.status).toBe(200);
    expect(lazy.body.workers.map((w) => w.db)).toEqual(['lazy', 'lazy']);
    await sendOrders(running.queueOf('orders'), 100);
    await waitFor('100 acked', () => running!.runner.snapshot().acked >= 100, 30_000);
    const ready = await getJson<ReadyBody>(port, '/readyz');
    expect(ready).toMatchObject({ status: 200, body: { status: 'ready', reasons: [], brokerConnected: true } });
    expect(ready.body.workers.map((w) => w.db)).toEqual(['ok', 'ok']);

    // Act: the broker goes away
    proxy.pause();
    const down = await waitFor('unready', async () => { const r = await getJson<ReadyBody>(port, '/readyz'); return r.status === 503 ? r : undefined; }, 30_000, 100);

    // Assess
    expect(down.body).toMatchObject({ status: 'unready', brokerConnected: false, reasons: ['the RabbitMQ connection is down (reconnecting with backoff)'] });
    expect((await getJson(port, '/healthz')).status).toBe(200);
    expect(metricSum(await scrape(port), 'warren_broker_connected')).toBe(0);

    // Act: it comes back
    proxy.resume();
    const back = await waitFor('ready again', async () => { const r = await getJson<ReadyBody>(port, '/readyz'); return r.status === 200 ? r : undefined; }, 60_000, 200);

    // Assess
    expect(back.body).toMatchObject({ status: 'ready', brokerConnected: true, reasons: [] });
    const after = await scrape(port);
    expect(metricSum(after, 'warren_broker_connected')).toBe(1);
    expect(metricSum(after, 'warren_broker_reconnects_total')).toBeGreaterThanOrEqual(1);
    await sendOrders(running.queueOf('orders'), 50, undefined, 100);
    await waitFor('150 acked', () => running!.runner.snapshot().acked >= 150, 30_000);
  });

  it('is unready, naming the worker, while a worker is dead, and while the runner stops', async () => {
    running = await startTestRunner(db, [{ name: 'orders', entry: 'test/fixtures/orders.ts', concurrency: 1, batchSize: 10, batchingWindowSeconds: 0 }]);
    const port = portOf(running);
    killWorkerOf(running.runner, 'orders');
    const dead = await waitFor('unready', async () => { const r = await getJson<ReadyBody>(port, '/readyz'); return r.status === 503 ? r : undefined; }, 10_000, 20);
    expect(dead.body.reasons).toEqual(['worker w0 is not running']);
    await waitFor('replacement ready', async () => (await getJson(port, '/readyz')).status === 200, 30_000, 100);
    const stopping = running.runner.stop();
    expect((await running.runner.readiness()).reasons).toContain('the runner is stopping');
    await stopping;
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('answers /healthz, /status.json and 404 for anything else', async () => {
    running = await startTestRunner(db, [{ name: 'orders', entry: 'test/fixtures/orders.ts' }]);
    const port = portOf(running);
    expect((await getJson(port, '/healthz')).body).toMatchObject({ status: 'ok' });
    const status = await getJson<{ workers: { id: string }[]; totals: { workers: number } }>(port, '/status.json');
    expect(status.body.workers.map((w) => w.id)).toEqual(['w0']);
    expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).toBe(404);
  });
});
