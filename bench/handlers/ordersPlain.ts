/**
 * The `warren-plain` diagnostic: the runner with exactly the baselines' statements (`exampleTransaction`: inbox claim,
 * order, total, outbox row, written out by hand) and none of Warren's own per-message work (no schema, Warren's inbox
 * off, no publish after the commit), so the gap to `raw` and `single` is the runner's and the process model's alone.
 */
import type { Order } from '../../examples/orders/functions/orders.js';
import { defineHandler } from '../../runtime/index.js';
import { exampleTransaction } from '../exampleTransaction.js';

export const handler = defineHandler<Order>({
  inbox: false,
  async handle(message, { query }) {
    await exampleTransaction(query, message.body);
  },
});
