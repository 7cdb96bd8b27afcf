/**
 * Contender `amqp-ceiling`: what amqplib alone can do with the runner's consuming pattern, so `noop` has a ceiling to
 * be compared with. One process, one connection, one channel per shard queue with the runner's prefetch (twice the
 * batch size), messages gathered into batches of the handler's batch size within its batching window, and each batch
 * acked with one multiple-ack frame, as `ShardConsumer` does; nothing else (no event, no IPC, no worker). It parses each
 * body only to take the fixed-rate part's publish-to-consumer latencies, as the `noop` handler does.
 */
import amqp, { type Channel, type ConsumeMessage } from 'amqplib';
import type { ConsumerFactory } from './Consumer.js';

export const startAmqpCeiling: ConsumerFactory = async (spec) => {
  const batchSize = spec.batchSize ?? 100;
  const windowMs = (spec.batchingWindowSeconds ?? 0) * 1000;
  const latenciesMs: number[] = [];
  let acked = 0;
  const connection = await amqp.connect(spec.amqpUrl);
  const channels: Channel[] = [];

  const consumeShard = async (queue: string): Promise<void> => {
    const channel = await connection.createChannel();
    channels.push(channel);
    await channel.prefetch(Math.min(65_535, batchSize * 2));
    const pending: ConsumeMessage[] = [];
    let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
    const flush = () => {
      timer = undefined;
      const batch = pending.splice(0, batchSize);
      const last = batch[batch.length - 1];
      if (last === undefined) return;
      const now = Date.now();
      for (const msg of batch) {
        const body = JSON.parse(msg.content.toString('utf8')) as { orderId?: string; publishedAt?: number };
        if (body.orderId?.startsWith('L-') === true && typeof body.publishedAt === 'number') latenciesMs.push(now - body.publishedAt);
      }
      channel.ack(last, true);
      acked += batch.length;
      if (pending.length > 0) schedule();
    };
    const schedule = () => {
      if (pending.length >= batchSize) flush();
      else timer ??= windowMs === 0 ? setImmediate(flush) : setTimeout(flush, windowMs);
    };
    await channel.consume(queue, (msg) => {
      if (msg === null) return;
      pending.push(msg);
      if (pending.length >= batchSize) {
        if (timer !== undefined) { clearTimeout(timer as NodeJS.Timeout); clearImmediate(timer as NodeJS.Immediate); }
        flush();
      } else {
        schedule();
      }
    });
  };

  for (let shard = 0; shard < spec.workers; shard += 1) await consumeShard(`${spec.queue}.${shard}`);
  return {
    processed: () => acked,
    workerPids: () => [],
    async stop() {
      for (const channel of channels) await channel.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
      return { clientConnects: 0, retries: 0, problems: [], latenciesMs };
    },
  };
};
