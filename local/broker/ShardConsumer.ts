/**
 * One shard queue, consumed the way the Lambda trigger consumes it: batches of up to `batchSize` messages gathered for
 * at most `batchingWindowSeconds`, one batch in flight at a time, acked only after the worker succeeded, and on failure
 * everything unacked goes back to the queue (in order) after a backoff, to be retried whole. A ready batch waits in
 * its pool's `Dispatcher` for a free worker. Like the trigger, a batch is also closed before its event would pass
 * Lambda's 6 MB invocation payload, and a message Lambda would drop is dead-lettered instead of run (payloadBudget.ts).
 *
 * Shard queues are quorum queues with a single active consumer (runtime/amqp/queueArguments.ts): with several runner
 * replicas, this consumer may be a standby that receives nothing until the active one's channel closes; then the broker
 * hands it the shard, the returned (unacked) messages first, in order.
 */
import { hostname } from 'node:os';
import type { Channel, ConsumeMessage } from 'amqplib';
import { backoffDelay } from '../../runtime/backoff.js';
import type { ResolvedHandlerConfig } from '../../config/config.js';
import type { Logger } from '../../runtime/logger.js';
import type { DeadLetterSink } from '../../runtime/deadLetter/types.js';
import { toRmqEvent } from '../../runtime/toRmqEvent.js';
import { PayloadBudget } from './payloadBudget.js';
import { oversizeErrorReply, setAsideOversize } from './setAsideOversize.js';
import type { Dispatcher } from '../pool/Dispatcher.js';
import type { WorkerHandle } from '../pool/WorkerHandle.js';

export interface ShardCounters {
  received: number;
  acked: number;
  committed: number;
  deduplicated: number;
  deadLettered: number;
  failedBatches: number;
  requeued: number;
  batches: number;
  /** Replies RabbitMQ returned as unroutable (their caller is gone): dropped with a log line. */
  repliesDropped: number;
}

/** Messages acked by a group of shards together (a runner's): kept as they are acked, so reading it walks no shard. */
export interface AckTally { acked: number }

export const SHARD_DEFAULTS = {
  retryBackoffBaseMs: 200,
  retryBackoffMaxMs: 5_000,
} as const;

export class ShardConsumer {
  public readonly counters: ShardCounters = { received: 0, acked: 0, committed: 0, deduplicated: 0, deadLettered: 0, failedBatches: 0, requeued: 0, batches: 0, repliesDropped: 0 };
  private channel: Channel | undefined;
  private consumerTag: string | undefined;
  private generation = 0;
  private pending: ConsumeMessage[] = [];
  private firstPendingAt = 0;
  private windowTimer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** Messages received on the current channel and not yet acked or nacked. */
  private unacked = 0;
  /** The last of those: requeues return "everything up to it", never deliveries still on their way to us. */
  private lastUnacked: ConsumeMessage | undefined;
  /**
   * Set by a requeue: messages the broker sent before it took the requeue arrive after it, ahead of the requeued ones'
   * redelivery. They are sent back too (behind the requeued ones) until the first redelivered message arrives.
   */
  private awaitingRedelivery = false;
  /** When the current channel last received a message (0: never); a standby replica's shards stay at 0. */
  public lastDeliveryAt = 0;
  /** `worker` is undefined while a message Lambda would drop is being set aside (no worker runs it). */
  private inFlight: { readonly generation: number; readonly size: number; readonly done: Promise<void>; readonly worker: WorkerHandle | undefined } | undefined;
  /** Lambda's 6 MB invocation payload, applied to this shard's batches (payloadBudget.ts). */
  private readonly budget: PayloadBudget;
  private holding = false;
  private failStreak = 0;
  private stopping = false;

  public constructor(
    public readonly handler: ResolvedHandlerConfig,
    public readonly queue: string,
    private readonly pool: Dispatcher<WorkerHandle>,
    private readonly log: Logger,
    /** The handler's dead-letter sink, for messages Lambda would drop (set aside here, never run). */
    private readonly deadLetterSink: () => DeadLetterSink | undefined = () => undefined,
    /** Shared with the runner's other shards: its `acked` is theirs and this one's. */
    private readonly tally: AckTally = { acked: 0 },
  ) {
    this.budget = new PayloadBudget(queue, handler.vhost);
  }

  public get inFlightMessages(): number { return this.inFlight?.size ?? 0; }
  /** The worker running this shard's batch now, if one is in flight. */
  public get worker(): WorkerHandle | undefined { return this.inFlight?.worker; }
  public get bufferedMessages(): number { return this.pending.length; }

