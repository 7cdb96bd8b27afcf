/**
 * The orders handlers, tested the way a team tests its own: `warren/testing` runs them through the path Lambda and the
 * runner use (decode, schema, inbox, outbox) on a MySQL database of this file's own, and records what they publish.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestKit, type TestKit } from 'warren/testing';
import { batchHandler, handler } from '../functions/orders.js';

let kit: TestKit;
beforeAll(async () => {
  // Paths of migrations are relative to this app's folder, wherever vitest runs from.
  kit = await createTestKit({ migrations: ['functions/schema.sql'], root: fileURLToPath(new URL('..', import.meta.url)) });
});
afterAll(() => kit?.close());

const total = async (sku: string) => (await kit.query<{ quantity_total: number }>('SELECT quantity_total FROM sku_totals WHERE sku = ?', [sku]))[0]?.quantity_total;

describe('The orders handler', () => {
  it('records an order, adds it to its SKU total and announces it on orders.events', async () => {
    const run = await kit.run(handler, [{ body: { orderId: 'o-1', sku: 'sku-a', quantity: 2 } }], { name: 'orders' });

    expect(run.summary).toMatchObject({ messages: 1, committed: 1, deduplicated: 0, deadLettered: 0 });
    expect(run.published.map((m) => [m.exchange, m.routingKey, (m.body as { orderId: string }).orderId])).toEqual([['orders.events', 'order.accepted', 'o-1']]);
    expect(await total('sku-a')).toBe(2);
  });

  it('changes nothing when the broker delivers the same order again', async () => {
    const first = await kit.run(handler, [{ body: { orderId: 'o-2', sku: 'sku-b', quantity: 3 } }], { name: 'orders' });
    const again = await kit.run(handler, first.messages.map((m) => ({ ...m, redelivered: true })), { name: 'orders' });

    expect(again.summary).toMatchObject({ committed: 0, deduplicated: 1 });
    expect(again.published).toEqual([]);
    expect(await total('sku-b')).toBe(3);
  });

  it('dead-letters an order with a bad quantity, naming the field, and goes on with the rest', async () => {
    const run = await kit.run(handler, [
      { body: { orderId: 'o-3', sku: 'sku-c', quantity: -1 } },
      { body: 'not json' },
      { body: { orderId: 'o-4', sku: 'sku-c', quantity: 1 } },
    ], { name: 'orders' });

    expect(run.deadLettered.map((d) => [d.messageId, d.errorName])).toEqual([[run.messages[0]!.messageId, 'SchemaValidationError'], [run.messages[1]!.messageId, 'DecodeError']]);
    expect(run.deadLettered[0]!.reason).toContain('quantity');
    expect(await total('sku-c')).toBe(1);
  });

  it('answers an order sent as a request with the SKU total after it', async () => {
    await kit.run(handler, [{ body: { orderId: 'o-5', sku: 'sku-d', quantity: 4 } }], { name: 'orders' });
    const run = await kit.run(handler, [{ body: { orderId: 'o-6', sku: 'sku-d', quantity: 1 }, properties: { replyTo: 'callers', correlationId: 'c-6' } }], { name: 'orders' });

    expect(run.replies.map((r) => [r.routingKey, r.correlationId, r.body, r.error])).toEqual([['callers', 'c-6', { orderId: 'o-6', sku: 'sku-d', skuTotal: 5 }, null]]);
  });
});

describe('The orders batch handler', () => {
  it('records a batch in one go: each order once, totals per SKU, one event per new order', async () => {
    const run = await kit.run(batchHandler, [
      { body: { orderId: 'b-1', sku: 'sku-e', quantity: 1 } },
      { body: { orderId: 'b-2', sku: 'sku-e', quantity: 2 } },
      { body: { orderId: 'b-3', sku: 'sku-f', quantity: 5 } },
    ], { name: 'orders' });

    expect(run.summary).toMatchObject({ messages: 3, committed: 3, deadLettered: 0 });
    expect(run.published.map((m) => (m.body as { orderId: string }).orderId).sort()).toEqual(['b-1', 'b-2', 'b-3']);
    expect([await total('sku-e'), await total('sku-f')]).toEqual([3, 5]);
  });
});
