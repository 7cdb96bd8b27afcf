/**
 * The local runner's side of lowering a handler's `concurrency`. `declareTopology` unbinds the surplus shards
 * (`<queue>.<i>`, `i >= concurrency`), so no new message reaches them; this keeps consuming each one that still holds
 * messages, with an ordinary `ShardConsumer` through the handler's pool (same batches, same inbox, same per-key order
 * within the shard), until it is empty, then closes its channel and deletes it once it is seen empty and unconsumed
 * twice (`deleteIfDrained`). An empty surplus shard is deleted at once. Only Warren's own shard queues of this handler
 * are touched: a queue whose arguments are not the handler's shard arguments is left alone, with a warning.
 */
import type { ChannelModel } from 'amqplib';
import type { ResolvedHandlerConfig } from '../../config/config.js';
import { errorFields, type Logger } from '../../runtime/logger.js';
import { deleteIfDrained, isWarrenShard, queueState } from '../../topology/surplusShards.js';
import type { ShardConsumer } from './ShardConsumer.js';

/** The defaults of `SurplusShardDrain`'s options. */
export const SHARD_DRAIN_DEFAULTS = {
  /** How often an idle surplus shard is checked for emptiness. */
  pollMs: 500,
  /** How long a surplus shard's last batch may take when the drain retires its consumer. */
  stopTimeoutMs: 30_000,
} as const;

export interface SurplusShardDrainOptions {
  /** @default 500 */
  readonly pollMs?: number;
}

export class SurplusShardDrain {
  private readonly active = new Map<string, ShardConsumer>();
  private readonly retired: ShardConsumer[] = [];
  private connection: ChannelModel | undefined;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private stopped = false;
  /** Surplus shards deleted by this drain, in order. */
  public readonly deleted: string[] = [];

  public constructor(
    public readonly handler: ResolvedHandlerConfig,
    private readonly makeConsumer: (queue: string) => ShardConsumer,
    private readonly log: Logger,
    private readonly options: SurplusShardDrainOptions = {},
  ) {}

  /** Every consumer this drain ran (for counters and status views), retired ones included, one by one. */
  public *eachConsumer(): IterableIterator<ShardConsumer> {
    yield* this.retired;
    yield* this.active.values();
  }

  /** Surplus shards being consumed now. */
  public get draining(): readonly string[] { return [...this.active.keys()]; }

  /** Called after `declareTopology` on every (re)connection with the surplus shards it unbound. */
  public async adopt(connection: ChannelModel, orphans: readonly string[]): Promise<void> {
    this.connection = connection;
    for (const [queue, consumer] of this.active) {
      if (!orphans.includes(queue)) { this.active.delete(queue); this.retired.push(consumer); } // deleted by someone else
    }
    for (const queue of orphans) {
      const running = this.active.get(queue);
      if (running !== undefined) {
        await running.attach(await connection.createChannel());
        continue;
      }
      if (!(await isWarrenShard(connection, this.handler, queue))) {
        this.log.warn('a queue named like a surplus shard does not carry Warren\'s shard arguments; left alone', { handler: this.handler.name, queue });
        continue;
      }
      if (await deleteIfDrained(connection, queue)) {
        this.deleted.push(queue);
        this.log.info('surplus shard queue was empty; deleted', { handler: this.handler.name, queue });
        continue;
      }
      const state = await queueState(connection, queue);
      this.log.info('concurrency was lowered: consuming the surplus shard until it is empty, then deleting it', {
        handler: this.handler.name, queue, messages: state?.messages, concurrency: this.handler.concurrency,
      });
      await this.consume(connection, queue);
    }
    if (this.active.size > 0) this.schedule();
  }

  /** The connection is gone: the broker returns every unacked message to its surplus shard. */
  public detach(): void {
    this.connection = undefined;
    for (const consumer of this.active.values()) consumer.detach();
  }

  /** Stops consuming (in-flight batches finish, bounded by `timeoutMs`; the rest stays in the surplus shards). */
  public async stop(timeoutMs: number): Promise<{ timedOut: boolean }> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.checking;
    const results = await Promise.all([...this.active.values()].map((c) => c.stop(timeoutMs)));
    return { timedOut: results.some((r) => r.timedOut) };
  }

  private async consume(connection: ChannelModel, queue: string): Promise<void> {
    const consumer = this.makeConsumer(queue);
    this.active.set(queue, consumer);
    await consumer.attach(await connection.createChannel());
  }

  private schedule(): void {
    if (this.stopped || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.checking = this.check().catch((error: unknown) => this.log.warn('checking surplus shards failed; trying again', { handler: this.handler.name, ...errorFields(error) }))
        .finally(() => { this.checking = undefined; if (this.active.size > 0) this.schedule(); });
    }, this.options.pollMs ?? SHARD_DRAIN_DEFAULTS.pollMs);
  }

  /** Retires every idle surplus shard whose queue holds nothing ready, and deletes it when it stays empty. */
  private async check(): Promise<void> {
    for (const [queue, consumer] of [...this.active]) {
      const connection = this.connection;
      if (this.stopped || connection === undefined) return;
      if (consumer.bufferedMessages > 0 || consumer.inFlightMessages > 0) continue;
      const state = await queueState(connection, queue);
      if (state !== null && state.messages > 0) continue;
      // Closing the channel returns anything still unacked; deleteIfDrained then sees it and the shard is consumed again.
      await consumer.stop(SHARD_DRAIN_DEFAULTS.stopTimeoutMs);
      this.active.delete(queue);
      this.retired.push(consumer);
      if (this.stopped) return;
      if (state === null || await deleteIfDrained(connection, queue)) {
        this.deleted.push(queue);
        this.log.info('surplus shard drained and deleted', { handler: this.handler.name, queue, acked: consumer.counters.acked });
        continue;
      }
      await this.consume(connection, queue); // messages came back, or another runner holds it: keep consuming
    }
  }
}