  /** Starts consuming on a fresh channel (called at start and after every reconnect). */
  public async attach(channel: Channel): Promise<void> {
    this.generation += 1;
    this.channel = channel;
    this.pending = [];
    this.unacked = 0;
    this.lastUnacked = undefined;
    this.awaitingRedelivery = false;
    this.lastDeliveryAt = 0;
    this.holding = false;
    await channel.prefetch(Math.min(65_535, this.handler.batchSize * 2));
    // The tag names this runner, so `rabbitmqctl list_consumers queue_name consumer_tag active` shows who holds a shard.
    const { consumerTag } = await channel.consume(this.queue, (msg) => { if (msg !== null) this.onMessage(msg); }, { noAck: false, consumerTag: consumerTagFor(this.queue) });
    this.consumerTag = consumerTag;
  }

  /** The connection is gone: the broker requeues every unacked message by itself. */
  public detach(): void {
    this.generation += 1;
    this.channel = undefined;
    this.consumerTag = undefined;
    this.pending = [];
    this.unacked = 0;
    this.lastUnacked = undefined;
    this.awaitingRedelivery = false;
    this.clearTimer();
  }

  /**
   * Stops: dispatches nothing more, waits for the batch in flight (bounded), then closes the channel, which returns
   * everything still unacked to the head of the queue in order. Not `basic.cancel` first: on a single-active-consumer
   * queue that would hand the shard to a standby replica while this one still holds older messages, and the standby
   * would process newer messages of the same keys before them. Closing does both in one step.
   */
  public async stop(timeoutMs: number): Promise<{ timedOut: boolean }> {
    this.stopping = true;
    this.clearTimer();
    let timedOut = false;
    if (this.inFlight !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
      timedOut = (await Promise.race([this.inFlight.done.then(() => 'done' as const), timeout])) === 'timeout';
      clearTimeout(timer);
      if (timedOut) {
        this.log.warn('batch still running at shutdown; requeueing it and killing its worker', { queue: this.queue, messages: this.inFlight?.size });
        this.inFlight?.worker?.kill();
        await this.inFlight?.done;
      }
    }
    const channel = this.channel;
    if (channel !== undefined) {
      this.counters.requeued += this.unacked;
      if (this.unacked > 0) this.log.debug('returning unacked messages by closing the channel', { queue: this.queue, messages: this.unacked });
      this.detach();
      await channel.close().catch(() => undefined);
    }
    return { timedOut };
  }

  private onMessage(msg: ConsumeMessage): void {
    this.counters.received += 1;
    this.lastDeliveryAt = Date.now();
    if (this.stopping) {
      this.unacked += 1; // held, not dispatched: closing the channel at the end of stop() returns it in order
      return;
    }
    if (this.awaitingRedelivery && msg.fields.redelivered) this.awaitingRedelivery = false;
    if (this.awaitingRedelivery) {
      this.channel?.nack(msg, false, true);
      this.counters.requeued += 1;
      return;
    }
    this.unacked += 1;
    this.lastUnacked = msg;
    if (this.pending.length === 0) this.firstPendingAt = Date.now();
    this.pending.push(msg);
    this.maybeDispatch();
  }

