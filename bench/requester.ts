/**
 * The `request` contenders' latency part: orders sent as requests (client/RequestClient.ts, direct reply-to) at a fixed
 * rate, each to its handler's exchange keyed by order id; returns every round trip (publish to reply received), in ms.
 * A request that gets no reply (or an error reply) fails the contender: a fast wrong run must fail.
 */
import { RequestClient } from '../client/index.js';
import { orderFor } from './orders.js';
import type { Destination } from './publisher.js';

/** Longest wait for one reply: far beyond any healthy round trip, short enough to fail a broken run. */
const REPLY_TIMEOUT_MS = 30_000;

export async function requestOrders(url: string, to: Destination, count: number, rate: number, onProgress: (sent: number) => void): Promise<number[]> {
  const client = await RequestClient.connect({ url, timeoutMs: REPLY_TIMEOUT_MS });
  try {
    const started = Date.now();
    const inFlight: Promise<number>[] = [];
    for (let i = 0; i < count; i += 1) {
      const wait = started + (i * 1000) / rate - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const order = orderFor('latency', i, Date.now());
      inFlight.push(client.request(to.exchange(i), to.routingKey(order.orderId), order, { messageId: order.orderId }).then((reply) => reply.roundTripMs));
      if ((i + 1) % 100 === 0) onProgress(i + 1);
    }
    onProgress(count);
    return await Promise.all(inFlight);
  } finally {
    await client.close();
  }
}
