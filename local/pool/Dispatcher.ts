/**
 * Fair order over the shards that have a batch ready: a FIFO of ready shards, each in it at most once. A free worker
 * takes the shard at the head; a shard re-enters at the tail only after its batch finished (one batch in flight per
 * shard keeps per-key order). So with S shards waiting, a shard waits for at most S-1 other batches, however deep
 * another handler's backlog is: a hot handler gets one turn per round like every other shard (round-robin over shards
 * with a ready batch). Free workers are taken in rotation, so every worker of the pool warms up.
 */

/** A worker as the dispatcher sees it. */
export interface DispatchWorker {
  readonly isReady: boolean;
}

/** A shard as the dispatcher sees it. */
export interface DispatchShard<W extends DispatchWorker> {
  /** Hands the shard's next batch to `worker`; false when it has nothing to run any more (it will offer itself again). */
  runOn(worker: W): boolean;
}

export class Dispatcher<W extends DispatchWorker> {
  private readonly ready = new Set<DispatchShard<W>>();
  private next = 0;

  public constructor(public readonly workers: readonly W[]) {}

  /** Shards waiting for a worker. */
  public get waiting(): number { return this.ready.size; }

  /** A shard has a batch ready: queue it (once) and run it if a worker is free. */
  public offer(shard: DispatchShard<W>): void {
    this.ready.add(shard);
    this.pump();
  }

  /** Forget a shard (it stopped or lost its channel). */
  public withdraw(shard: DispatchShard<W>): void {
    this.ready.delete(shard);
  }

  /** Gives every free worker the shard at the head of the queue. Called when a shard is offered or a worker frees up. */
  public pump(): void {
    const count = this.workers.length;
    for (let i = 0; i < count && this.ready.size > 0; i += 1) {
      const worker = this.workers[this.next]!;
      this.next = (this.next + 1) % count;
      if (!worker.isReady) continue;
      for (const shard of this.ready) {
        this.ready.delete(shard);
        if (shard.runOn(worker)) break;
      }
    }
  }
}
