/** Messages between the bench (parent: publisher, checker) and the process that hosts one contender (child). */
import type { Phase } from './orders.js';

/** How a contender consumes; each kind is one file in `bench/consumers/`. */
export const CONSUMER_KINDS = ['runner', 'naive', 'single', 'raw', 'amqp'] as const;
export type ConsumerKind = (typeof CONSUMER_KINDS)[number];

/** Everything the child needs, passed as JSON in WARREN_BENCH_SPEC. */
export interface ChildSpec {
  readonly contender: string;
  readonly kind: ConsumerKind;
  readonly amqpUrl: string;
  readonly databaseUrl: string;
  /** Queue name: the runner consumes `<queue>.0..W-1` behind exchange `<queue>`, naive and single consume `<queue>`. */
  readonly queue: string;
  readonly workers: number;
  /** Messages already waiting (or, for `raw`, to generate) before the timed part: `timedCount` plus a tail. */
  readonly backlogCount: number;
  /** The timed part ends when this many are processed; the tail keeps every shard busy until then. */
  readonly timedCount: number;
  /**
   * Runner contenders: the handler module, and the example app's handler settings from examples/orders/warren.config.ts
   * (batch size, window, replies, ...) as written there, without name, entry, export, queue, vhost, concurrency,
   * publishes and samples: the runner's consumer adds the contender's own events exchange (`eventsExchangeOf`).
   */
  readonly handler?: { readonly entry: string; readonly export: string; readonly settings: Readonly<Record<string, unknown>> };
  /** `single` and `raw` run the CPU-heavy variant with this many rows per message (see `handlers/cpuWork.ts`). */
  readonly cpuRows?: number;
  /** `single`: the channel's prefetch. */
  readonly prefetch?: number;
  /** `amqp`: the runner's batch size and window, to consume in the same pattern. */
  readonly batchSize?: number;
  readonly batchingWindowSeconds?: number;
  /**
   * Runner contenders with many handlers (`many`): this many handlers of one shard each, handler `i` consuming
   * `<queue>-h<i>.0` behind exchange `<queue>-h<i>` (see `shardQueues()`). Unset: one handler with W shards.
   */
  readonly handlers?: number;
  /** Runner contenders: `runner.workerModel`. */
  readonly workerModel?: 'process' | 'thread';
}

/**
 * The topic exchange a contender's handlers announce accepted orders on (`publishes`, WARREN_BENCH_EVENTS_EXCHANGE for
 * bench/handlers/orders.ts): its own, deleted with its queues, instead of the example app's shared `orders.events`.
 */
export function eventsExchangeOf(queue: string): string {
  return `${queue}.events`;
}

/** The handlers' exchanges (the publisher's destinations) and shard queues of a contender's topology. */
export function shardQueues(spec: Pick<ChildSpec, 'queue' | 'workers' | 'handlers'>): { exchanges: string[]; queues: string[] } {
  if (spec.handlers === undefined) return { exchanges: [spec.queue], queues: Array.from({ length: spec.workers }, (_, i) => `${spec.queue}.${i}`) };
  const exchanges = Array.from({ length: spec.handlers }, (_, i) => `${spec.queue}-h${i}`);
  return { exchanges, queues: exchanges.map((e) => `${e}.0`) };
}

export type ToChild =
  /** `raw` only (it has no broker): schedule `count` orders of `phase` at `rate` per second. */
  | { readonly type: 'generate'; readonly phase: Phase; readonly count: number; readonly rate: number }
  /** Report `reached` once `total` messages have been processed since the child started. */
  | { readonly type: 'expect'; readonly total: number }
  | { readonly type: 'stop' };

export type FromChild =
  /** Consuming; `processed` were already done when start-up finished (they are left out of the timed part). */
  | { readonly type: 'started'; readonly processed: number }
  | { readonly type: 'progress'; readonly processed: number }
  /** The timed part is over: `messages` processed in `ms` after `started`. */
  | { readonly type: 'throughput'; readonly messages: number; readonly ms: number }
  | { readonly type: 'reached'; readonly processed: number }
  | { readonly type: 'stopped'; readonly report: ChildReport }
  | { readonly type: 'failed'; readonly message: string };

export interface ChildReport {
  readonly processed: number;
  /** Peak RSS (VmHWM) of the child: the runner or the hand-written consumer. */
  readonly peakRssMb: number;
  /** Peak RSS of each worker process (runner contenders with process workers; worker threads count in the runner's). */
  readonly workerPeakRssMb: readonly number[];
  /** CPU time of the child and of each worker from `started` to `stop` (start-up left out), in ms. */
  readonly cpuMs: number;
  readonly workerCpuMs: readonly number[];
  /** DB connections the contender says it opened (the server's count is taken by the parent). */
  readonly clientConnects: number;
  /** Failed attempts that were retried (batches for the runner, messages otherwise), e.g. deadlocks. */
  readonly retries: number;
  /** Latencies measured inside the child (`raw`: schedule to commit; `noop`: publish to handler), in ms. */
  readonly latenciesMs?: readonly number[];
  /** Warnings and errors the contender logged. */
  readonly problems: readonly string[];
}
