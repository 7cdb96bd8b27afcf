/**
 * Thin traffic, one message per invocation, with the outbox's "sent" marks deferred as the local runner's workers
 * defer them (WARREN_OUTBOX_MARK_DELAY_MS, 500 there and 100 here, `runtime/outbox/SentMarks.ts`): what a message costs the database,
 * counted by the server for the handler's connection (`SHOW SESSION STATUS`), and the outbox guarantees around the
 * deferral (nothing marked before its publish is confirmed; a rolled-back carrier leaves the marks for later; every
 * row ends up marked).
 */
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORDER_EVENTS, orderSchema, recordOrder } from '../../examples/orders/functions/orders.js';
import { toRmqEvent } from '../../runtime/toRmqEvent.js';
import { defineHandler } from '../../runtime/defineHandler.js';
import { closeProcessConnection, processConnection } from '../../runtime/db/processConnection.js';
import { closeProcessPublisher } from '../../runtime/outbox/Publisher.js';
import { peekSentMarks } from '../../runtime/outbox/SentMarks.js';
import { createTap, type Tap } from '../helpers/amqp.js';
import { setEnv } from '../helpers/env.js';
import { orderDelivery, sessionCounters } from '../helpers/orderDeliveries.js';
import { AMQP_URL, createTestDatabase, uniqueName, waitFor, type TestDatabase } from '../helpers/services.js';

let db: TestDatabase;
const exchange = uniqueName('thin_ev');
const tapQueue = uniqueName('thin_tap');
let tap: Tap;
let restoreEnv: () => void;
let failNext = false;

/** The example handler (functions/orders.ts), publishing to this test's own exchange; `failNext` throws after its writes. */
const handler = defineHandler({
  name: 'orders',
  schema: orderSchema,
  attempts: 1,
  maxDeliveries: 100,
  async handle(message, { query, publish }) {
    if (await recordOrder(query, message.body)) await publish(exchange, ORDER_EVENTS.accepted, message.body);
    if (failNext) throw new Error('handler failed after its writes');
  },
});

const COUNTERS = ['Questions', 'Com_show_status', 'Com_begin', 'Com_commit', 'Com_insert', 'Com_update', 'Com_rollback'];
const counters = () => sessionCounters(COUNTERS);

async function unsent(): Promise<number> {
  const rows = await db.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM $db.warren_outbox WHERE sent_at IS NULL');
  return Number(rows[0]?.n);
}

beforeAll(async () => {
  db = await createTestDatabase();
  tap = await createTap(exchange, tapQueue);
  // 100 ms rather than the runner's 500: the 300 invocations below take well over 100 ms on any machine, so marks are due
  // and ride later transactions during the loop (with 500 ms a fast, quiet machine finished the loop before any was due).
  restoreEnv = setEnv({ DATABASE_URL: db.url, WARREN_PUBLISH_AMQP_URL: AMQP_URL, WARREN_OUTBOX_MARK_DELAY_MS: '100' });
});
afterAll(async () => {
  await closeProcessPublisher();
  await closeProcessConnection();
  restoreEnv();
  await tap.remove();
  await db.drop();
});

describe('Deferred outbox marks at one message per invocation', () => {
  it('spends at most 6.2 statements and 1.1 commits per message, counted by the server, and marks every event sent soon after the last one (the timer)', async () => {
    await handler(toRmqEvent('orders.0', '/', [orderDelivery(-1)])); // creates Warren's tables and flushes the shard once
    const before = await counters();
    for (let i = 0; i < 300; i += 1) {
      const summary = await handler(toRmqEvent('orders.0', '/', [orderDelivery(i)]));
      expect(summary).toMatchObject({ messages: 1, committed: 1, published: 1 });
    }
    const after = await counters();
    const per = (name: string) => ((after[name] ?? 0) - (before[name] ?? 0)) / 300;
    const statements = per('Questions') - per('Com_show_status');
    // Every UPDATE counted as if it committed on its own: an upper bound of the commits.
    const commits = per('Com_commit') + per('Com_update');
    // One transaction per message (plus, past 10 s on a slow machine, one leftover check's), 4 INSERTs in it.
    expect(per('Com_insert')).toBe(4);
    expect(per('Com_commit')).toBeGreaterThanOrEqual(1);
    expect(per('Com_commit')).toBeLessThanOrEqual(1.01);
    console.log(JSON.stringify({ statementsPerMessage: statements, commitsAtMost: commits, updatesPerMessage: per('Com_update') }));
    expect(statements).toBeLessThanOrEqual(6.2);
    expect(commits).toBeLessThanOrEqual(1.1);
    expect(per('Com_update')).toBeGreaterThan(0); // the marks were written, carried by later transactions
    await waitFor('every outbox row marked sent (the timer, with no transaction to carry the last marks)', async () => (await unsent()) === 0, 3_000, 20);
    await waitFor('all 301 events on the tap queue', async () => (await tap.count()) === 301);
  });

  it('marks nothing whose publish the broker did not confirm: a failed publish leaves its row unsent and not pending', async () => {
    const marks = peekSentMarks(processConnection());
    expect(marks?.deferred).toBe(true);
    await waitFor('no marks pending', () => marks?.size === 0, 3_000, 20);
    await closeProcessPublisher();
    const restorePublishUrl = setEnv({ WARREN_PUBLISH_AMQP_URL: 'amqp://guest:guest@127.0.0.1:1' }); // nothing listens there
    try {
      const summary = await handler(toRmqEvent('orders.0', '/', [orderDelivery(1_000)]));
      expect(summary).toMatchObject({ committed: 1, published: 0 });
    } finally {
      restorePublishUrl();
      await closeProcessPublisher();
    }
    expect(marks?.size).toBe(0);
    expect(await unsent()).toBe(1);
    // The next invocation takes the ordered path (its last flush failed) and publishes the row left behind first.
    expect(await handler(toRmqEvent('orders.0', '/', [orderDelivery(1_001)]))).toMatchObject({ committed: 1, published: 2 });
    await waitFor('both rows marked sent', async () => (await unsent()) === 0, 3_000, 20);
  });

  it('keeps the marks a rolled-back transaction carried, and writes them with a later one', async () => {
    const marks = peekSentMarks(processConnection());
    await waitFor('no marks pending', () => marks?.size === 0, 3_000, 20);
    await handler(toRmqEvent('orders.0', '/', [orderDelivery(2_000)]));
    expect(marks?.size).toBe(1);
    await waitFor('the mark due (past the delay; the timer comes at twice it): the next BEGIN carries it', () => marks?.due === true, 3_000, 10);
    failNext = true;
    try {
      await expect(handler(toRmqEvent('orders.0', '/', [orderDelivery(2_001)]))).rejects.toThrow('handler failed after its writes');
    } finally {
      failNext = false;
    }
    expect(marks?.size).toBe(1); // rolled back with the carrier: pending again, not forgotten
    expect(await unsent()).toBe(1);
    await waitFor('the mark written later', async () => (await unsent()) === 0 && marks?.size === 0, 3_000, 20);
  });
});
