/** Publishes the bench's orders with publisher confirms: all at once before a timed part, or at a fixed rate. */
import type { ConfirmChannel } from 'amqplib';
import { orderFor, type Phase } from './orders.js';

/** Where a contender's messages go: a handler's consistent-hash exchange (by order index), or one plain queue. */
export interface Destination {
  exchange(index: number): string;
  /** Routing key of an order (the order id for the consistent-hash exchange). */
  routingKey(orderId: string): string;
}

const CONFIRM_EVERY = 1_000;

/**
 * Publishes `count` orders of `phase` (`rate` per second, 0 = as fast as the broker takes them) and returns each one's
 * publish time (ms since epoch, also in the body as `publishedAt`).
 */
export async function publishOrders(
  channel: ConfirmChannel,
  to: Destination,
  phase: Phase,
  count: number,
  rate: number,
  onProgress: (published: number) => void,
): Promise<Float64Array> {
  const times = new Float64Array(count);
  const started = Date.now();
  for (let i = 0; i < count; i += 1) {
    if (rate > 0) {
      const wait = started + (i * 1000) / rate - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const now = Date.now();
    const order = orderFor(phase, i, now);
    times[i] = now;
    const ok = channel.publish(to.exchange(i), to.routingKey(order.orderId), Buffer.from(JSON.stringify(order)), {
      persistent: true,
      contentType: 'application/json',
      messageId: order.orderId,
      timestamp: Math.floor(now / 1000),
    });
    if (!ok) await new Promise((r) => channel.once('drain', r));
    if (rate === 0 && (i + 1) % CONFIRM_EVERY === 0) {
      await channel.waitForConfirms();
      onProgress(i + 1);
    } else if (rate > 0 && (i + 1) % 100 === 0) {
      onProgress(i + 1);
    }
  }
  await channel.waitForConfirms();
  onProgress(count);
  return times;
}
