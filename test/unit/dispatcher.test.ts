import { describe, expect, it } from 'vitest';
import { Dispatcher, type DispatchShard } from '../../local/pool/Dispatcher.js';

/** A worker that is busy from `runOn` until `finish()`. */
class FakeWorker {
  public busy = false;
  public get isReady(): boolean { return !this.busy; }
}

/** A shard with `backlog` batches; like ShardConsumer it re-offers itself when its batch finishes. */
class FakeShard implements DispatchShard<FakeWorker> {
  public running: FakeWorker | undefined;
  public constructor(public readonly name: string, public backlog: number, private readonly log: string[]) {}
  public runOn(worker: FakeWorker): boolean {
    if (this.backlog === 0 || this.running !== undefined) return false;
    this.backlog -= 1;
    this.running = worker;
    worker.busy = true;
    this.log.push(this.name);
    return true;
  }
}

function finish(dispatcher: Dispatcher<FakeWorker>, shard: FakeShard): void {
  const worker = shard.running!;
  shard.running = undefined;
  worker.busy = false;
  if (shard.backlog > 0) dispatcher.offer(shard);
  dispatcher.pump();
}

describe('Class: Dispatcher', () => {
  it('gives a cold shard the next free worker although a hot handler has a deep backlog on many shards', () => {
    // Prepare: one worker, four hot shards with 1,000 batches each, then one cold shard with one batch
    const log: string[] = [];
    const worker = new FakeWorker();
    const dispatcher = new Dispatcher([worker]);
    const hot = [0, 1, 2, 3].map((i) => new FakeShard(`hot.${i}`, 1_000, log));
    for (const shard of hot) dispatcher.offer(shard);
    finish(dispatcher, hot[0]!); // hot.0 ran; hot.1 runs now and hot.0 queued again behind hot.2, hot.3
    const cold = new FakeShard('cold.0', 1, log);
    dispatcher.offer(cold);

    // Act: let batches finish one by one until the cold one ran
    for (let i = 0; i < 10 && cold.backlog > 0; i += 1) finish(dispatcher, [...hot, cold].find((s) => s.running !== undefined)!);

    // Assess: round-robin order, the cold batch after one batch of each shard queued before it
    expect(log).toEqual(['hot.0', 'hot.1', 'hot.2', 'hot.3', 'hot.0', 'cold.0']);
  });

  it('keeps at most one batch in flight per shard and uses every free worker', () => {
    const log: string[] = [];
    const workers = [new FakeWorker(), new FakeWorker(), new FakeWorker()];
    const dispatcher = new Dispatcher(workers);
    const a = new FakeShard('a', 5, log);
    const b = new FakeShard('b', 5, log);
    dispatcher.offer(a);
    dispatcher.offer(a);
    dispatcher.offer(b);
    expect(log).toEqual(['a', 'b']);
    expect(workers.filter((w) => w.busy)).toHaveLength(2);
    expect(dispatcher.waiting).toBe(0);
  });

  it('hands batches to free workers in rotation', () => {
    const log: string[] = [];
    const workers = [new FakeWorker(), new FakeWorker()];
    const dispatcher = new Dispatcher(workers);
    const a = new FakeShard('a', 4, log);
    const used: FakeWorker[] = [];
    dispatcher.offer(a);
    for (let i = 0; i < 3; i += 1) { used.push(a.running!); finish(dispatcher, a); }
    expect(used.map((w) => workers.indexOf(w))).toEqual([0, 1, 0]);
  });

  it('skips a shard that has nothing to run any more and gives the worker to the next one', () => {
    const log: string[] = [];
    const worker = new FakeWorker();
    worker.busy = true;
    const dispatcher = new Dispatcher([worker]);
    const empty = new FakeShard('empty', 0, log);
    const full = new FakeShard('full', 1, log);
    dispatcher.offer(empty);
    dispatcher.offer(full);
    worker.busy = false;
    dispatcher.pump();
    expect(log).toEqual(['full']);
    expect(dispatcher.waiting).toBe(0);
  });
});
