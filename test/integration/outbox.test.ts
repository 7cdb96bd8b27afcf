import amqp from 'amqplib';
import type { RowDataPacket } from 'mysql2/promise';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { publishRaw, drainQueue } from '../helpers/amqp.js';
import { killWorkerOf, sendOrders, startTestRunner, workersReplaced, type TestRunner } from '../helpers/runner.js';
import { AMQP_URL, createTestDatabase, uniqueName, waitFor, type TestDatabase } from '../helpers/services.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js';

let db: TestDatabase;
let running: TestRunner | undefined;
let proxy: TcpProxy | undefined;
let events: string;
const tapQueues: string[] = [];

beforeEach(async () => {
  db = await createTestDatabase();
  await db.query('CREATE TABLE $db.produced (id VARCHAR(64) PRIMARY KEY)');
  await db.query('CREATE TABLE $db.consumed (message_id VARCHAR(255) PRIMARY KEY, n INT NOT NULL)');
  events = uniqueName('ev');
  proxy = await startTcpProxy(5672);
});
afterEach(async () => {
  await running?.cleanup();
  running = undefined;
  await proxy?.close();
  const connection = await amqp.connect(AMQP_URL);
  const channel = await connection.createChannel();
  for (const q of tapQueues.splice(0)) await channel.deleteQueue(q).catch(() => undefined);
  await connection.close();
  await db.drop();
});

/** A plain queue bound to an exchange, to see exactly what was published and in which order. */
async function tap(exchange: string, pattern = '#'): Promise<string> {
  const queue = uniqueName('tap');
  tapQueues.push(queue);
  const connection = await amqp.connect(AMQP_URL);
  const channel = await connection.createChannel();
  await channel.assertQueue(queue, { durable: false });
  await channel.bindQueue(queue, exchange, pattern);
  await connection.close();
  return queue;
}

async function startProducerAndConsumer(options: { publishThroughProxy: boolean; concurrency?: number; workers?: number; producer?: string }): Promise<TestRunner> {
  running = await startTestRunner(db, [
    { name: 'producer', entry: 'test/fixtures/outbox.ts', export: options.producer ?? 'producer', concurrency: options.concurrency ?? 1, batchSize: 10, batchingWindowSeconds: 0, publishes: [{ exchange: events, type: 'topic' }] },
    { name: 'consumer', entry: 'test/fixtures/outbox.ts', export: 'consumer', concurrency: 2, batchSize: 10, batchingWindowSeconds: 0 },
  ], {
    workerEnv: { WARREN_TEST_EVENTS_EXCHANGE: events },
    ...(options.publishThroughProxy ? { publishAmqpUrl: `amqp://guest:guest@127.0.0.1:${proxy!.port}` } : {}),
    ...(options.workers === undefined ? {} : { workers: options.workers }),
  });
  // the consumer's consistent-hash exchange receives everything published to the events exchange
  const connection = await amqp.connect(AMQP_URL);
  const channel = await connection.createChannel();
  await channel.bindExchange(running.queueOf('consumer'), events, '#');
  await connection.close();
  return running;
}

async function count(sql: string): Promise<number> {
  const rows = await db.query<RowDataPacket[]>(sql);
  return Number(rows[0]?.n);
}

const produce = (id: string, extra: Record<string, unknown> = {}) => ({ body: JSON.stringify({ id, ...extra }), messageId: `m-${id}`, key: id });

