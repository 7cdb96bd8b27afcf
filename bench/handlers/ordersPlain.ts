/**
 * The `warren-plain` diagnostic: the runner with exactly the baselines' SQL (the example app's `recordOrder`) and no
 * inbox, no schema, no outbox, so the gap to `raw` and `single` is the runner's and the process model's alone.
 * The example app's effect is idempotent by itself (INSERT IGNORE), so the invariant still holds on redelivery.
 */
import { recordOrder, type Order } from '../../functions/orders.js';
import { defineHandler } from '../../runtime/index.js';

export const handler = defineHandler<Order>({
  inbox: false,
  async handle(message, { query }) {
    await recordOrder(query, message.body);
  },
});