  private clearTimer(): void {
    if (this.windowTimer !== undefined) clearTimeout(this.windowTimer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.windowTimer = undefined;
    this.immediate = undefined;
  }

  private maybeDispatch(): void {
    if (this.stopping || this.holding || this.inFlight !== undefined || this.pending.length === 0 || this.channel === undefined) return;
    if (this.budget.isOversize(this.pending[0]!)) {
      this.setAsideHead(); // needs no worker
      return;
    }
    // Full by count, or by Lambda's 6 MB payload (a message Lambda would drop closes the batch before it, then is set aside).
    const full = this.pending.length >= this.handler.batchSize || this.budget.closesBatch(this.pending, this.handler.batchSize);
    const waitMs = this.firstPendingAt + this.handler.batchingWindowSeconds * 1000 - Date.now();
    if (!full && waitMs > 0) {
      this.windowTimer ??= setTimeout(() => { this.windowTimer = undefined; this.maybeDispatch(); }, waitMs);
      return;
    }
    if (!full && this.handler.batchingWindowSeconds === 0) {
      // No window: still take whatever arrives in this same turn of the event loop, as one batch.
      this.immediate ??= setImmediate(() => { this.immediate = undefined; this.pool.offer(this); });
      return;
    }
    this.pool.offer(this);
  }

  /** Called by the dispatcher with a free worker: hands it the next batch; false when there is none to run now. */
  public runOn(worker: WorkerHandle): boolean {
    if (this.stopping || this.holding || this.inFlight !== undefined || this.pending.length === 0 || this.channel === undefined || !worker.isReady) return false;
    this.clearTimer();
    const take = this.budget.batchLength(this.pending, this.handler.batchSize);
    if (take === 0) {
      this.setAsideHead();
      return false;
    }
    const batch = this.pending.splice(0, take);
    if (this.pending.length > 0) this.firstPendingAt = Date.now();
    const generation = this.generation;
    const channel = this.channel;
    this.counters.batches += 1;
    const done = worker.run(this.handler.name, this.queue, toRmqEvent(this.queue, this.handler.vhost, batch)).then(
      async (outcome) => {
        if (generation !== this.generation || channel === undefined) return; // connection replaced: broker requeued them
        if (outcome.ok) {
          // One frame for the whole batch: it is the oldest unacked run on this channel (one batch in flight, earlier
          // ones acked or all nacked), so "everything up to its last delivery tag" is exactly the batch.
          const last = batch[batch.length - 1];
          if (last !== undefined) channel.ack(last, true);
          this.unacked -= batch.length;
          this.counters.acked += batch.length;
          this.tally.acked += batch.length;
          this.counters.committed += outcome.summary.committed;
          this.counters.deduplicated += outcome.summary.deduplicated;
          this.counters.deadLettered += outcome.summary.deadLettered;
          this.counters.repliesDropped += outcome.summary.repliesDropped ?? 0;
          this.failStreak = 0;
          return;
        }
        await this.failAndRequeue(`handler failed: ${outcome.error.name}: ${outcome.error.message}`, batch);
      },
      async (error: Error) => {
        if (generation !== this.generation) return;
        await this.failAndRequeue(error.message, batch);
      },
    ).finally(() => {
      this.inFlight = undefined;
      this.maybeDispatch();
    });
    this.inFlight = { generation, size: batch.length, done, worker };
    return true;
  }

  /**
   * The head message is one Lambda would drop (its event alone is over 6 MB): instead of a worker, it goes to the
   * handler's dead-letter sink with why, then is acked; in flight like a batch, so order and acks are kept, and a
   * failure to write the letter returns it (and what follows) to the queue like a failed batch.
   */
  private setAsideHead(): void {
    const channel = this.channel;
    const msg = this.pending.shift();
    if (channel === undefined || msg === undefined) return;
    this.clearTimer();
    if (this.pending.length > 0) this.firstPendingAt = Date.now();
    const generation = this.generation;
    const done = setAsideOversize(this.deadLetterSink(), { handler: this.handler.name, queue: this.queue, vhost: this.handler.vhost }, msg, this.budget, this.log).then(
      (reason) => {
        if (generation !== this.generation) return; // connection replaced: the broker requeued it
        oversizeErrorReply(channel, msg, reason, this.log);
        channel.ack(msg); // the oldest unacked message on this channel (one batch in flight)
        this.unacked -= 1;
        this.counters.acked += 1;
        this.tally.acked += 1;
        this.counters.deadLettered += 1;
        this.failStreak = 0;
      },
      async (error: Error) => {
        if (generation !== this.generation) return;
        await this.failAndRequeue(error.message, [msg]);
      },
    ).finally(() => {
      this.inFlight = undefined;
      this.maybeDispatch();
    });
    this.inFlight = { generation, size: 1, done, worker: undefined };
  }

  /** Holds the failed batch for a backoff, then returns it (and everything buffered after it) to the queue in order. */
  private async failAndRequeue(reason: string, batch: readonly ConsumeMessage[]): Promise<void> {
    const size = batch.length;
    this.counters.failedBatches += 1;
    this.failStreak += 1;
    const delay = this.stopping ? 0 : backoffDelay(this.failStreak - 1, SHARD_DEFAULTS.retryBackoffBaseMs, SHARD_DEFAULTS.retryBackoffMaxMs);
    this.log.warn('batch failed; it will be redelivered whole', { queue: this.queue, messages: size, retryInMs: delay, reason });
    const generation = this.generation;
    this.holding = true;
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (generation !== this.generation) return;
    this.holding = false;
    if (this.stopping) return; // stop() closes the channel, which returns the batch and the rest in order
    this.requeue(batch);
  }

  /**
   * Returns the failed batch and everything buffered behind it, in order. The batch goes back with `basic.reject`, one
   * per message (a failed delivery: RabbitMQ 4.3 counts only rejects toward `x-delivery-limit`, 3.x-4.2 count every
   * return), the buffered rest with one `basic.nack` up to the last message received (not counted on 4.3; and not
   * nackAll, which would also return deliveries still on their way, whose later ack would close the channel).
   */
  private requeue(batch: readonly ConsumeMessage[]): void {
    const channel = this.channel;
    if (channel === undefined) return;
    this.clearTimer();
    const unacked = this.unacked;
    if (unacked === 0) return;
    for (const msg of batch) channel.reject(msg, true);
    if (unacked > batch.length && this.lastUnacked !== undefined) channel.nack(this.lastUnacked, true, true);
    this.unacked = 0;
    this.lastUnacked = undefined;
    this.awaitingRedelivery = true;
    this.pending = [];
    this.counters.requeued += unacked;
    this.log.debug('requeued unacked messages', { queue: this.queue, messages: unacked, rejected: batch.length });
  }
}

/** `warren:<host>:<pid>:<shard queue>`: unique per channel, and it tells operators which runner holds a shard. */
export function consumerTagFor(queue: string): string {
  return `warren:${hostname()}:${process.pid}:${queue}`.slice(0, 255);
}
