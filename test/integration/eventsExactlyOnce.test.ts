/**
 * With no fault (no crash, no outage), every follow-up event is published once: 6,000 orders sent at once to the
 * example app give exactly 6,000 `order.accepted` events on the test's own events exchange, each message id once. The
 * outbox relay must not race the invocations that are still publishing their own rows (runtime/outbox/leftBehind.ts),
 * and finding nothing left behind it says nothing.
 */
import amqp from 'amqplib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { drainQueue } from '../helpers/amqp.js';
import { sendOrders, startTestRunner, type TestRunner } from '../helpers/runner.js';
import { AMQP_URL, createTestDatabase, uniqueName, waitFor, type TestDatabase } from '../helpers/services.js';

const ORDERS = 6_000;
let db: TestDatabase;
let running: TestRunner | undefined;
let tap: string | undefined;

beforeEach(async () => { db = await createTestDatabase(); });
afterEach(async () => {
  await running?.cleanup();
  running = undefined;
  if (tap !== undefined) {
    const connection = await amqp.connect(AMQP_URL);
    await (await connection.createChannel()).deleteQueue(tap).catch(() => undefined);
    await connection.close();
    tap = undefined;
  }
  await db.drop();
});

const count = async (sql: string) => Number((await db.query<{ n: number }[]>(sql))[0]!.n);

describe('Outbox events with no fault', () => {
  it('publishes exactly 6,000 events for 6,000 orders sent at once, each message id once, and the relay logs nothing', async () => {
    running = await startTestRunner(db, [{ name: 'orders', entry: 'test/fixtures/orders.ts', concurrency: 4, batchSize: 50 }]);
    tap = uniqueName('tap');
    const connection = await amqp.connect(AMQP_URL);
    const channel = await connection.createChannel();
    await channel.assertQueue(tap, { durable: false });
    await channel.bindQueue(tap, running.eventsExchange, '#');
    await connection.close();

    await sendOrders(running.queueOf('orders'), ORDERS);
    await waitFor(`${ORDERS} orders committed`, async () => (await count('SELECT COUNT(*) AS n FROM $db.orders')) === ORDERS, 300_000, 500);
    await waitFor('every outbox row marked sent', async () => (await count('SELECT COUNT(*) AS n FROM $db.warren_outbox WHERE sent_at IS NULL')) === 0, 60_000, 200);
    // After the stop nothing publishes any more: the tap holds every event there will be.
    await running.runner.stop();
    const events = await drainQueue(tap);
    const ids = events.map((m) => String(m.properties.messageId));
    const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
    expect({ events: events.length, distinct: new Set(ids).size, repeated: repeated.slice(0, 5) }).toEqual({ events: ORDERS, distinct: ORDERS, repeated: [] });
    expect(running.lines.filter((l) => l.includes('outbox relay'))).toEqual([]);
  }, 400_000);
});
