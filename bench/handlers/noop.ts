/**
 * The `noop` contender's handler: decodes the batch (as every Warren handler does) and touches no database, so a run
 * measures the runner's dispatch alone: consume, build the `aws:rmq` event, IPC to the worker and back, ack.
 * It is a plain `RmqHandler`, not `defineHandler()`, because the latter opens a transaction per message.
 * For messages of the fixed-rate part (order ids `L-...`) it prints one line per batch with publish-to-handler
 * latencies, which the bench collects from the worker's output.
 */
import { decodeEvent } from '../../runtime/decode.js';
import type { RmqHandler } from '../../runtime/index.js';

export const LATENCY_LINE_PREFIX = 'warren-bench-latency ';

export const handler: RmqHandler = async (event) => {
  const messages = decodeEvent(event);
  const now = Date.now();
  const latencies: number[] = [];
  for (const message of messages) {
    const body = message.body as { orderId?: unknown; publishedAt?: unknown };
    if (typeof body.orderId === 'string' && body.orderId.startsWith('L-') && typeof body.publishedAt === 'number') latencies.push(now - body.publishedAt);
  }
  if (latencies.length > 0) process.stdout.write(`${LATENCY_LINE_PREFIX}${JSON.stringify(latencies)}\n`);
  return { messages: messages.length, committed: messages.length, deduplicated: 0, deadLettered: 0, retries: 0 };
};
