/**
 * Surplus shards: shard queues `<queue>.<i>` with `i >= concurrency`, left by a larger `concurrency`. `declareTopology`
 * unbinds them from the handler's consistent-hash exchange (no new message reaches them); what they still hold must be
 * consumed or moved before they are deleted, or it would be stranded. Used by the local runner (which keeps consuming
 * them until empty), the `shards` command and, on AWS, the shard-drain custom resource.
 *
 * RabbitMQ 3.x refuses `queue.delete` with `if-empty` on quorum queues (540 NOT_IMPLEMENTED, which closes the whole
 * connection; tried on 3.10 here), so "delete only when empty" is: no ready message and no consumer, seen twice in a
 * row, then an unconditional delete. An unbound queue receives nothing new except by a direct publish to its name.
 */
import type { Channel, ChannelModel, ConsumeMessage, Options } from 'amqplib';
import type { ResolvedHandlerConfig } from '../config/config.js';
import { HANDLER_DEFAULTS } from '../config/config.js';
import { TopologyError } from './errors.js';
import { shardQueueOptions } from '../runtime/amqp/queueArguments.js';

export type SurplusHandler = Pick<ResolvedHandlerConfig, 'queue' | 'concurrency'> & Partial<Pick<ResolvedHandlerConfig, 'deliveryLimit'>>;

export interface QueueState {
  readonly queue: string;
  /** Ready messages (a passive declare does not count messages held unacked by a consumer). */
  readonly messages: number;
  readonly consumers: number;
}

/** Header a moved message carries: the surplus shard it was moved from. */
export const MOVED_FROM_HEADER = 'x-warren-moved-from';

