/**
 * The shard topology of one handler, declared idempotently. Used by the local runner at start and by the CDK stack's
 * custom resource on deploy, so both sides have the same exchange, queues, arguments and bindings.
 *
 *   publisher --(routing key = message key)--> exchange `<queue>` (x-consistent-hash)
 *       --> `<queue>.0` .. `<queue>.<N-1>` (quorum, single active consumer: a runner's shard locally, a trigger on AWS)
 *            |  past `deliveryLimit` returns, the broker dead-letters (at-least-once) through the default exchange:
 *            v
 *   `<queue>.dlq` (quorum): dead letters; Warren's own carry the reason in x-warren-* headers, the broker's in x-death
 *   the exchanges listed in `publishes` (durable), for `ctx.publish()`
 *
 * The arguments of both queue kinds live in queueArguments.ts (re-exported here).
 */
import type { ChannelModel } from 'amqplib';
import type { ResolvedHandlerConfig } from '../config/config.js';
import { HANDLER_DEFAULTS, shardQueues } from '../config/config.js';
import { declareQueue } from './declareQueue.js';
import { TopologyError } from './errors.js';
import { DEAD_LETTER_QUEUE_OPTIONS, deadLetterQueueName, shardQueueOptions } from '../runtime/amqp/queueArguments.js';

export {
  DEAD_LETTER_QUEUE_ARGUMENTS, DEAD_LETTER_QUEUE_DELIVERY_LIMIT, DEAD_LETTER_QUEUE_OPTIONS, deadLetterQueueName, shardQueueArguments, shardQueueOptions,
  type QueueArguments,
} from '../runtime/amqp/queueArguments.js';

export const CONSISTENT_HASH_EXCHANGE = 'x-consistent-hash';

export interface TopologyPlan {
  readonly exchange: string;
  readonly shards: readonly string[];
  /**
   * `<queue>.dlq`: where the broker dead-letters what exceeds the delivery limit (locally and on AWS), and where the
   * local runner's workers dead-letter (on AWS Warren's own dead letters go to an SQS queue instead).
   */
  readonly deadLetterQueue: string;
}

/** What `declareTopology` needs of a handler; `deliveryLimit` and `vhost` take the config defaults when left out. */
export type TopologyHandler = Pick<ResolvedHandlerConfig, 'queue' | 'concurrency'> & Partial<Pick<ResolvedHandlerConfig, 'publishes' | 'deliveryLimit' | 'vhost'>>;

export function topologyPlan(handler: Pick<ResolvedHandlerConfig, 'queue' | 'concurrency'>): TopologyPlan {
  return { exchange: handler.queue, shards: shardQueues(handler), deadLetterQueue: deadLetterQueueName(handler.queue) };
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
 * larger `concurrency` are unbound so no new message reaches them; the runner (local/broker/shardDrain.ts) or, on AWS, their
 * drain resources (lib/functions/shardDrainResource.ts) empty and delete them. Returns the names of such leftover queues.
 */
export async function declareTopology(connection: ChannelModel, handler: TopologyHandler): Promise<{ plan: TopologyPlan; orphans: string[] }> {
  const plan = topologyPlan(handler);
  const vhost = handler.vhost ?? HANDLER_DEFAULTS.vhost;
  const shardOptions = shardQueueOptions(handler.queue, handler.deliveryLimit ?? HANDLER_DEFAULTS.deliveryLimit);
  const channel = await connection.createChannel();
  channel.on('error', () => undefined); // a refused declaration closes the channel; the rejected promise reports it
  try {
    try {
      await channel.assertExchange(plan.exchange, CONSISTENT_HASH_EXCHANGE, { durable: true });
    } catch (error) {
      throw explainExchangeError(error);
    }
    // The dead-letter queue first: the shard queues dead-letter into it.
    await declareQueue(channel, plan.deadLetterQueue, vhost, DEAD_LETTER_QUEUE_OPTIONS, plan.exchange);
    for (const shard of plan.shards) {
      await declareQueue(channel, shard, vhost, shardOptions, plan.exchange);
      await channel.bindQueue(shard, plan.exchange, '1');
    }
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
