/**
 * The example app's order handlers (examples/orders/functions/orders.ts, `handler` and `batchHandler`) as the bench
 * runs them: the same code, announcing accepted orders on the bench's own topic exchange, named by
 * WARREN_BENCH_EVENTS_EXCHANGE (the bench sets it and deletes the exchange afterwards), rather than on the shared
 * `orders.events` that a developer's `npm start` may be using. Used by the runner contenders, `lambda-thin`,
 * `coldstart` and `scale.ts`.
 */
import { createOrderHandlers } from '../../examples/orders/functions/orders.js';

const eventsExchange = process.env.WARREN_BENCH_EVENTS_EXCHANGE;
if (eventsExchange === undefined || eventsExchange === '') {
  throw new Error(`bench/handlers/orders.ts: WARREN_BENCH_EVENTS_EXCHANGE must name the bench's own events exchange (the bench sets it), so that no bench publishes to the shared orders.events`);
}

export const { handler, batchHandler } = createOrderHandlers({ eventsExchange });
