/**
 * Picks the dead-letter sink from the environment (the current handler's, see `env.ts`), one per destination per
 * process:
 * - WARREN_DLQ_URL: an SQS queue URL (what the CDK stack sets on Lambda; locally with an SQS-compatible endpoint).
 * - WARREN_DLQ_AMQP_URL + WARREN_DLQ_QUEUE: a RabbitMQ queue (what the local runner sets by default).
 * - neither: no sink; a permanent failure then fails the batch with a clear error instead of losing the message.
 * Inside `runWithDeadLetterSink()` (the handler test kit, testing/) the sink given there stands in for all of these.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ENV, envValue } from '../env.js';
import { processSingleton } from '../processRegistry.js';
import { RabbitMqSink } from './RabbitMqSink.js';
import { SqsSink } from './SqsSink.js';
import type { DeadLetterSink } from './types.js';

function sinks(): Map<string, DeadLetterSink> {
  return processSingleton('deadLetterSinks', () => new Map<string, DeadLetterSink>());
}

function standIns(): AsyncLocalStorage<DeadLetterSink> {
  return processSingleton('deadLetterSinkStandIn', () => new AsyncLocalStorage<DeadLetterSink>());
}

/**
 * Runs `fn` (an invocation) with `sink` standing in for the sink the environment names: `deadLetterSinkFromEnv()`
 * returns it there. The handler test kit (testing/) records dead letters this way; nothing else sets it. A handler
 * given its own `deadLetter` option keeps it.
 */
export function runWithDeadLetterSink<T>(sink: DeadLetterSink, fn: () => T): T {
  return standIns().run(sink, fn);
}

export function deadLetterSinkFromEnv(env: NodeJS.ProcessEnv = process.env): DeadLetterSink | undefined {
  const standIn = standIns().getStore();
  if (standIn !== undefined) return standIn;
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