/** Runs `fn` on a channel of its own; a refusal (404, 406) closes only that channel. */
async function onChannel<T>(connection: ChannelModel, fn: (channel: Channel) => Promise<T>): Promise<T> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined); // a refusal closes the channel; the rejected promise reports it
  try {
    return await fn(channel);
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/** Ready messages and consumers of `queue` (passive declare), or null when it does not exist. */
export async function queueState(connection: ChannelModel, queue: string): Promise<QueueState | null> {
  return onChannel(connection, async (channel) => {
    try {
      const { messageCount, consumerCount } = await channel.checkQueue(queue);
      return { queue, messages: messageCount, consumers: consumerCount };
    } catch {
      return null;
    }
  });
}

/** The surplus shards of `handler` that exist: `<queue>.<concurrency>` upward, to the first that does not exist. */
export async function surplusShards(connection: ChannelModel, handler: SurplusHandler): Promise<QueueState[]> {
  const out: QueueState[] = [];
  for (let i = handler.concurrency; ; i += 1) {
    const state = await queueState(connection, `${handler.queue}.${i}`);
    if (state === null) return out;
    out.push(state);
  }
}

/**
 * True when `queue` is one of Warren's shard queues of this handler: declaring it again with the shard arguments
 * Warren gives the handler's shards succeeds (RabbitMQ refuses other arguments with 406). Call only for a queue that
 * exists: the declaration would create a missing one.
 */
export async function isWarrenShard(connection: ChannelModel, handler: SurplusHandler, queue: string): Promise<boolean> {
  if (!new RegExp(`^${escapeRegExp(handler.queue)}\\.\\d+$`).test(queue)) return false;
  const options = shardQueueOptions(handler.queue, handler.deliveryLimit ?? HANDLER_DEFAULTS.deliveryLimit);
  return onChannel(connection, async (channel) => {
    try {
      await channel.assertQueue(queue, options);
      return true;
    } catch {
      return false;
    }
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface DeleteOptions {
  /** Pause between the two looks that must both find the queue empty and unconsumed. @default 250 */
  readonly settleMs?: number;
}

/**
 * Deletes `queue` when it holds no ready message and has no consumer, seen twice in a row `settleMs` apart (a
 * consumer that just closed may still be returning its unacked messages, and leaves the queue a moment later).
 * Returns true when deleted, false when it held messages, kept a consumer for 20 looks or did not exist.
 */
export async function deleteIfDrained(connection: ChannelModel, queue: string, options: DeleteOptions = {}): Promise<boolean> {
  let clean = 0;
  for (let look = 0; look < 20 && clean < 2; look += 1) {
    if (look > 0) await new Promise((r) => setTimeout(r, options.settleMs ?? 250));
    const state = await queueState(connection, queue);
    if (state === null || state.messages > 0) return false;
    // a consumer whose channel just closed leaves the quorum queue a moment later: look again (up to 20 looks)
    clean = state.consumers === 0 ? clean + 1 : 0;
  }
  if (clean < 2) return false;
  const { messageCount } = await onChannel(connection, (channel) => channel.deleteQueue(queue));
  if (messageCount > 0) throw new TopologyError(`Deleting surplus shard ${queue} dropped ${messageCount} message(s) that arrived after it was found empty (a direct publish to the queue?)`);
  return true;
}

export interface MoveOptions {
  /** Messages taken per round before waiting for the publisher confirms. @default 100 */
  readonly batch?: number;
  /** A round ends when no message arrived for this long. @default 200 */
  readonly idleMs?: number;
  /** Give up when the queue holds messages but none reached this consumer for this long (another consumer is active). @default 5_000 */
  readonly standbyMs?: number;
  /** Stop after the round in progress at this time (epoch ms) and return what moved so far. @default no limit */
  readonly deadline?: number;
}

/**
 * Moves every ready message of the surplus shard `queue` back through the handler's exchange `exchange`, with its
 * routing key (so it lands on the shard its key maps to now) and its properties (message_id included, so the inbox
 * still applies it exactly once; `x-warren-moved-from` added). Each message is acked on `queue` only after the broker
 * confirmed the republished copy, so a crash in between leaves a duplicate (which the inbox skips), never a loss. A
 * message the exchange cannot route (no shard bound) goes back to `queue` and the move fails. Returns how many moved.
 *
 * It consumes (RabbitMQ refuses `basic.get` on a quorum queue with a single active consumer: 405 RESOURCE_LOCKED), so
 * it only gets messages while no other consumer is active on the queue.
 */
export async function moveShardMessages(connection: ChannelModel, exchange: string, queue: string, options: MoveOptions = {}): Promise<number> {
  const batch = options.batch ?? 100;
  const idleMs = options.idleMs ?? 200;
  const channel = await connection.createConfirmChannel();
  channel.on('error', () => undefined);
  let unroutable: string | undefined;
  channel.on('return', (msg: ConsumeMessage) => { unroutable ??= msg.properties.messageId ?? '(no message id)'; });
  const buffer: ConsumeMessage[] = [];
  let lastDeliveryAt = Date.now();
  let moved = 0;
  try {
    await channel.prefetch(batch);
    await channel.consume(queue, (msg) => { if (msg !== null) { buffer.push(msg); lastDeliveryAt = Date.now(); } }, { noAck: false });
    for (;;) {
      while (buffer.length < batch && Date.now() - lastDeliveryAt < idleMs) await new Promise((r) => setTimeout(r, 20));
      const taken = buffer.splice(0);
      const last = taken[taken.length - 1];
      if (last === undefined) {
        const state = await queueState(connection, queue);
        if (state === null || state.messages === 0) return moved;
        if (Date.now() - lastDeliveryAt > (options.standbyMs ?? 5_000)) {
          throw new TopologyError(`${queue} still holds ${state.messages} message(s) but another consumer is active on it (single active consumer); stop that consumer, then move again`);
        }
        await new Promise((r) => setTimeout(r, idleMs));
        continue;
      }
      for (const msg of taken) channel.publish(exchange, msg.fields.routingKey, msg.content, republishOptions(msg, queue));
      await channel.waitForConfirms();
      if (unroutable !== undefined) {
        throw new TopologyError(`Exchange "${exchange}" could not route message ${unroutable} moved from ${queue}: no shard queue is bound to it. Start the runner (or deploy) so the topology is declared, then move again`);
      }
      channel.ack(last, true);
      moved += taken.length;
      if (options.deadline !== undefined && Date.now() > options.deadline) return moved;
    }
  } finally {
    await channel.close().catch(() => undefined); // returns anything unacked (a failed round) to the queue, in order
  }
}

/** The message's own properties, minus what the broker adds or checks per connection. */
function republishOptions(msg: ConsumeMessage, from: string): Options.Publish {
  const { headers, userId: _userId, ...properties } = msg.properties as ConsumeMessage['properties'] & { userId?: unknown };
  const kept: Record<string, unknown> = { ...(headers ?? {}) };
  delete kept['x-delivery-count']; // the quorum queue's count of returns; the copy starts afresh
  const options: Record<string, unknown> = { mandatory: true, persistent: true, headers: { ...kept, [MOVED_FROM_HEADER]: from } };
  for (const [name, value] of Object.entries(properties)) if (value !== undefined && value !== null) options[name] = value;
  return options as Options.Publish;
}
