/**
 * Request and reply seen from the callers' side, against a real Warren handler run by the local runner
 * (test/fixtures/replyCounter.ts: not idempotent on its own, it counts its effect in MariaDB and replies the count).
 * Three callers: Python's pika with direct reply-to (a client no one here wrote), amqplib with a named reply queue, and
 * Warren's own RequestClient. (The handler side, ctx.reply's outbox and inbox, is tested in reply.test.ts.)
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import amqp, { type GetMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestClient, RequestFailedError } from '../../client/index.js';
import { writeTestConfig } from '../helpers/cli.js';
import { counterState, createCounterTables } from '../helpers/counter.js';
import { startTestRunner, type TestRunner } from '../helpers/runner.js';
import { AMQP_URL, createTestDatabase, uniqueName, waitFor, type TestDatabase } from '../helpers/services.js';

const run = promisify(execFile);
const PIKA_CALLER = fileURLToPath(new URL('../fixtures/pikaCaller.py', import.meta.url));

interface PikaAnswer {
  readonly status: 'reply' | 'timeout' | 'sent' | 'stray';
  readonly body?: { readonly id?: string; readonly n?: number; readonly attempt?: string; readonly error?: string };
  readonly correlation_id?: string;
  readonly content_type?: string;
  readonly headers?: Record<string, unknown>;
}

/** Runs the pika caller once (a new process: a new connection, a new direct reply-to address, a new correlation id). */
async function pika(exchange: string, key: string, body: unknown, messageId: string, mode: 'ask' | 'leave' = 'ask'): Promise<PikaAnswer> {
  const { stdout } = await run('/usr/bin/python3', [PIKA_CALLER, AMQP_URL, exchange, key, JSON.stringify(body), messageId, mode, '20']);
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as PikaAnswer);
  expect(lines.filter((l) => l.status === 'stray')).toEqual([]);
  return lines.at(-1)!;
}

let db: TestDatabase;
let running: TestRunner;
let exchange: string;
let connection: amqp.ChannelModel;
let channel: amqp.Channel;

beforeAll(async () => {
  db = await createTestDatabase({ schema: false });
  await createCounterTables(db);
  running = await startTestRunner(db, [{ name: 'asked', entry: 'test/fixtures/replyCounter.ts', concurrency: 2, replies: true }]);
  exchange = running.queueOf('asked');
  connection = await amqp.connect(AMQP_URL);
  channel = await connection.createChannel();
});

afterAll(async () => {
  await connection?.close().catch(() => undefined);
  await running?.cleanup();
  await db?.drop();
});

/** A named reply queue of the test's own (amqplib caller), deleted by the test. */
async function replyQueue(): Promise<string> {
  const { queue } = await channel.assertQueue(uniqueName('t_replies'), { durable: false, exclusive: true });
  return queue;
}

function ask(key: string, body: unknown, options: { messageId: string; replyTo: string; correlationId: string }): void {
  channel.publish(exchange, key, Buffer.from(JSON.stringify(body)), { ...options, contentType: 'application/json', persistent: true });
}

async function takeAll(queue: string): Promise<GetMessage[]> {
  const out: GetMessage[] = [];
  for (;;) {
    const msg = await channel.get(queue, { noAck: true });
    if (msg === false) return out;
    out.push(msg);
  }
}

const header = (msg: GetMessage, name: string): string | undefined => {
  const value: unknown = msg.properties.headers?.[name];
  return value === undefined ? undefined : Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
};

describe('Caller: Python pika with direct reply-to', () => {
  it('gets the reply, with its correlation id and JSON body', async () => {
    const before = (await counterState(db)).n;
    const answer = await pika(exchange, 'p-1', { id: 'p-1' }, 'p-1');
    expect(answer.status).toBe('reply');
    expect(answer.body).toEqual({ id: 'p-1', n: before + 1, attempt: 'last' });
    expect((await counterState(db)).n).toBe(before + 1);
  });

  it('gets an error reply for an invalid body: the same correlation id, the warren-error header, a JSON body', async () => {
    const before = await counterState(db);
    const answer = await pika(exchange, 'p-bad', { nope: true }, 'p-bad');
    expect(answer.status).toBe('reply');
    expect(answer.content_type).toBe('application/json');
    expect(typeof answer.headers?.['warren-error']).toBe('string');
    expect(answer.body).toEqual({ error: answer.headers?.['warren-error'] });
    expect(await counterState(db)).toEqual(before);
  });

  it('gets the original answer again when it retries with the same message id, and the handler applies it once', async () => {
    const first = await pika(exchange, 'p-retry', { id: 'p-retry' }, 'p-retry');
    const after = await counterState(db);
    const again = await pika(exchange, 'p-retry', { id: 'p-retry' }, 'p-retry');
    expect(again.status).toBe('reply');
    expect(again.correlation_id).not.toBe(first.correlation_id); // a new caller, a new address, answered all the same
    expect(again.body).toEqual(first.body);
    expect(await counterState(db)).toEqual(after);
  });

  it('leaves, and the shard keeps going: the request is applied and the next caller is answered', async () => {
    const before = (await counterState(db)).n;
    expect((await pika(exchange, 'gone-1', { id: 'gone-1' }, 'gone-1', 'leave')).status).toBe('sent');
    await waitFor('the request of the caller that left applied', async () => (await counterState(db)).n === before + 1, 20_000, 50);
    // Same key, so the same shard: its outbox and relay must not be stuck on the reply nobody takes.
    const next = await pika(exchange, 'gone-1', { id: 'gone-2' }, 'gone-2');
    expect(next.body).toEqual({ id: 'gone-2', n: before + 2, attempt: 'last' });
  });
});

