/**
 * The baselines' transaction (`naive`, `single`, `raw`, and the `warren-plain` diagnostic): the example app's SQL
 * (`recordOrder` of examples/orders/functions/orders.ts) inside Warren's inbox and outbox statements, written out by hand.
 */
import { recordOrder, type Order } from '../examples/orders/functions/orders.js';
import type { QueryFn } from '../runtime/index.js';

/**
 * The example app's whole transaction as Warren runs it, written out by hand for the baselines: claim the message in
 * the inbox, record the order, and for a new order write its `order.accepted` event to the outbox (the baselines do
 * not publish it: Warren's publish after the commit is work they skip).
 */
export async function exampleTransaction(query: QueryFn, order: Order): Promise<void> {
  const claim = await query('INSERT IGNORE INTO warren_inbox (handler, message_key) VALUES (?, ?)', ['bench', order.orderId]);
  if (claim.affectedRows === 0) return;
  if (!(await recordOrder(query, order))) return;
  await query(
    'INSERT INTO warren_outbox (handler, source_queue, exchange, routing_key, message_id, body, properties) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ['bench', 'bench', 'orders.events', 'order.accepted', `${order.orderId}/0`, Buffer.from(JSON.stringify({ ...order, acceptedAt: new Date().toISOString() })), '{"headers":{},"contentType":"application/json"}'],
  );
}
