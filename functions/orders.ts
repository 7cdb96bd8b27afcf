/**
 * Example handler: records each order once and keeps a running total per SKU.
 * Publishers send `{"orderId": string, "sku": string, "quantity": positive integer}` to exchange `orders` with the
 * orderId as routing key and message_id. The schema types and checks the body (an invalid one is dead-lettered to
 * `orders.dlq` with the failing field); the inbox makes a redelivered order change nothing.
 */
import { z } from 'zod';
import { defineHandler, PermanentInputError, type QueryFn } from '../runtime/index.js';

export const orderSchema = z.object({
  orderId: z.string().min(1).max(64),
  sku: z.string().min(1).max(64),
  quantity: z.number().int().positive(),
});

export type Order = z.infer<typeof orderSchema>;

/** Checks a body outside a handler (benchmarks, scripts); throws PermanentInputError naming the first bad field. */
export function parseOrder(body: unknown): Order {
  const result = orderSchema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new PermanentInputError(issue?.path.join('.') ?? '(body)', issue?.message ?? 'invalid');
}

/** The effect of one order, inside the caller's transaction. Returns false when the order row already existed. */
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
  schema: orderSchema,
  // The inbox key is the AMQP message_id; a message without one is keyed by a hash of its body.
  onMissingKey: 'hash-body',
  async handle(message, { query, log }) {
    if (!(await recordOrder(query, message.body))) log.debug('order row already existed; nothing to do', { orderId: message.body.orderId });
  },
});
