/**
 * ctx.reply on the local runner (workers, outbox flush, relay), asked by Python's pika over direct reply-to and by an
 * amqplib caller with a named reply queue, against the real RabbitMQ and MariaDB; and the example app answering.
 */
import amqp from 'amqplib';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainQueue } from '../helpers/amqp.js';
import { pikaRequest } from '../helpers/pikaCaller.js';
import { startTestRunner, type TestRunner } from '../helpers/runner.js';
import { AMQP_URL, createTestDatabase, uniqueName, waitFor, type TestDatabase } from '../helpers/services.js';

let db: TestDatabase;
let running: TestRunner;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.query('CREATE TABLE $db.reply_totals (sku VARCHAR(64) PRIMARY KEY, total INT NOT NULL)');
  running = await startTestRunner(db, [
    { name: 'counter', entry: 'test/fixtures/replies.ts', export: 'counter', concurrency: 2, batchSize: 10, batchingWindowSeconds: 0, replies: true },
    { name: 'orders', entry: 'test/fixtures/orders.ts', concurrency: 2, batchSize: 10, batchingWindowSeconds: 0, replies: true },
  ]);
}, 60_000);
afterAll(async () => {
  await running?.cleanup();
  await db?.drop();
});

const total = async (sku: string) => Number((await db.query<RowDataPacket[]>('SELECT total FROM $db.reply_totals WHERE sku = ?', [sku]))[0]?.total);

