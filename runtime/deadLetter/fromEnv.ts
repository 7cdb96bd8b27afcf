/**
 * Picks the dead-letter sink from the environment, once per process:
 * - WARREN_DLQ_URL: an SQS queue URL (what the CDK stack sets on Lambda; locally with an SQS-compatible endpoint).
 * - WARREN_DLQ_AMQP_URL + WARREN_DLQ_QUEUE: a RabbitMQ queue (what the local runner sets by default).
 * - neither: no sink; a permanent failure then fails the batch with a clear error instead of losing the message.
 */
import { RabbitMqSink } from './RabbitMqSink.js';
import { SqsSink } from './SqsSink.js';
import type { DeadLetterSink } from './types.js';

const KEY = Symbol.for('warren.deadLetterSink');
type Holder = { [KEY]?: DeadLetterSink | null };

export function deadLetterSinkFromEnv(env: NodeJS.ProcessEnv = process.env): DeadLetterSink | undefined {
  const holder = globalThis as Holder;
  if (holder[KEY] === undefined) {
    if (env.WARREN_DLQ_URL) holder[KEY] = new SqsSink(env.WARREN_DLQ_URL);
    else if (env.WARREN_DLQ_AMQP_URL && env.WARREN_DLQ_QUEUE) holder[KEY] = new RabbitMqSink(env.WARREN_DLQ_AMQP_URL, env.WARREN_DLQ_QUEUE);
    else holder[KEY] = null;
  }
  return holder[KEY] ?? undefined;
}

/** Closes the process's sink (worker shutdown). */
export async function closeDeadLetterSink(): Promise<void> {
  const holder = globalThis as Holder;
  const sink = holder[KEY];
  delete holder[KEY];
  await sink?.close();
}