describe('Caller: amqplib with a named reply queue', () => {
  it('gets exactly one reply per request, addressed to its queue with its correlation id', async () => {
    const queue = await replyQueue();
    const before = (await counterState(db)).n;
    ask('q-1', { id: 'q-1' }, { messageId: 'q-1', replyTo: queue, correlationId: 'c-q-1' });
    const [reply] = await waitFor('the reply', async () => { const m = await takeAll(queue); return m.length > 0 ? m : undefined; }, 20_000, 50);
    expect(reply!.properties.correlationId).toBe('c-q-1');
    expect(JSON.parse(reply!.content.toString()) as unknown).toEqual({ id: 'q-1', n: before + 1, attempt: 'last' });
    await channel.deleteQueue(queue);
  });

  it('uses the message id as correlation id when the request has none', async () => {
    const queue = await replyQueue();
    channel.publish(exchange, 'q-noc', Buffer.from(JSON.stringify({ id: 'q-noc' })), { messageId: 'q-noc', replyTo: queue, persistent: true });
    const [reply] = await waitFor('the reply', async () => { const m = await takeAll(queue); return m.length > 0 ? m : undefined; }, 20_000, 50);
    expect(reply!.properties.correlationId).toBe('q-noc');
    await channel.deleteQueue(queue);
  });

  it('gets the error reply for an invalid body', async () => {
    const queue = await replyQueue();
    ask('q-bad', 'not an object', { messageId: 'q-bad', replyTo: queue, correlationId: 'c-q-bad' });
    const [reply] = await waitFor('the error reply', async () => { const m = await takeAll(queue); return m.length > 0 ? m : undefined; }, 20_000, 50);
    expect(reply!.properties.correlationId).toBe('c-q-bad');
    expect(reply!.properties.contentType).toBe('application/json');
    const reason = header(reply!, 'warren-error');
    expect(reason).toBeTruthy();
    expect(JSON.parse(reply!.content.toString()) as unknown).toEqual({ error: reason });
    await channel.deleteQueue(queue);
  });

  it('gets the stored reply again for a retry with the same message id on a new reply queue and a new correlation id, applied once', async () => {
    const first = await replyQueue();
    ask('q-retry', { id: 'q-retry' }, { messageId: 'q-retry', replyTo: first, correlationId: 'c-1' });
    const [a] = await waitFor('the first reply', async () => { const m = await takeAll(first); return m.length > 0 ? m : undefined; }, 20_000, 50);
    const after = await counterState(db);
    const second = await replyQueue();
    ask('q-retry', { id: 'q-retry' }, { messageId: 'q-retry', replyTo: second, correlationId: 'c-2' });
    const [b] = await waitFor('the second reply', async () => { const m = await takeAll(second); return m.length > 0 ? m : undefined; }, 20_000, 50);
    expect(b!.properties.correlationId).toBe('c-2');
    expect(b!.content.toString()).toBe(a!.content.toString());
    expect(await counterState(db)).toEqual(after);
    expect(await takeAll(first)).toEqual([]);
    await channel.deleteQueue(first);
    await channel.deleteQueue(second);
  });

  it('never sees the reply of a transaction that rolled back: one reply, from the attempt that committed', async () => {
    const queue = await replyQueue();
    const before = (await counterState(db)).n;
    ask('q-rb', { id: 'q-rb', failOnce: true }, { messageId: 'q-rb', replyTo: queue, correlationId: 'c-rb' });
    // A second request on the same key (the same shard, after it): once its reply is here, any reply of the first is too.
    ask('q-rb', { id: 'q-rb-next' }, { messageId: 'q-rb-next', replyTo: queue, correlationId: 'c-rb-next' });
    const replies: GetMessage[] = [];
    await waitFor('the reply to the second request', async () => { replies.push(...await takeAll(queue)); return replies.some((m) => m.properties.correlationId === 'c-rb-next'); }, 20_000, 50);
    expect(replies.map((m) => [m.properties.correlationId, JSON.parse(m.content.toString())] as unknown)).toEqual([
      ['c-rb', { id: 'q-rb', n: before + 1, attempt: 'last' }],
      ['c-rb-next', { id: 'q-rb-next', n: before + 2, attempt: 'last' }],
    ]);
    expect((await counterState(db)).n).toBe(before + 2);
    await channel.deleteQueue(queue);
  });

  it('gets only the error reply when the handler replied and then failed for good (its transaction rolled back)', async () => {
    const queue = await replyQueue();
    const before = (await counterState(db)).n;
    ask('q-refuse', { id: 'q-refuse', refuse: true }, { messageId: 'q-refuse', replyTo: queue, correlationId: 'c-refuse' });
    ask('q-refuse', { id: 'q-refuse-next' }, { messageId: 'q-refuse-next', replyTo: queue, correlationId: 'c-refuse-next' });
    const replies: GetMessage[] = [];
    await waitFor('the reply to the second request', async () => { replies.push(...await takeAll(queue)); return replies.some((m) => m.properties.correlationId === 'c-refuse-next'); }, 20_000, 50);
    const refused = replies.filter((m) => m.properties.correlationId === 'c-refuse');
    expect(refused).toHaveLength(1);
    expect(header(refused[0]!, 'warren-error')).toContain('refusing q-refuse after replying');
    expect(replies).toHaveLength(2);
    expect((await counterState(db)).n).toBe(before + 1); // the second request only
    await channel.deleteQueue(queue);
  });

  it('has deleted its reply queue, and the shard keeps going', async () => {
    const queue = await replyQueue();
    await channel.deleteQueue(queue);
    const before = (await counterState(db)).n;
    ask('q-gone', { id: 'q-gone' }, { messageId: 'q-gone', replyTo: queue, correlationId: 'c-gone' });
    await waitFor('the request applied', async () => (await counterState(db)).n === before + 1, 20_000, 50);
    const next = await replyQueue();
    ask('q-gone', { id: 'q-gone-2' }, { messageId: 'q-gone-2', replyTo: next, correlationId: 'c-gone-2' });
    const [reply] = await waitFor('the next reply', async () => { const m = await takeAll(next); return m.length > 0 ? m : undefined; }, 20_000, 50);
    expect(JSON.parse(reply!.content.toString()) as unknown).toEqual({ id: 'q-gone-2', n: before + 2, attempt: 'last' });
    await channel.deleteQueue(next);
  });
});

