/**
 * What one message costs the database, read from the server's own counters for the handler's connection
 * (`SHOW SESSION STATUS`): the example app's transaction (inbox claim, order, SKU total, outbox row) run through
 * `defineHandler()` in batches of 50, with every event published after the commits.
 */
import amqp from 'amqplib';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORDER_EVENTS, orderSchema, recordOrder } from '../../examples/orders/functions/orders.js';
import { toRmqEvent } from '../../runtime/toRmqEvent.js';
import { defineHandler } from '../../runtime/defineHandler.js';
import { closeProcessConnection } from '../../runtime/db/processConnection.js';
import { closeProcessPublisher } from '../../runtime/outbox/Publisher.js';
import { setEnv } from '../helpers/env.js';
import { orderDelivery, sessionCounters } from '../helpers/orderDeliveries.js';
import { AMQP_URL, createTestDatabase, uniqueName, type TestDatabase } from '../helpers/services.js';

let db: TestDatabase;
const exchange = uniqueName('spm_ev');
let restoreEnv: () => void;

/** The example handler (functions/orders.ts), publishing to this test's own exchange. */
const handler = defineHandler({
  name: 'orders',
  schema: orderSchema,
  async handle(message, { query, publish }) {
    if (await recordOrder(query, message.body)) await publish(exchange, ORDER_EVENTS.accepted, message.body);
  },
});

const counters = () => sessionCounters(['Questions', 'Com_show_status', 'Com_begin', 'Com_commit', 'Com_insert', 'Com_update']);

beforeAll(async () => {
  db = await createTestDatabase();
  const connection = await amqp.connect(AMQP_URL);
  await (await connection.createChannel()).assertExchange(exchange, 'topic', { durable: false });
  await connection.close();
  restoreEnv = setEnv({ DATABASE_URL: db.url, WARREN_PUBLISH_AMQP_URL: AMQP_URL });
});
afterAll(async () => {
  await closeProcessPublisher();
  await closeProcessConnection();
  restoreEnv();
  const connection = await amqp.connect(AMQP_URL);
  await (await connection.createChannel()).deleteExchange(exchange);
  await connection.close();
  await db.drop();
});

describe('Function: defineHandler(), per-message mode', () => {
  it('spends 6 statements and 1 commit per message (BEGIN, 4 INSERTs, COMMIT) plus ONE UPDATE per invocation marking its events sent: 6.02 and 1.02 at batch 50', async () => {
    await handler(toRmqEvent('orders.0', '/', [orderDelivery(-1)])); // creates Warren's tables and flushes the shard once
    const before = await counters();
    for (let batch = 0; batch < 4; batch += 1) {
      const summary = await handler(toRmqEvent('orders.0', '/', Array.from({ length: 50 }, (_, i) => orderDelivery(batch * 50 + i))));
      expect(summary).toMatchObject({ messages: 50, committed: 50, published: 50 });
    }
    const after = await counters();
    const delta = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
    const statements = delta('Questions') - delta('Com_show_status');
    const commits = delta('Com_commit') + delta('Com_update'); // the UPDATE marking events sent is the one autocommit write
    expect({ begin: delta('Com_begin'), insert: delta('Com_insert'), update: delta('Com_update') }).toEqual({ begin: 200, insert: 800, update: 4 });
    expect(statements).toBeLessThanOrEqual(6 * 200 + 4);
    expect(commits).toBeLessThanOrEqual(200 + 4);
    const unsent = await db.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM $db.warren_outbox WHERE sent_at IS NULL');
    expect(Number(unsent[0]?.n)).toBe(0);
  });
});
