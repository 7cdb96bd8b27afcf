/**
 * In-process calls of the example handler, counted by the server: a delivery of one example-app order as the runner's
 * consumer hands it to `toRmqEvent`, and the server's counters for this process's connection (`SHOW SESSION STATUS`).
 */
import type { RowDataPacket } from 'mysql2/promise';
import { processConnection } from '../../runtime/db/processConnection.js';

/** Order `o-<i>` (SKU `sku-<i mod 7>`, quantity 1) with message id `m-<i>`. */
export function orderDelivery(i: number) {
  return {
    content: Buffer.from(JSON.stringify({ orderId: `o-${i}`, sku: `sku-${i % 7}`, quantity: 1 })),
    fields: { redelivered: false } as never,
    properties: { headers: {}, messageId: `m-${i}` } as never,
  };
}

/** The named session status variables of this process's connection (the one the handler uses), by name. */
export async function sessionCounters(names: readonly string[]): Promise<Record<string, number>> {
  const { rows } = await processConnection().autocommit<RowDataPacket>(`SHOW SESSION STATUS WHERE Variable_name IN (${names.map(() => '?').join(', ')})`, names);
  return Object.fromEntries(rows.map((r) => [String(r.Variable_name), Number(r.Value)]));
}
