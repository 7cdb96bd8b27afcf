/**
 * Lambda's 6 MB invocation payload on the real runner (real RabbitMQ and MariaDB): a message Lambda would drop is
 * dead-lettered with why instead of being run, without holding up or losing the rest of its shard, and no worker is
 * handed a batch whose event is over 6,291,456 bytes. Plus `npm run send` refusing a body Lambda would drop.
 */
import { execFile } from 'node:child_process';
import amqp from 'amqplib';
import type { RowDataPacket } from 'mysql2/promise';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { drainQueue, headerText, publishRaw } from '../helpers/amqp.js';
import { writeTestConfig } from '../helpers/cli.js';
import { appliedOrder, counterState, createCounterTables } from '../helpers/counter.js';
import { startTestRunner, type TestRunner } from '../helpers/runner.js';
import { AMQP_URL, createTestDatabase, deleteTopology, queueDepths, uniqueName, waitFor, type TestDatabase } from '../helpers/services.js';

const run = promisify(execFile);
let db: TestDatabase;
let running: TestRunner | undefined;

beforeEach(async () => {
  db = await createTestDatabase();
  await createCounterTables(db);
});
afterEach(async () => {
  await running?.cleanup();
  running = undefined;
  await db.drop();
});

/** A counter message (test/fixtures/counter.ts) whose JSON body is `bytes` long. */
function counted(id: string, bytes = 0): { body: string; messageId: string; key: string } {
  const bare = JSON.stringify({ id, pad: '' });
  return { body: JSON.stringify({ id, pad: 'x'.repeat(Math.max(0, bytes - bare.length)) }), messageId: id, key: 'one-shard' };
}

