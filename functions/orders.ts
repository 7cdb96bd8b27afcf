/**
 * Example handler: records each order once and keeps a running total per SKU.
 * Publishers send `{"orderId": string, "sku": string, "quantity": positive integer}` to exchange `orders` with the
 * orderId as routing key. A redelivered order changes nothing: the total moves only when the order row is new.
 */
import { defineHandler, PermanentInputError, type QueryFn } from '../runtime/index.js';

export interface Order {
  readonly orderId: string;
  readonly sku: string;
  readonly quantity: number;
}

/** Checks the body's shape; the error names the field and what was expected. */
export function parseOrder(body: unknown): Order {
  const o = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof o.orderId !== 'string' || o.orderId.length === 0 || o.orderId.length > 64) throw new PermanentInputError('orderId', 'expected a string of 1-64 characters');
  if (typeof o.sku !== 'string' || o.sku.length === 0 || o.sku.length > 64) throw new PermanentInputError('sku', 'expected a string of 1-64 characters');
  if (typeof o.quantity !== 'number' || !Number.isInteger(o.quantity) || o.quantity <= 0) throw new PermanentInputError('quantity', 'expected a positive integer');
  return { orderId: o.orderId, sku: o.sku, quantity: o.quantity };
}

/** The effect of one order, inside the caller's transaction. Returns false when the order was already recorded. */
export async function recordOrder(query: QueryFn, order: Order): Promise<boolean> {
  const inserted = await query('INSERT IGNORE INTO orders (order_id, sku, quantity) VALUES (?, ?, ?)', [order.orderId, order.sku, order.quantity]);
  if (inserted.affectedRows === 0) return false;
  await query(
    'INSERT INTO sku_totals (sku, quantity_total) VALUES (?, ?) ON DUPLICATE KEY UPDATE quantity_total = quantity_total + VALUES(quantity_total)',
    [order.sku, order.quantity],
  );
  return true;
}

export const handler = defineHandler({
  async handle(message, { query, log }) {
    const order = parseOrder(message.body);
    if (!(await recordOrder(query, order))) log.debug('order already recorded; nothing to do', { orderId: order.orderId });
  },
});
