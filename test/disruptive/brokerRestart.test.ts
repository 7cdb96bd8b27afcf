/**
 * The real broker restarted (rabbitmqctl stop_app / start_app) under load. This project runs after all others, alone,
 * because every connection to the shared RabbitMQ drops.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import type { RowDataPacket } from 'mysql2/promise';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { publishRaw } from '../helpers/amqp.js';
import { closeGate, counterState, COUNTER_ENTRY, createCounterTables, sendCounted, waitAtGate } from '../helpers/counter.js';
import { startTestRunner, type TestRunner } from '../helpers/runner.js';
import { AMQP_URL, createTestDatabase, uniqueName, waitFor, type TestDatabase } from '../helpers/services.js';

const run = promisify(execFile);
let db: TestDatabase;
let running: TestRunner | undefined;

async function restartBroker(downMs: number, whileDown: () => Promise<void> = async () => undefined): Promise<void> {
  await run('rabbitmqctl', ['-q', 'stop_app']);
  await Promise.all([new Promise((resolve) => setTimeout(resolve, downMs)), whileDown()]);
  await run('rabbitmqctl', ['-q', 'start_app']);
  await waitFor('RabbitMQ accepting connections', async () => {
    const connection = await amqp.connect(AMQP_URL);
    await connection.close();
    return true;
  }, 60_000, 250);
}

beforeEach(async () => { db = await createTestDatabase(); });
afterEach(async () => {
  await run('rabbitmqctl', ['-q', 'start_app']).catch(() => undefined); // never leave the broker stopped
  await running?.cleanup();
  running = undefined;
  await db.drop();
});

describe('Faults: the broker restarted', () => {
  it('reconnects after a real RabbitMQ restart mid-batch; the batch finished meanwhile comes back and the counter ends exact', async () => {
    await createCounterTables(db);
    running = await startTestRunner(db, [{ name: 'counter', entry: COUNTER_ENTRY, concurrency: 2, batchSize: 25, batchingWindowSeconds: 1 }], { workerEnv: { WARREN_TEST_DELAY_MS: '2' } });
    const queue = running.queueOf('counter');
    // ten in one batch on one shard, the sixth held at the gate while the broker goes down; load on both shards
    const gate = await closeGate(db);
    await sendCounted(queue, Array.from({ length: 10 }, (_, i) => `g${i}`), { gateAt: 5, key: 'one-shard' });
    await waitAtGate(db);
    await sendCounted(queue, Array.from({ length: 2_000 }, (_, i) => `r${i}`));
    await waitFor('400 applied', async () => (await counterState(db)).n >= 400, 60_000, 5);
    const readyz = async () => (await fetch(`http://127.0.0.1:${running!.runner.metricsPort}/readyz`)).status;
    expect(await readyz()).toBe(200);
    await restartBroker(2_000, async () => {
      await waitFor('/readyz unready while the broker is down', async () => (await readyz()) === 503, 10_000, 100);
      await gate.release(); // the gated batch commits while its channel is gone: its ack is lost
    });
    await waitFor('reconnected', () => running!.runner.snapshot().brokerReconnects >= 1 && running!.runner.snapshot().brokerConnected, 60_000);
    await waitFor('every message applied', async () => (await counterState(db)).distinct === 2_010, 90_000, 250);
    await waitFor('the redelivered batch deduplicated', () => running!.runner.snapshot().deduplicated >= 10, 60_000);
    expect(await counterState(db)).toEqual({ n: 2_010, applied: 2_010, distinct: 2_010 });
    expect(running.lines.some((l) => l.includes('rabbitmq connection lost; reconnecting'))).toBe(true);
    expect(running.lines.some((l) => l.includes('rabbitmq reconnected'))).toBe(true);
    await waitFor('/readyz ready again', async () => (await readyz()) === 200, 20_000, 100);
  });

  it('publishes the outbox rows held across a real broker restart, and an inbox consumer applies each once', async () => {
    await db.query('CREATE TABLE $db.produced (id VARCHAR(64) PRIMARY KEY)');
    await db.query('CREATE TABLE $db.consumed (message_id VARCHAR(255) PRIMARY KEY, n INT NOT NULL)');
    const events = uniqueName('ev');
    running = await startTestRunner(db, [
      { name: 'producer', entry: 'test/fixtures/outbox.ts', export: 'producer', concurrency: 2, batchSize: 10, batchingWindowSeconds: 0, publishes: [{ exchange: events, type: 'topic' }] },
      { name: 'consumer', entry: 'test/fixtures/outbox.ts', export: 'consumer', concurrency: 1, batchSize: 10, batchingWindowSeconds: 0 },
    ], { workerEnv: { WARREN_TEST_EVENTS_EXCHANGE: events, WARREN_TEST_DELAY_MS: '0' } });
    const connection = await amqp.connect(AMQP_URL);
    const channel = await connection.createChannel();
    await channel.bindExchange(running.queueOf('consumer'), events, '#');
    await connection.close();
    await publishRaw(running.queueOf('producer'), Array.from({ length: 300 }, (_, i) => ({ body: JSON.stringify({ id: `r${i}`, events: 2 }), messageId: `m-r${i}`, key: `r${i}` })));
    await waitFor('some produced', async () => Number((await db.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM $db.produced'))[0]?.n) >= 50, 30_000, 10);
    await restartBroker(1_500);
    await waitFor('all 300 produced', async () => Number((await db.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM $db.produced'))[0]?.n) === 300, 90_000, 250);
    await waitFor('every event consumed', async () => Number((await db.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM $db.consumed'))[0]?.n) === 600, 90_000, 250);
    const unsent = await db.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM $db.warren_outbox WHERE sent_at IS NULL');
    expect(Number(unsent[0]?.n)).toBe(0);
    const most = await db.query<RowDataPacket[]>('SELECT MAX(n) AS n FROM $db.consumed');
    expect(Number(most[0]?.n)).toBe(1);
  });
});