describe('Runner: messages Lambda would drop', () => {
  it('dead-letters a 7 MB message with its size and the limit, and commits the other messages of its shard exactly once, in order', async () => {
    running = await startTestRunner(db, [{ name: 'counter', entry: 'test/fixtures/counter.ts', concurrency: 1, batchSize: 20, batchingWindowSeconds: 1 }]);
    const queue = running.queueOf('counter');
    const before = ['a0', 'a1', 'a2', 'a3', 'a4'].map((id) => counted(id));
    const after = ['b0', 'b1', 'b2', 'b3', 'b4'].map((id) => counted(id));
    await publishRaw(queue, [...before, counted('big', 7_000_000), ...after]);

    await waitFor('10 applied and 1 dead letter', async () => (await counterState(db)).n >= 10 && (await queueDepths([`${queue}.dlq`]))[0] === 1, 60_000);
    await waitFor('everything acked', () => running!.runner.snapshot().acked === 11);
    expect(await counterState(db)).toEqual({ n: 10, applied: 10, distinct: 10 });
    expect(await appliedOrder(db)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1', 'b2', 'b3', 'b4']);
    expect(running.runner.snapshot().deadLettered).toBe(1);
    expect(await queueDepths([`${queue}.0`])).toEqual([0]);

    const [letter, ...more] = await drainQueue(`${queue}.dlq`);
    expect(more).toHaveLength(0);
    expect(letter!.content.length).toBe(7_000_000);
    expect(letter!.properties.messageId).toBe('big');
    expect(headerText(letter!, 'x-warren-error-class')).toBe('PayloadTooLargeError');
    expect(headerText(letter!, 'x-warren-error-kind')).toBe('permanent');
    expect(headerText(letter!, 'x-warren-source-queue')).toBe(`${queue}.0`);
    // 7,000,000 bytes are 9,333,336 in base64, plus the event's envelope and the message's properties.
    expect(headerText(letter!, 'x-warren-error-message')).toMatch(/^Lambda would drop this message: its aws:rmq event alone is 9,33\d,\d{3} bytes \(a 7,000,000-byte body, base64-encoded, with its properties\), over Lambda's invocation payload limit of 6,291,456 bytes \(6 MB\)/);
    expect(running.lines.some((l) => l.includes('message dead-lettered: Lambda would drop it'))).toBe(true);
  });

  it('never hands a worker a batch over 6 MB: 12 messages of 2 MB go two by two', async () => {
    const log = join(tmpdir(), `${uniqueName('events')}.jsonl`);
    try {
      running = await startTestRunner(db, [{ name: 'sizes', entry: 'test/fixtures/eventSizes.ts', concurrency: 1, batchSize: 20, batchingWindowSeconds: 2 }], { workerEnv: { WARREN_TEST_EVENT_LOG: log } });
      const ids = Array.from({ length: 12 }, (_, i) => `m${i}`);
      await publishRaw(running.queueOf('sizes'), ids.map((id) => counted(id, 2_000_000)));

      await waitFor('12 applied', async () => (await counterState(db)).n >= 12, 60_000);
      await waitFor('everything acked', () => running!.runner.snapshot().acked === 12);
      expect(await counterState(db)).toEqual({ n: 12, applied: 12, distinct: 12 });
      expect(await appliedOrder(db)).toEqual(ids);
      const batches = (await readFile(log, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { bytes: number; messages: number });
      expect(batches.reduce((n, b) => n + b.messages, 0)).toBe(12);
      for (const b of batches) expect(b.bytes).toBeLessThanOrEqual(6_291_456);
      // Two bodies of 2,000,000 bytes are 5,333,336 bytes in base64, a third would make 8,000,004.
      expect(Math.max(...batches.map((b) => b.messages))).toBe(2);
    } finally {
      await rm(log, { force: true });
    }
  });
});

describe('ctx.publish: a follow-up Lambda would drop', () => {
  it('is refused in the handler with PayloadTooLargeError, so its source message is dead-lettered and nothing is published', async () => {
    await db.query('CREATE TABLE $db.produced (id VARCHAR(64) PRIMARY KEY)');
    const events = uniqueName('ev');
    const tap = uniqueName('tap');
    running = await startTestRunner(db, [
      { name: 'producer', entry: 'test/fixtures/outbox.ts', export: 'producer', concurrency: 1, batchSize: 10, batchingWindowSeconds: 0, publishes: [{ exchange: events, type: 'topic' }] },
    ], { workerEnv: { WARREN_TEST_EVENTS_EXCHANGE: events } });
    const connection = await amqp.connect(AMQP_URL);
    try {
      const channel = await connection.createChannel();
      await channel.assertQueue(tap, { durable: false });
      await channel.bindQueue(tap, events, '#');
      const queue = running.queueOf('producer');
      await publishRaw(queue, [
        { body: JSON.stringify({ id: 'big', padBytes: 5_000_000 }), messageId: 'm-big', key: 'one' },
        { body: JSON.stringify({ id: 'ok' }), messageId: 'm-ok', key: 'one' },
      ]);
      await waitFor('one dead-lettered, one committed', () => running!.runner.snapshot().deadLettered === 1 && running!.runner.snapshot().committed === 1, 30_000);
      const produced = await db.query<RowDataPacket[]>('SELECT id FROM $db.produced');
      expect(produced.map((r) => String(r.id))).toEqual(['ok']);
      await waitFor('the good event published', async () => (await queueDepths([tap]))[0] === 1);
      const [event] = await drainQueue(tap);
      expect(JSON.parse(event!.content.toString()) as unknown).toEqual({ source: 'ok', n: 0 });
      const [letter] = await drainQueue(`${queue}.dlq`);
      expect(letter!.properties.messageId).toBe('m-big');
      expect(headerText(letter!, 'x-warren-error-class')).toBe('PayloadTooLargeError');
      expect(headerText(letter!, 'x-warren-error-message')).toMatch(new RegExp(`^ctx\\.publish\\('${events}', 'ev\\.big', body\\): the body is 5,000,0\\d\\d bytes, over Warren's limit of 4,715,520 bytes: Lambda delivers`));
      await channel.deleteQueue(tap);
    } finally {
      await connection.close();
    }
  });
});

describe('CLI: npm run send', () => {
  it('refuses a body over the limit, exits non-zero naming the size, the limit and why, and publishes nothing', async () => {
    const queue = uniqueName('t_send');
    const config = await writeTestConfig(queue, { handlers: [{ name: 'orders', entry: 'test/fixtures/orders.ts', samples: 'examples/orders/functions/samples.ts', queue }] });
    const send = (bytes: number) => run(process.execPath, ['--import', 'tsx', 'local/cli.ts', 'send', '--config', config.path, '--count', '1', '--bytes', String(bytes)]);
    try {
      const refused = await send(7_000_000).then(() => undefined, (error: unknown) => error as { code: number; stderr: string });
      expect(refused?.code).toBe(1);
      expect(refused?.stderr).toMatch(/^warren: message 1 of 1 \(routing key "[^"]+"\): its body is 7,000,000 bytes, over Warren's limit of 4,715,520 bytes: Lambda delivers RabbitMQ messages base64-encoded in a JSON event of at most 6,291,456 bytes \(6 MB/);
      expect(await queueDepths([`${queue}.0`])).toEqual([0]);

      // At the limit it is sent (and the refusal above was the size's doing, not something else).
      const sent = await send(4_715_520);
      expect(sent.stdout).toMatch(/^published 1 message\(s\) to exchange/);
      expect(await queueDepths([`${queue}.0`])).toEqual([1]);
    } finally {
      await config.remove();
      await deleteTopology(queue, 1);
    }
  });
});
