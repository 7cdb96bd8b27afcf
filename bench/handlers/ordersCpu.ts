/**
 * The `warren-cpu` contender's handler: the example app's effect after about 5 ms of CPU per message
 * (`cpuWork`, sized by WARREN_BENCH_CPU_ROWS, which the bench calibrates on this machine).
 */
import { parseOrder, recordOrder } from '../../examples/orders/functions/orders.js';
import { defineHandler } from '../../runtime/index.js';
import { cpuRowsFromEnv, cpuWork } from './cpuWork.js';

const rows = cpuRowsFromEnv();

export const handler = defineHandler({
  async handle(message, { query }) {
    const order = parseOrder(message.body);
    cpuWork(order.orderId, rows);
    await recordOrder(query, order);
  },
});
