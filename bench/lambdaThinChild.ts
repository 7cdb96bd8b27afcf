/**
 * The child process of the `lambda-thin` figure (bench/lambdaThin.ts): one Lambda execution environment running the
 * example handler (examples/orders/functions/orders.ts through bench/handlers/orders.ts: publishing to the exchange
 * the parent names in WARREN_BENCH_EVENTS_EXCHANGE) in-process, AWS_LAMBDA_FUNCTION_NAME set by the parent. It runs one
 * warm-up invocation, says `ready`, and on `go` runs `messages` orders, `perInvocation` per `aws:rmq` event, then says
 * `done`.
 */
import { handler } from './handlers/orders.js';
import { toRmqEvent } from '../runtime/toRmqEvent.js';
import { setEmfSink } from '../runtime/emf.js';
import { closeProcessConnection, processConnection } from '../runtime/db/processConnection.js';
import { closeProcessPublisher } from '../runtime/outbox/Publisher.js';

export interface LambdaThinOrder { readonly messages: number; readonly perInvocation: number }

/** This connection's own counters (exact whatever else the server runs). */
export const SESSION_COUNTERS = ['Questions', 'Com_show_status', 'Com_commit', 'Com_insert', 'Com_update', 'Com_delete'] as const;

async function sessionCounters(): Promise<Record<string, number>> {
  const { rows } = await processConnection().autocommit<{ Variable_name: string; Value: string }>(`SHOW SESSION STATUS WHERE Variable_name IN (${SESSION_COUNTERS.map(() => '?').join(', ')})`, SESSION_COUNTERS);
  return Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]));
}

function delivery(i: number) {
  return {
    content: Buffer.from(JSON.stringify({ orderId: `lt-${i}`, sku: `sku-${i % 7}`, quantity: 1 })),
    fields: { redelivered: false } as never,
    properties: { headers: {}, messageId: `lt-${i}` } as never,
  };
}

setEmfSink(() => undefined);
// The environment's first invocation (tables looked up, crash guard, the shard's first ordered flush): not measured.
await handler(toRmqEvent('orders.0', '/', [delivery(-1)]));
process.send?.({ ready: true });
process.once('message', (order: LambdaThinOrder) => {
  void (async () => {
    const before = await sessionCounters();
    let published = 0;
    for (let i = 0; i < order.messages; i += order.perInvocation) {
      const summary = await handler(toRmqEvent('orders.0', '/', Array.from({ length: order.perInvocation }, (_, j) => delivery(i + j))));
      published += summary.published ?? 0;
    }
    const after = await sessionCounters();
    process.send?.({ done: true, published, session: { before, after } });
    await closeProcessPublisher();
    await closeProcessConnection();
  })().catch((error: unknown) => process.send?.({ error: error instanceof Error ? error.message : String(error) }));
});
