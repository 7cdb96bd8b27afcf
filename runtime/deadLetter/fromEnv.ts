/**
 * Picks the dead-letter sink from the environment (the current handler's, see `env.ts`), one per destination per
 * process:
 * - WARREN_DLQ_URL: an SQS queue URL (what the CDK stack sets on Lambda; locally with an SQS-compatible endpoint).
 * - WARREN_DLQ_AMQP_URL + WARREN_DLQ_QUEUE: a RabbitMQ queue (what the local runner sets by default).
 * - neither: no sink; a permanent failure then fails the batch with a clear error instead of losing the message.
 */
import { ENV, envValue } from '../env.js';
import { processSingleton } from '../processRegistry.js';
import { RabbitMqSink } from './RabbitMqSink.js';
import { SqsSink } from './SqsSink.js';
import type { DeadLetterSink } from './types.js';

function sinks(): Map<string, DeadLetterSink> {
  return processSingleton('deadLetterSinks', () => new Map<string, DeadLetterSink>());
}

export function deadLetterSinkFromEnv(env: NodeJS.ProcessEnv = process.env): DeadLetterSink | undefined {
  const sqsUrl = envValue(ENV.dlqUrl, env);
  const amqpUrl = envValue(ENV.dlqAmqpUrl, env);
  const queue = envValue(ENV.dlqQueue, env);
  const key = sqsUrl !== undefined ? `sqs ${sqsUrl}` : amqpUrl !== undefined && queue !== undefined ? `amqp ${amqpUrl} ${queue}` : undefined;
  if (key === undefined) return undefined;
  const all = sinks();
  let sink = all.get(key);
  if (sink === undefined) {
    sink = sqsUrl !== undefined ? new SqsSink(sqsUrl) : new RabbitMqSink(amqpUrl!, queue!);
    all.set(key, sink);
  }
  return sink;
}

/** Closes the process's sinks (worker shutdown). */
export async function closeDeadLetterSink(): Promise<void> {
  const all = [...sinks().values()];
  sinks().clear();
  await Promise.all(all.map((s) => s.close()));
}