describe('ctx.reply on the local runner', () => {
  it('answers a pika caller over direct reply-to, and a retried request (same message_id) with the same reply, applied once', async () => {
    const sku = uniqueName('sku');
    const first = await pikaRequest(AMQP_URL, running.queueOf('counter'), sku, { sku, quantity: 3 }, { messageId: `${sku}-1` });
    expect(first.replies).toEqual([{ body: JSON.stringify({ sku, total: 3 }), correlation_id: `${sku}-1`, message_id: `${sku}-1/reply`, headers: {} }]);
    const again = await pikaRequest(AMQP_URL, running.queueOf('counter'), sku, { sku, quantity: 3 }, { messageId: `${sku}-1` });
    expect(again.replies.map((r) => [r.body, r.correlation_id])).toEqual([[JSON.stringify({ sku, total: 3 }), `${sku}-1`]]);
    expect(await total(sku)).toBe(3);
  });

  it('never sends the reply of an attempt that rolled back: one reply, from the attempt that committed', async () => {
    const sku = uniqueName('sku');
    const caller = await amqp.connect(AMQP_URL);
    try {
      const channel = await caller.createConfirmChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true });
      channel.publish(running.queueOf('counter'), sku, Buffer.from(JSON.stringify({ sku, quantity: 2, failOnce: sku })), { messageId: `${sku}-rb`, replyTo: queue });
      await channel.waitForConfirms();
      const got: amqp.GetMessage[] = [];
      await waitFor('the reply', async () => { const m = await channel.get(queue, { noAck: true }); if (m !== false) got.push(m); return got.length > 0; }, 20_000);
      // a second request on the same shard (same key) is answered after it: nothing else came before
      channel.publish(running.queueOf('counter'), sku, Buffer.from(JSON.stringify({ sku, quantity: 5 })), { messageId: `${sku}-next`, replyTo: queue });
      await waitFor('the next reply', async () => { const m = await channel.get(queue, { noAck: true }); if (m !== false) got.push(m); return got.length > 1; }, 20_000);
      expect(got.map((m) => JSON.parse(m.content.toString()) as unknown)).toEqual([{ sku, total: 2 }, { sku, total: 7 }]);
    } finally {
      await caller.close();
    }
  });

  it('drops the replies of callers that are gone (a direct reply-to caller that disconnected, a deleted reply queue) and the shard keeps answering', async () => {
    const sku = uniqueName('sku');
    const gone = await pikaRequest(AMQP_URL, running.queueOf('counter'), sku, { sku, quantity: 1 }, { messageId: `${sku}-gone`, waitSeconds: 0 });
    expect(gone.replies).toEqual([]);
    const connection = await amqp.connect(AMQP_URL);
    const channel = await connection.createConfirmChannel();
    const deleted = uniqueName('deleted');
    channel.publish(running.queueOf('counter'), sku, Buffer.from(JSON.stringify({ sku, quantity: 1 })), { messageId: `${sku}-deleted`, replyTo: deleted });
    await channel.waitForConfirms();
    await connection.close();
    const live = await pikaRequest(AMQP_URL, running.queueOf('counter'), sku, { sku, quantity: 1 }, { messageId: `${sku}-live` });
    expect(live.replies.map((r) => r.body)).toEqual([JSON.stringify({ sku, total: 3 })]);
    await waitFor('the deleted queue\'s reply counted as dropped', () => running.runner.shardViews.some((s) => s.consumer.counters.repliesDropped === 1), 10_000);
    expect(running.lines.some((l) => l.includes('reply dropped') && l.includes(deleted))).toBe(true);
    const unsent = await db.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM $db.warren_outbox WHERE sent_at IS NULL AND created_at < NOW(3) - INTERVAL 2 SECOND');
    expect(Number(unsent[0]?.n)).toBe(0);
  });

  it('answers a request the runner sets aside as too big for Lambda with an error reply, and the shard keeps answering', async () => {
    const sku = uniqueName('sku');
    const big = await pikaRequest(AMQP_URL, running.queueOf('counter'), sku, { sku, quantity: 1, pad: 'x'.repeat(7_000_000) }, { messageId: `${sku}-big` });
    expect(big.replies).toHaveLength(1);
    const [reply] = big.replies;
    expect(reply!.correlation_id).toBe(`${sku}-big`);
    expect(reply!.headers['warren-error']).toMatch(/^Lambda would drop this message: its aws:rmq event alone is 9,33\d,\d{3} bytes/);
    expect(JSON.parse(reply!.body)).toEqual({ error: reply!.headers['warren-error'] });
    const next = await pikaRequest(AMQP_URL, running.queueOf('counter'), sku, { sku, quantity: 2 }, { messageId: `${sku}-next` });
    expect(next.replies.map((r) => r.body)).toEqual([JSON.stringify({ sku, total: 2 })]);
    expect((await drainQueue(`${running.queueOf('counter')}.dlq`)).map((m) => m.properties.messageId)).toEqual([`${sku}-big`]);
  });

  it('answers the example app\'s order with its orderId and the sku\'s running total, and an invalid order with an error reply', async () => {
    const sku = uniqueName('sku');
    const orders = running.queueOf('orders');
    const a = await pikaRequest(AMQP_URL, orders, 'o1', { orderId: `${sku}-o1`, sku, quantity: 2 }, { messageId: `${sku}-o1` });
    const b = await pikaRequest(AMQP_URL, orders, 'o2', { orderId: `${sku}-o2`, sku, quantity: 5 }, { messageId: `${sku}-o2` });
    expect([...a.replies, ...b.replies].map((r) => JSON.parse(r.body) as unknown)).toEqual([{ orderId: `${sku}-o1`, sku, skuTotal: 2 }, { orderId: `${sku}-o2`, sku, skuTotal: 7 }]);
    const bad = await pikaRequest(AMQP_URL, orders, 'o3', { orderId: `${sku}-o3`, sku, quantity: -1 }, { messageId: `${sku}-o3` });
    expect(bad.replies).toHaveLength(1);
    const [reply] = bad.replies;
    expect(reply!.correlation_id).toBe(`${sku}-o3`);
    expect(reply!.headers['warren-error']).toMatch(/quantity/);
    expect(JSON.parse(reply!.body)).toEqual({ error: reply!.headers['warren-error'] });
    expect((await drainQueue(`${orders}.dlq`)).map((m) => m.properties.messageId)).toEqual([`${sku}-o3`]);
  });
});
