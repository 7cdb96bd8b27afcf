import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeProcessConnection } from '../../runtime/db/processConnection.js';
import { createTap, drainQueue, type Tap } from '../helpers/amqp.js';
import { setEnv } from '../helpers/env.js';
import { AMQP_URL, createTestDatabase, uniqueName, type TestDatabase } from '../helpers/services.js';

let db: TestDatabase;
const exchange = uniqueName('relay_ev');
const tapQueue = uniqueName('relay_tap');
let tap: Tap;
let restoreEnv: () => void;

beforeAll(async () => {
  db = await createTestDatabase();
  tap = await createTap(exchange, tapQueue);
  restoreEnv = setEnv({ DATABASE_URL: db.url, WARREN_PUBLISH_AMQP_URL: AMQP_URL, WARREN_RELAY_HANDLERS: JSON.stringify([{ name: 'orders', vhost: '/' }]), WARREN_RELAY_MIN_AGE_MS: '1000' });
});
afterAll(async () => {
  await closeProcessConnection();
  restoreEnv();
  await tap.remove();
  await db.drop();
});

describe('Function: the scheduled outbox relay (lib/functions/relayFunction.ts)', () => {
  it('publishes old unsent rows of its handlers in order, leaves young ones to their invocation, and marks them sent', async () => {
    const { handler } = await import('../../lib/functions/relayFunction.js');
    expect(await handler()).toEqual({ published: 0 }); // creates the tables, nothing to do
    const insert = "INSERT INTO $db.warren_outbox (handler, source_queue, exchange, routing_key, message_id, body, properties, created_at) VALUES (?, 'orders.0', ?, ?, ?, ?, ?, ?)";
    const old = new Date(Date.now() - 60_000);
    for (let i = 0; i < 5; i += 1) await db.query(insert, ['orders', exchange, 'order.accepted', `m/${i}`, Buffer.from(`{"n":${i}}`), '{"headers":{}}', old]);
    await db.query(insert, ['orders', exchange, 'order.accepted', 'young/0', Buffer.from('{}'), '{"headers":{}}', new Date()]);
    await db.query(insert, ['other', exchange, 'x', 'other/0', Buffer.from('{}'), '{"headers":{}}', old]);
    expect(await handler()).toEqual({ published: 5 });
    const got = await drainQueue(tapQueue);
    expect(got.map((m) => m.properties.messageId)).toEqual(['m/0', 'm/1', 'm/2', 'm/3', 'm/4']);
    const unsent = await db.query<RowDataPacket[]>('SELECT message_id FROM $db.warren_outbox WHERE sent_at IS NULL ORDER BY id');
    expect(unsent.map((r) => r.message_id)).toEqual(['young/0', 'other/0']);
    expect(await handler()).toEqual({ published: 0 });
  });
});
