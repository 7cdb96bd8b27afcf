/**
 * One shard queue, consumed the way the Lambda trigger consumes it: batches of up to `batchSize` messages gathered for
 * at most `batchingWindowSeconds`, one batch in flight at a time, acked only after the worker succeeded, and on failure
 * everything unacked goes back to the queue (in order) after a backoff, to be retried whole. A ready batch waits in
 * its pool's `Dispatcher` for a free worker.
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import { backoffDelay } from '../runtime/backoff.js';
import type { ResolvedHandlerConfig } from '../runtime/config.js';
import type { Logger } from '../runtime/logger.js';
import { toRmqEvent } from './toRmqEvent.js';
import type { Dispatcher } from './pool/Dispatcher.js';
import type { WorkerHandle } from './pool/WorkerHandle.js';

export interface ShardCounters {
  received: number;
  acked: number;
  committed: number;
  deduplicated: number;
  deadLettered: number;
  failedBatches: number;
  requeued: number;
  batches: number;
}

export const SHARD_DEFAULTS = {
  retryBackoffBaseMs: 200,
  retryBackoffMaxMs: 5_000,
} as const;

export class ShardConsumer {
  public readonly counters: ShardCounters = { received: 0, acked: 0, committed: 0, deduplicated: 0, deadLettered: 0, failedBatches: 0, requeued: 0, batches: 0 };
  private channel: Channel | undefined;
  private consumerTag: string | undefined;
  private generation = 0;
  private pending: ConsumeMessage[] = [];
  private firstPendingAt = 0;
  private windowTimer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** Messages received on the current channel and not yet acked or nacked. */
  private unacked = 0;
  private inFlight: { readonly generation: number; readonly size: number; readonly done: Promise<void>; readonly worker: WorkerHandle } | undefined;
  private holding = false;
  private failStreak = 0;
  private stopping = false;

  public constructor(
    public readonly handler: ResolvedHandlerConfig,
    public readonly queue: string,
    private readonly pool: Dispatcher<WorkerHandle>,
    private readonly log: Logger,
  ) {}

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
    this.holding = false;
    await channel.prefetch(Math.min(65_535, this.handler.batchSize * 2));
    const { consumerTag } = await channel.consume(this.queue, (msg) => { if (msg !== null) this.onMessage(msg); }, { noAck: false });
    this.consumerTag = consumerTag;
  }

  /** The connection is gone: the broker requeues every unacked message by itself. */
  public detach(): void {
    this.generation += 1;
    this.channel = undefined;
    this.consumerTag = undefined;
    this.pending = [];
    this.unacked = 0;
    this.clearTimer();
  }

  /** Stops taking messages: cancels the consumer, waits for the batch in flight (bounded), requeues the rest. */
  public async stop(timeoutMs: number): Promise<{ timedOut: boolean }> {
    this.stopping = true;
    this.clearTimer();
    const channel = this.channel;
    if (channel !== undefined && this.consumerTag !== undefined) await channel.cancel(this.consumerTag).catch(() => undefined);
    let timedOut = false;
    if (this.inFlight !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
      timedOut = (await Promise.race([this.inFlight.done.then(() => 'done' as const), timeout])) === 'timeout';
      clearTimeout(timer);
      if (timedOut) {
        this.log.warn('batch still running at shutdown; requeueing it and killing its worker', { queue: this.queue, messages: this.inFlight?.size });
        this.inFlight?.worker.kill();
        await this.inFlight?.done;
      }
    }
    this.requeueAll('shutdown');
    return { timedOut };
  }

  private onMessage(msg: ConsumeMessage): void {
    this.counters.received += 1;
    if (this.stopping) {
      this.channel?.nack(msg, false, true);
      this.counters.requeued += 1;
      return;
    }
    this.unacked += 1;
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
    const full = this.pending.length >= this.handler.batchSize;
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
    const batch = this.pending.splice(0, this.handler.batchSize);
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
          this.counters.committed += outcome.summary.committed;
          this.counters.deduplicated += outcome.summary.deduplicated;
          this.counters.deadLettered += outcome.summary.deadLettered;
          this.failStreak = 0;
          return;
        }
        await this.failAndRequeue(`handler failed: ${outcome.error.name}: ${outcome.error.message}`, batch.length);
      },
      async (error: Error) => {
        if (generation !== this.generation) return;
        await this.failAndRequeue(error.message, batch.length);
      },
    ).finally(() => {
      this.inFlight = undefined;
      this.maybeDispatch();
    });
    this.inFlight = { generation, size: batch.length, done, worker };
    return true;
  }

  /** Holds the failed batch for a backoff, then returns it (and everything buffered after it) to the queue in order. */
  private async failAndRequeue(reason: string, size: number): Promise<void> {
    this.counters.failedBatches += 1;
    this.failStreak += 1;
    const delay = this.stopping ? 0 : backoffDelay(this.failStreak - 1, SHARD_DEFAULTS.retryBackoffBaseMs, SHARD_DEFAULTS.retryBackoffMaxMs);
    this.log.warn('batch failed; it will be redelivered whole', { queue: this.queue, messages: size, retryInMs: delay, reason });
    const generation = this.generation;
    this.holding = true;
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (generation !== this.generation) return;
    this.holding = false;
    this.requeueAll('retry');
  }

  private requeueAll(why: string): void {
    const channel = this.channel;
    if (channel === undefined) return;
    this.clearTimer();
    const unacked = this.unacked;
    if (unacked > 0) {
      channel.nackAll(true);
      this.unacked = 0;
      this.counters.requeued += unacked;
      this.log.debug('requeued unacked messages', { queue: this.queue, messages: unacked, why });
    }
    this.pending = [];
  }
}
