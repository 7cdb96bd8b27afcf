/**
 * A contender's queues on the broker: declared before it starts (the runner's shard topology for every handler, or one
 * plain quorum queue for `naive` and `single`), where the publisher sends each order, the check that they are empty
 * afterwards, and their deletion.
 */
import type amqp from 'amqplib';
import { declareTopology } from '../topology/topology.js';
import { eventsExchangeOf, shardQueues } from './protocol.js';
import type { Destination } from './publisher.js';

export class ContenderQueues {
  private constructor(
    private readonly broker: amqp.ChannelModel,
    private readonly queue: string,
    private readonly exchanges: readonly string[],
    /** The queues the contender consumes. */
    public readonly queues: readonly string[],
    /** Where the publisher sends order `index`. */
    public readonly destination: Destination,
  ) {}

  /**
   * Sharded (`runner`, `amqp`): `handlers` handlers of one shard each, or one handler with `workers` shards, behind
   * consistent-hash exchanges, orders spread round-robin over the handlers. Otherwise one queue named `queue`.
   */
  public static async declare(broker: amqp.ChannelModel, queue: string, sharded: boolean, workers: number, handlers: number | undefined): Promise<ContenderQueues> {
    if (!sharded) {
      // A quorum queue, as the shard queues are and as Amazon MQ for RabbitMQ 4 declares an untyped queue.
      const setup = await broker.createChannel();
      await setup.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      await setup.close();
      return new ContenderQueues(broker, queue, [], [queue], { exchange: () => '', routingKey: () => queue });
    }
    const { exchanges, queues } = shardQueues({ queue, workers, handlers });
    const declared = new ContenderQueues(broker, queue, exchanges, queues, {
      exchange: (index) => exchanges[index % exchanges.length] ?? queue,
      routingKey: (orderId) => orderId,
    });
    try {
      for (const exchange of exchanges) await declareTopology(broker, { queue: exchange, concurrency: handlers === undefined ? workers : 1 });
    } catch (error) {
      await declared.delete(); // what was declared before the failure (200 handlers' quorum queues must not be left behind)
      throw error;
    }
    return declared;
  }

  /** Throws when a message is left in any of the contender's queues. */
  public async checkEmpty(): Promise<void> {
    const channel = await this.broker.createChannel();
    try {
      for (const name of this.queues) {
        const { messageCount } = await channel.checkQueue(name);
        if (messageCount !== 0) throw new Error(`${messageCount} messages are still in ${name} after the contender stopped`);
      }
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  /** Deletes every queue, dead-letter queue and exchange the contender had, its events exchange too (the runner declares it). */
  public async delete(): Promise<void> {
    const channel = await this.broker.createChannel();
    for (const name of this.queues) await channel.deleteQueue(name).catch(() => undefined);
    for (const name of [this.queue, ...this.exchanges]) {
      await channel.deleteQueue(name).catch(() => undefined);
      await channel.deleteQueue(`${name}.dlq`).catch(() => undefined);
      await channel.deleteExchange(name).catch(() => undefined);
    }
    await channel.deleteExchange(eventsExchangeOf(this.queue)).catch(() => undefined);
    await channel.close().catch(() => undefined);
  }
}
