/**
 * What a message costs the database on Lambda (issue 28, section 2): the example handler
 * (examples/orders/functions/orders.ts, `createOrderHandlers`) run in-process as it runs there (AWS_LAMBDA_FUNCTION_NAME
 * set, events in the `aws:rmq` shape, publishing to an exchange of this test's own on the local broker), 200 messages,
 * counted by the server for the handler's connection (`SHOW SESSION STATUS`). The goals: at most 7 statements per
 * message at one message per invocation and 6.3 at ten, with about one commit per message.
 * Then the guarantees around it: every event published and, in the end, marked sent; the crash guard still runs where a
 * crashed message can be (a fresh process, a redelivered batch).
 */
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createOrderHandlers } from '../../examples/orders/functions/orders.js';
import { toRmqEvent } from '../../runtime/toRmqEvent.js';
import { defineHandler } from '../../runtime/defineHandler.js';
import { closeProcessConnection, processConnection } from '../../runtime/db/processConnection.js';
import { setEmfSink } from '../../runtime/emf.js';
import { closeProcessPublisher } from '../../runtime/outbox/Publisher.js';
import { peekSentMarks } from '../../runtime/outbox/SentMarks.js';
import { createTap, type Tap } from '../helpers/amqp.js';
import { setEnv } from '../helpers/env.js';
import { orderDelivery, sessionCounters } from '../helpers/orderDeliveries.js';
import { AMQP_URL, createTestDatabase, uniqueName, waitFor, type TestDatabase } from '../helpers/services.js';

let db: TestDatabase;
const exchange = uniqueName('lcost_ev');
const tapQueue = uniqueName('lcost_tap');
let tap: Tap;
let restoreEnv: () => void;

/** The example handler, publishing to this test's own exchange (named `orders` by WARREN_HANDLER, as on Lambda). */
const { handler } = createOrderHandlers({ eventsExchange: exchange });

const COUNTERS = ['Questions', 'Com_show_status', 'Com_begin', 'Com_commit', 'Com_insert', 'Com_update', 'Com_delete', 'Com_select'];

async function unsent(): Promise<number> {
  const rows = await db.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM $db.warren_outbox WHERE sent_at IS NULL');
  return Number(rows[0]?.n);
}

/** Runs `messages` orders from `first` on, `perInvocation` per invocation; per message: statements, commits at most. */
async function measure(first: number, messages: number, perInvocation: number): Promise<{ statements: number; commitsAtMost: number; selects: number }> {
  const before = await sessionCounters(COUNTERS);
  for (let i = 0; i < messages; i += perInvocation) {
    const deliveries = Array.from({ length: perInvocation }, (_, j) => orderDelivery(first + i + j));
    expect(await handler(toRmqEvent('orders.0', '/', deliveries))).toMatchObject({ messages: perInvocation, committed: perInvocation, published: perInvocation });
  }
  const after = await sessionCounters(COUNTERS);
  const per = (name: string) => ((after[name] ?? 0) - (before[name] ?? 0)) / messages;
  // Every write outside the 4 INSERTs of each message's transaction counted as if it committed on its own: an upper bound.
  const commitsAtMost = per('Com_commit') + per('Com_update') + per('Com_delete') + (per('Com_insert') - 4);
  return { statements: per('Questions') - per('Com_show_status'), commitsAtMost, selects: per('Com_select') };
}

beforeAll(async () => {
  db = await createTestDatabase();
  tap = await createTap(exchange, tapQueue);
  setEmfSink(() => undefined);
  restoreEnv = setEnv({ DATABASE_URL: db.url, WARREN_PUBLISH_AMQP_URL: AMQP_URL, AWS_LAMBDA_FUNCTION_NAME: 'lambda-cost-test', WARREN_HANDLER: 'orders' });
});
afterAll(async () => {
  vi.useRealTimers();
  await closeProcessPublisher();
  await closeProcessConnection();
  restoreEnv();
  setEmfSink();
  await tap.remove();
  await db.drop();
});

describe('The Lambda path\'s database cost (example handler, 200 messages, server counters)', () => {
  it('spends at most 7 statements and about one commit per message at one message per invocation', async () => {
    // The environment's first invocation: creates Warren's tables, runs the crash guard, flushes the shard once.
    await handler(toRmqEvent('orders.0', '/', [orderDelivery(-1)]));
    const cost = await measure(0, 200, 1);
    console.log(JSON.stringify({ perInvocation: 1, ...cost }));
    expect(cost.statements).toBeLessThanOrEqual(7);
    expect(cost.commitsAtMost).toBeLessThanOrEqual(1.1);
  });

  it('spends at most 6.3 statements and about one commit per message at ten messages per invocation', async () => {
    const cost = await measure(1_000, 200, 10);
    console.log(JSON.stringify({ perInvocation: 10, ...cost }));
    expect(cost.statements).toBeLessThanOrEqual(6.3);
    expect(cost.commitsAtMost).toBeLessThanOrEqual(1.1);
  });

  it('publishes every event, and an invocation after a pause marks what is still pending before it returns (no timer runs in a frozen environment)', async () => {
    await waitFor('all 401 events on the tap queue', async () => (await tap.count()) === 401);
    const marks = peekSentMarks(processConnection());
    expect(marks?.timers).toBe(false);
    expect(await unsent()).toBe(marks?.size);
    // The environment stays frozen past the quiet threshold (5 s): the next invocation marks every pending row itself.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 6_000);
    expect(await handler(toRmqEvent('orders.0', '/', [orderDelivery(5_000)]))).toMatchObject({ committed: 1, published: 1 });
    vi.useRealTimers();
    expect(marks?.size).toBe(0);
    expect(await unsent()).toBe(0);
  });
});

describe('Crash guard on a warm environment', () => {
  /** Counts, inside its own transaction, the crash marks that exist while it runs (the guard's mark is committed before). */
  const seen: number[] = [];
  const guarded = defineHandler({
    name: 'guarded',
    async handle(_message, { query }) {
      const { rows } = await query<{ n: number }>("SELECT COUNT(*) AS n FROM warren_deliveries WHERE handler = 'guarded' AND message_key LIKE 'crashed:%'");
      seen.push(Number(rows[0]?.n));
    },
  });
  const delivery = (id: string, redelivered: boolean) => ({ content: Buffer.from('{}'), fields: { redelivered } as never, properties: { headers: {}, messageId: id } as never });

  it('marks the suspect in the process\'s first invocation and for a redelivered batch, and skips the mark for new messages in a warm process', async () => {
    await guarded(toRmqEvent('guarded.0', '/', [delivery('g-1', false)]));
    await guarded(toRmqEvent('guarded.0', '/', [delivery('g-2', false)]));
    await guarded(toRmqEvent('guarded.0', '/', [delivery('g-3', true)]));
    expect(seen).toEqual([1, 0, 1]);
    const marks = await db.query<RowDataPacket[]>("SELECT message_key FROM $db.warren_deliveries WHERE handler = 'guarded'");
    expect(marks).toEqual([]);
  });
});
