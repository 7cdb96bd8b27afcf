/**
 * The `request` contenders' handler: the example app's effect (functions/orders.ts: the order once, the SKU's running
 * total, the `order.accepted` event through the outbox), and, for an order that carries `reply_to`, a reply with its
 * `orderId` and the SKU's total, through the outbox in the same transaction (ctx.reply). Orders without `reply_to`
 * (the contender's backlog) are handled as the example app handles them.
 */
import { ORDER_EVENTS, orderEventsExchange, orderSchema, recordOrder } from '../../functions/orders.js';
import { defineHandler } from '../../runtime/index.js';

export const handler = defineHandler({
  schema: orderSchema,
  onMissingKey: 'hash-body',
  async handle(message, { query, publish, reply }) {
    const fresh = await recordOrder(query, message.body);
    if (fresh) await publish(orderEventsExchange(), ORDER_EVENTS.accepted, { ...message.body, acceptedAt: new Date().toISOString() });
    if (typeof message.properties.replyTo !== 'string' || message.properties.replyTo === '') return;
    const { rows } = await query<{ quantity_total: number }>('SELECT quantity_total FROM sku_totals WHERE sku = ?', [message.body.sku]);
    await reply({ orderId: message.body.orderId, sku: message.body.sku, total: Number(rows[0]?.quantity_total ?? 0) });
  },
});