describe('Caller: Warren\'s RequestClient', () => {
  it('resolves with the reply, rejects with the error reply\'s reason, and a retry on a new client gets the stored answer', async () => {
    const client = await RequestClient.connect({ url: AMQP_URL, timeoutMs: 20_000 });
    try {
      const before = (await counterState(db)).n;
      const reply = await client.request(exchange, 'r-1', { id: 'r-1' }, { messageId: 'r-1' });
      expect(reply.json()).toEqual({ id: 'r-1', n: before + 1, attempt: 'last' });
      const error = await client.request(exchange, 'r-bad', { id: 7 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RequestFailedError);
      expect((error as RequestFailedError).reason).toBeTruthy();
      expect((error as RequestFailedError).reply.json()).toEqual({ error: (error as RequestFailedError).reason });
    } finally {
      await client.close();
    }
    const retrying = await RequestClient.connect({ url: AMQP_URL, timeoutMs: 20_000 });
    try {
      const after = await counterState(db);
      const again = await retrying.request(exchange, 'r-1', { id: 'r-1' }, { messageId: 'r-1' });
      expect(again.json()).toEqual({ id: 'r-1', n: after.n, attempt: 'last' });
      expect(await counterState(db)).toEqual(after);
    } finally {
      await retrying.close();
    }
  });
});

describe('Caller: npm run send -- --request, against the example app answering (functions/orders.ts)', () => {
  it('prints the three replies with the SKU totals and the error reply Warren sends for the invalid order', async () => {
    const orders = await createTestDatabase();
    const app = await startTestRunner(orders, [{ name: 'orders', entry: 'test/fixtures/orders.ts', replies: true }]);
    const config = await writeTestConfig(app.queueOf('orders'), { handlers: [{ name: 'orders', entry: 'test/fixtures/orders.ts', samples: 'examples/orders/functions/samples.ts', queue: app.queueOf('orders') }] });
    try {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'local/cli.ts', 'send', '--request', '--config', config.path, '--count', '3', '--invalid', '1', '--timeout-ms', '20000'], { env: { ...process.env, AMQP_URL } });
      const lines = stdout.trim().split('\n');
      // functions/samples.ts: order i has sku-i and quantity 1 + i, so each SKU's total is its one order's quantity.
      const replies = lines.filter((l) => l.startsWith('reply ')).map((l) => JSON.parse(l.slice(l.indexOf(': ') + 2)) as { sku: string; skuTotal: number });
      expect(replies.map((r) => [r.sku, r.skuTotal]).sort()).toEqual([['sku-0', 1], ['sku-1', 2], ['sku-2', 3]]);
      expect(lines.filter((l) => /^error reply \d\/4 \S+-bad-\d+ in \d+\.\d ms: warren-error ".+"$/.test(l))).toHaveLength(1);
      expect(lines.at(-1)).toMatch(/: 3 replies, 1 error reply, 0 unanswered; round trip p50 /);
    } finally {
      await config.remove();
      await app.cleanup();
      await orders.drop();
    }
  });
});