describe('Transactional outbox (ctx.publish)', () => {
  it('publishes nothing when the handler publishes 3 messages and then throws', async () => {
    const r = await startProducerAndConsumer({ publishThroughProxy: false });
    const seen = await tap(events);
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await publishRaw(r.queueOf('producer'), [produce('x', { events: 3, fail: true }), { ...produce('ok', { events: 1 }), headers: { traceparent } }]);
    await waitFor('both settled', () => r.runner.snapshot().deadLettered === 1 && r.runner.snapshot().committed >= 2, 20_000);
    await waitFor('the good one consumed', async () => (await count('SELECT COUNT(*) AS n FROM $db.consumed')) === 1, 10_000);
    // "nothing else was published" is proven by order: a marker published after both is the next thing on the tap
    await publishRaw(r.queueOf('producer'), [produce('marker', { events: 1 })]);
    await waitFor('the marker consumed', async () => (await count('SELECT COUNT(*) AS n FROM $db.consumed')) === 2, 10_000);
    const tapped = await drainQueue(seen);
    expect(tapped.map((m) => m.properties.messageId)).toEqual(['m-ok/0', 'm-marker/0']);
    expect(String(tapped[0]?.properties.headers?.traceparent)).toBe(traceparent); // the trace goes on
    expect(tapped[0]?.properties.correlationId).toBe('m-ok');
    expect(await count('SELECT COUNT(*) AS n FROM $db.warren_outbox')).toBe(2);
    expect(await count("SELECT COUNT(*) AS n FROM $db.produced WHERE id = 'x'")).toBe(0);
  });

  it('publishes nothing from memory for a transaction that rolled back, on a warm worker (the fast path)', async () => {
    // One worker: every batch runs in the process that already flushed the producer's shard, so a rolled-back
    // transaction's rows could only leak through the in-memory (fast) path, which is what this watches.
    const r = await startProducerAndConsumer({ publishThroughProxy: false, workers: 1, producer: 'warmProducer' });
    const seen = await tap(events);
    await publishRaw(r.queueOf('producer'), [produce('warm', { events: 1 })]);
    await waitFor('the warm-up consumed', async () => (await count('SELECT COUNT(*) AS n FROM $db.consumed')) === 1, 20_000);
    await publishRaw(r.queueOf('producer'), [produce('x', { events: 3, fail: true })]);
    await waitFor('x dead-lettered', () => r.runner.snapshot().deadLettered === 1, 20_000);
    await publishRaw(r.queueOf('producer'), [produce('marker', { events: 1 })]);
    await waitFor('the marker consumed', async () => (await count('SELECT COUNT(*) AS n FROM $db.consumed')) === 2, 20_000);
    expect((await drainQueue(seen)).map((m) => m.properties.messageId)).toEqual(['m-warm/0', 'm-marker/0']);
    expect(await count('SELECT COUNT(*) AS n FROM $db.warren_outbox')).toBe(2);
  });

  it('keeps a row unsent when the broker drops after the shard\'s first successful flush, and publishes it once the broker is back', async () => {
    // One warm worker: the first message is flushed (the broker is there), the second commits while the broker is
    // gone, so its in-memory publish fails. Marking its row sent before the publish succeeded would lose it for good.
    const r = await startProducerAndConsumer({ publishThroughProxy: true, workers: 1, producer: 'warmProducer' });
    await publishRaw(r.queueOf('producer'), [produce('first', { events: 1 })]);
    await waitFor('the first event consumed', async () => (await count('SELECT COUNT(*) AS n FROM $db.consumed')) === 1, 20_000);
    proxy!.pause();
    await publishRaw(r.queueOf('producer'), [produce('second', { events: 1 })]);
    await waitFor('the failed flush logged', () => r.lines.some((l) => l.includes('outbox flush failed')), 20_000);
    expect(await count("SELECT COUNT(*) AS n FROM $db.warren_outbox WHERE sent_at IS NULL AND message_id = 'm-second/0'")).toBe(1);
    proxy!.resume();
    await waitFor('the second event consumed', async () => (await count('SELECT COUNT(*) AS n FROM $db.consumed')) === 2, 30_000);
    expect(await count('SELECT COUNT(*) AS n FROM $db.warren_outbox WHERE sent_at IS NULL')).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM $db.consumed WHERE message_id = 'm-second/0'")).toBe(1);
  });

  it('publishes after its worker is killed between commit and publish, and an inbox consumer applies each message once (even when sent twice)', async () => {
    const r = await startProducerAndConsumer({ publishThroughProxy: true });
    proxy!.pause(); // the producer can commit, but not publish
    await publishRaw(r.queueOf('producer'), Array.from({ length: 20 }, (_, i) => produce(`k${i}`)));
    await waitFor('20 committed', async () => (await count('SELECT COUNT(*) AS n FROM $db.produced')) === 20, 20_000);
    await waitFor('the failed flush logged', () => r.lines.some((l) => l.includes('outbox flush failed')), 10_000);
    expect(await count('SELECT COUNT(*) AS n FROM $db.warren_outbox WHERE sent_at IS NULL')).toBe(20);
    const oldPid = killWorkerOf(r.runner, 'producer');
    await waitFor('a replacement producer', () => workersReplaced(r.runner, oldPid), 15_000);
    proxy!.resume();
    await waitFor('all 20 consumed', async () => (await count('SELECT COUNT(*) AS n FROM $db.consumed')) === 20, 30_000);
    expect(await count('SELECT COUNT(*) AS n FROM $db.warren_outbox WHERE sent_at IS NULL')).toBe(0);
    // publish five of them again (as a crash between publish and "mark sent" would): the consumer's inbox drops them
    await db.query('UPDATE $db.warren_outbox SET sent_at = NULL ORDER BY id LIMIT 5');
    await waitFor('republished', async () => (await count('SELECT COUNT(*) AS n FROM $db.warren_outbox WHERE sent_at IS NULL')) === 0, 15_000);
    await waitFor('duplicates dropped', () => r.runner.snapshot().deduplicated >= 5, 15_000);
    expect(await count('SELECT COUNT(*) AS n FROM $db.consumed')).toBe(20);
    expect(await count('SELECT MAX(n) AS n FROM $db.consumed')).toBe(1);
    expect(r.lines.some((l) => l.includes('outbox relay published messages left behind'))).toBe(true);
  });

  it('publishes every row held while the broker was away, in order, once it is back', async () => {
    const r = await startProducerAndConsumer({ publishThroughProxy: true });
    const seen = await tap(events);
    proxy!.pause();
    await publishRaw(r.queueOf('producer'), Array.from({ length: 30 }, (_, i) => produce(`o${String(i).padStart(2, '0')}`, { events: 2 })));
    await waitFor('30 committed', async () => (await count('SELECT COUNT(*) AS n FROM $db.produced')) === 30, 20_000);
    expect(await count('SELECT COUNT(*) AS n FROM $db.warren_outbox WHERE sent_at IS NULL')).toBe(60);
    proxy!.resume();
    await waitFor('all sent', async () => (await count('SELECT COUNT(*) AS n FROM $db.warren_outbox WHERE sent_at IS NULL')) === 0, 20_000);
    const expected = (await db.query<RowDataPacket[]>('SELECT message_id FROM $db.warren_outbox ORDER BY id')).map((row) => String(row.message_id));
    const tapped = await drainQueue(seen);
    expect(tapped.map((m) => m.properties.messageId)).toEqual(expected);
    expect(expected).toHaveLength(60);
  });

  it('announces each distinct example order once as order.accepted, however often the order arrives', async () => {
    // the runner's own events exchange (WARREN_TEST_EVENTS_EXCHANGE), never the shared orders.events
    running = await startTestRunner(db, [{ name: 'orders', entry: 'test/fixtures/orders.ts', concurrency: 2, batchSize: 20, batchingWindowSeconds: 0 }]);
    const seen = await tap(running.eventsExchange, 'order.accepted');
    const prefix = uniqueName('acc');
    await sendOrders(running.queueOf('orders'), 50, prefix);
    await sendOrders(running.queueOf('orders'), 50, prefix); // the same 50 orders again
    await waitFor('100 acked', () => running!.runner.snapshot().acked >= 100, 20_000);
    await waitFor('50 events', async () => {
      const rows = await db.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM $db.warren_outbox WHERE sent_at IS NOT NULL');
      return Number(rows[0]?.n) === 50;
    }, 10_000);
    const mine = await drainQueue(seen);
    expect(mine.every((m) => m.content.toString().includes(prefix))).toBe(true);
    // publishing is at-least-once (a flush and the relay can both send a row): a repeat carries the same message id,
    // so a consumer's inbox drops it; what must hold is one message id per distinct order
    expect(new Set(mine.map((m) => String(m.properties.messageId))).size).toBe(50);
    expect(new Set(mine.map((m) => (JSON.parse(m.content.toString()) as { orderId: string }).orderId)).size).toBe(50);
    expect(mine.every((m) => /\/0$/.test(String(m.properties.messageId)) && m.properties.contentType === 'application/json')).toBe(true);
    expect(running.runner.snapshot()).toMatchObject({ committed: 50, deduplicated: 50 });
  });
});
