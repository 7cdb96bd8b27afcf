/**
 * The shard topology of one handler, declared idempotently. Used by the local runner at start and by the CDK stack's
 * custom resource on deploy, so both sides have the same exchange, queues and bindings.
 *
 *   publisher --(routing key = message key)--> exchange `<queue>` (x-consistent-hash)
 *       --> `<queue>.0` .. `<queue>.<N-1>` (durable, one consumer each: a worker locally, a trigger on AWS)
 *   `<queue>.dlq` (durable): dead letters, with the reason in x-warren-* headers
 *   the exchanges listed in `publishes` (durable), for `ctx.publish()`
 */
import type { ChannelModel } from 'amqplib';
import type { ResolvedHandlerConfig } from './config.js';
import { shardQueues } from './config.js';
import { TopologyError } from './errors.js';

export const CONSISTENT_HASH_EXCHANGE = 'x-consistent-hash';

export interface TopologyPlan {
  readonly exchange: string;
  readonly shards: readonly string[];
  /** `<queue>.dlq`: where the local runner's workers dead-letter (on AWS an SQS queue is used instead). */
  readonly deadLetterQueue: string;
}

export function topologyPlan(handler: Pick<ResolvedHandlerConfig, 'queue' | 'concurrency'>): TopologyPlan {
  return { exchange: handler.queue, shards: shardQueues(handler), deadLetterQueue: deadLetterQueueName(handler.queue) };
}

export function deadLetterQueueName(queue: string): string {
  return `${queue}.dlq`;
}

/** Thrown by the broker when the consistent-hash exchange plugin is not enabled. */
function explainExchangeError(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (/invalid exchange type|COMMAND_INVALID|x-consistent-hash/i.test(message)) {
    return new TopologyError('RabbitMQ refused the x-consistent-hash exchange: run `rabbitmq-plugins enable rabbitmq_consistent_hash_exchange` (Amazon MQ has it)', { cause: error });
  }
  return error instanceof Error ? error : new TopologyError(`Declaring the topology failed: ${message}`, { cause: error });
}

/**
 * Declares the exchange, the shard queues and their bindings (each with weight "1"). Shard queues left over from a
 * larger `concurrency` are unbound so no new message reaches them; their messages stay for you to move.
 * Returns the names of such leftover queues.
 */
export async function declareTopology(connection: ChannelModel, handler: Pick<ResolvedHandlerConfig, 'queue' | 'concurrency'> & Partial<Pick<ResolvedHandlerConfig, 'publishes'>>): Promise<{ plan: TopologyPlan; orphans: string[] }> {
  const plan = topologyPlan(handler);
  const channel = await connection.createChannel();
  try {
    try {
      await channel.assertExchange(plan.exchange, CONSISTENT_HASH_EXCHANGE, { durable: true });
    } catch (error) {
      throw explainExchangeError(error);
    }
    for (const shard of plan.shards) {
      await channel.assertQueue(shard, { durable: true });
      await channel.bindQueue(shard, plan.exchange, '1');
    }
    await channel.assertQueue(plan.deadLetterQueue, { durable: true });
    for (const { exchange, type } of handler.publishes ?? []) await channel.assertExchange(exchange, type, { durable: true });
  } finally {
    await channel.close().catch(() => undefined);
  }
  const orphans: string[] = [];
  for (let i = handler.concurrency; ; i += 1) {
    const name = `${handler.queue}.${i}`;
    const probe = await connection.createChannel();
    probe.on('error', () => undefined); // a 404 closes the probe channel; that is the answer
    try {
      await probe.checkQueue(name);
    } catch {
      break;
    }
    await probe.unbindQueue(name, plan.exchange, '1').catch(() => undefined);
    await probe.close().catch(() => undefined);
    orphans.push(name);
  }
  return { plan, orphans };
}
