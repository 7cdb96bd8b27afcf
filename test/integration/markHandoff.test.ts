/**
 * The local runner's workers defer the outbox's "sent" marks (`runtime/outbox/SentMarks.ts`). A shard's next batch may
 * run on another worker, whose first flush of that shard looks for rows left behind in order: the rows the previous
 * worker published and has not marked yet must not look left behind to it (they would be published twice).
 */
import amqp from 'amqplib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BatchReport } from '../../local/pool/WorkerHandle.js';
import { drainQueue, publishRaw } from '../helpers/amqp.js';
import { startTestRunner, type TestRunner } from '../helpers/runner.js';
import { AMQP_URL, createTestDatabase, uniqueName, waitFor, type TestDatabase } from '../helpers/services.js';

let db: TestDatabase;
let running: TestRunner | undefined;
let events: string;
let tapQueue: string;

beforeEach(async () => {
  db = await createTestDatabase();
  await db.query('CREATE TABLE $db.produced (id VARCHAR(64) PRIMARY KEY)');
  events = uniqueName('ev');
  tapQueue = uniqueName('tap');
});
afterEach(async () => {
  await running?.cleanup();
  running = undefined;
  const connection = await amqp.connect(AMQP_URL);
  await (await connection.createChannel()).deleteQueue(tapQueue).catch(() => undefined);
  await connection.close();
  await db.drop();
});

describe('Deferred outbox marks in the worker pool', () => {
  it('publishes each event once when a shard\'s consecutive batches run on different workers within the mark delay', async () => {
    running = await startTestRunner(db, [
      { name: 'producer', entry: 'test/fixtures/outbox.ts', export: 'producer', concurrency: 1, batchSize: 1, batchingWindowSeconds: 0, publishes: [{ exchange: events, type: 'topic' }] },
    ], { workers: 2, workerEnv: { WARREN_TEST_EVENTS_EXCHANGE: events } });
    const connection = await amqp.connect(AMQP_URL);
    const channel = await connection.createChannel();
    await channel.assertQueue(tapQueue, { durable: false });
    await channel.bindQueue(tapQueue, events, '#');
    await connection.close();
    const ran: string[] = [];
    for (const w of running.runner.workerHandles) w.on('batch', (r: BatchReport) => { if (r.ok) ran.push(w.spec.id); });

    // Batches of one from one shard, back to back: the dispatcher takes free workers in rotation, so consecutive
    // batches alternate between them, each well within the 500 ms the previous worker keeps its marks.
    await publishRaw(running.queueOf('producer'), Array.from({ length: 6 }, (_, i) => ({ body: JSON.stringify({ id: `p${i}` }), messageId: `m-p${i}`, key: `p${i}` })));
    await waitFor('all 6 handled', () => ran.length === 6, 30_000, 5);
    expect(new Set(ran).size).toBe(2); // both workers ran batches of the one shard

    await waitFor('every outbox row marked sent', async () => Number((await db.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM $db.warren_outbox WHERE sent_at IS NULL'))[0]?.n) === 0, 10_000);
    const tapped = await drainQueue(tapQueue);
    expect(tapped.map((m) => m.properties.messageId as string).sort()).toEqual(['m-p0/0', 'm-p1/0', 'm-p2/0', 'm-p3/0', 'm-p4/0', 'm-p5/0']);
  });
});
