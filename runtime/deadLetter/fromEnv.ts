/**
 * Picks the dead-letter sink from the environment (the current handler's, see `env.ts`), one per destination per
 * process:
 * - WARREN_DLQ_URL: an SQS queue URL (what the CDK stack sets on Lambda; locally with an SQS-compatible endpoint).
 * - WARREN_DLQ_AMQP_URL + WARREN_DLQ_QUEUE: a RabbitMQ queue (what the local runner sets by default).
 * - neither: no sink; a permanent failure then fails the batch with a clear error instead of losing the message.
 */
import { ENV, envValue } from '../env.js';
import { RabbitMqSink } from './RabbitMqSink.js';
import { SqsSink } from './SqsSink.js';
import type { DeadLetterSink } from './types.js';

const KEY = Symbol.for('warren.deadLetterSinks');
type Holder = { [KEY]?: Map<string, DeadLetterSink> };

function sinks(): Map<string, DeadLetterSink> {
  const holder = globalThis as Holder;
  holder[KEY] ??= new Map();
  return holder[KEY];
}

/** The sink these variables name, as a key (one sink per key) and a factory; undefined when they name none. */
function sinkSpec(env: NodeJS.ProcessEnv): { key: string; create: () => DeadLetterSink } | undefined {
  const sqsUrl = envValue(ENV.dlqUrl, env);
  const amqpUrl = envValue(ENV.dlqAmqpUrl, env);
  const queue = envValue(ENV.dlqQueue, env);
  if (sqsUrl !== undefined) return { key: `sqs ${sqsUrl}`, create: () => new SqsSink(sqsUrl) };
  if (amqpUrl !== undefined && queue !== undefined) return { key: `amqp ${amqpUrl} ${queue}`, create: () => new RabbitMqSink(amqpUrl, queue) };
  return undefined;
}

export function deadLetterSinkFromEnv(env: NodeJS.ProcessEnv = process.env): DeadLetterSink | undefined {
  const spec = sinkSpec(env);
  if (spec === undefined) return undefined;
  const all = sinks();
  let sink = all.get(spec.key);
  if (sink === undefined) {
    sink = spec.create();
    all.set(spec.key, sink);
  }
  return sink;
}

/** A new sink of the caller's own (not shared with the process; the caller closes it), or undefined when none is set. */
export function createDeadLetterSink(env: NodeJS.ProcessEnv): DeadLetterSink | undefined {
  return sinkSpec(env)?.create();
}

/** Closes the process's sinks (worker shutdown). */
export async function closeDeadLetterSink(): Promise<void> {
  const all = [...sinks().values()];
  sinks().clear();
  await Promise.all(all.map((s) => s.close()));
}
