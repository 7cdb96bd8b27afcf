/**
 * What the bench runs, in order, and the ratios it reports. A contender is one entry here; adding one is an entry in
 * CONTENDERS and, if it has a target, one in RATIOS.
 */
import type { ConsumerKind } from './protocol.js';

export interface ContenderDefinition {
  /** The name in the table and in `latest.json`. */
  readonly name: string;
  readonly kind: ConsumerKind;
  /** One line for the README and `--help`. */
  readonly about: string;
  /**
   * Runner contenders: the handler module (relative to Warren's root) and export; `bench/handlers/orders.ts` is the
   * example app's (examples/orders/functions/orders.ts) publishing to the contender's own events exchange. The handler
   * settings (batch size, window, ...) are the example app's in examples/orders/warren.config.ts; `settings` overrides
   * some of them.
   */
  readonly handler?: { readonly entry: string; readonly export: string; readonly settings?: Readonly<Record<string, unknown>> };
  /** Runs the CPU-heavy variant (about 5 ms of `cpuWork` per message). @default false */
  readonly cpu?: boolean;
  /** Messages in the timed part with default settings (`--quick` takes a fraction). */
  readonly messages: number;
  /** Messages per second for the latency part; capped at 40% of the throughput the contender just measured. */
  readonly latencyRate: number;
  /** Whether its run leaves orders behind to check (false only for `noop`, which checks counts instead). */
  readonly tables: boolean;
  /** Reported under `diagnostics` (not `contenders`) in the JSON: it explains a result rather than being one. @default false */
  readonly diagnostic?: boolean;
  /** Runs `--many-handlers` handlers of one shard each instead of one handler with W shards. @default false */
  readonly manyHandlers?: boolean;
  /**
   * Thin traffic: the latency part runs at exactly this many messages/s (not capped by the throughput) for the bench's
   * `thinSeconds`, and the server's counters cover that part alone (the backlog before it only warms every shard up).
   */
  readonly fixedRate?: number;
  /**
   * Request and reply (issue 27): the fixed-rate part sends each order as a request (client/RequestClient.ts, direct
   * reply-to) and p50/p99 are the round trip, publish to reply received, instead of publish to commit. Needs
   * `fixedRate` and a handler that replies. @default false
   */
  readonly request?: boolean;
}

export const CONTENDERS: readonly ContenderDefinition[] = [
  { name: 'warren', kind: 'runner', handler: { entry: 'bench/handlers/orders.ts', export: 'handler' }, about: 'the local runner with the example app, W workers, a transaction per message', messages: 40_000, latencyRate: 500, tables: true },
  { name: 'naive', kind: 'naive', about: 'amqplib, prefetch W, a new mysql2 connection per message, same SQL', messages: 5_000, latencyRate: 500, tables: true },
  { name: 'raw', kind: 'raw', about: 'W mysql2 connections running the same transaction in a tight loop, no broker', messages: 40_000, latencyRate: 500, tables: true },
  { name: 'amqp-ceiling', kind: 'amqp', about: 'amqplib alone consuming the shard queues with the runner\'s prefetch, batches and multiple-ack; nothing else', messages: 100_000, latencyRate: 500, tables: false },
  { name: 'noop', kind: 'runner', handler: { entry: 'bench/handlers/noop.ts', export: 'handler' }, about: 'the runner with a handler that decodes the batch and does nothing else', messages: 100_000, latencyRate: 500, tables: false },
  { name: 'batch', kind: 'runner', handler: { entry: 'bench/handlers/orders.ts', export: 'batchHandler', settings: { batchSize: 100 } }, about: 'the runner with the example app in batch mode (handleBatch: one transaction per batch), batch size 100', messages: 60_000, latencyRate: 500, tables: true },
  { name: 'single', kind: 'single', about: 'one process: amqplib with prefetch 50, a mysql2 pool of W connections, same SQL', messages: 40_000, latencyRate: 500, tables: true },
  { name: 'warren-cpu', kind: 'runner', handler: { entry: 'bench/handlers/ordersCpu.ts', export: 'handler' }, cpu: true, about: 'as warren, plus ~5 ms of CPU per message (aggregating a generated result set)', messages: 4_000, latencyRate: 80, tables: true },
  { name: 'single-cpu', kind: 'single', cpu: true, about: 'as single, plus the same ~5 ms of CPU per message', messages: 2_000, latencyRate: 80, tables: true },
  { name: 'many', kind: 'runner', handler: { entry: 'bench/handlers/orders.ts', export: 'handler' }, manyHandlers: true, about: 'the runner with --many-handlers (200) handlers of one shard each, the example app, messages spread over all', messages: 40_000, latencyRate: 500, tables: true },
  // batchingWindowSeconds 0, as `single-many` has none: with the example's 0.5 s (Lambda's default) every thin batch
  // would wait out its window, and p99 would measure the setting, not the runner (`request-window` shows that cost).
  { name: 'many-thin', kind: 'runner', handler: { entry: 'bench/handlers/orders.ts', export: 'handler', settings: { batchingWindowSeconds: 0 } }, manyHandlers: true, fixedRate: 900, about: 'thin traffic: the runner with --many-handlers (200) handlers of one shard each at a fixed 900 msg/s spread over all (a batch holds one or two messages), batchingWindowSeconds 0 as single-many has no window; latency and server counters of that part', messages: 2_000, latencyRate: 900, tables: true },
  { name: 'single-many', kind: 'single', manyHandlers: true, fixedRate: 900, about: 'thin traffic baseline: one process consuming the same 200 shard queues (prefetch 50 each), a mysql2 pool of W connections, same SQL, at the same fixed rate', messages: 2_000, latencyRate: 900, tables: true },
  { name: 'request', kind: 'runner', handler: { entry: 'bench/handlers/orders.ts', export: 'handler', settings: { batchingWindowSeconds: 0 } }, request: true, fixedRate: 50, about: 'request and reply: the example app answering orders sent as requests at a fixed 50/s through direct reply-to, batchingWindowSeconds 0; p50/p99 are the round trip', messages: 2_000, latencyRate: 50, tables: true },
  { name: 'request-window', kind: 'runner', handler: { entry: 'bench/handlers/orders.ts', export: 'handler' }, request: true, fixedRate: 50, about: 'as request, with the example app\'s batchingWindowSeconds (Lambda\'s default, 0.5 s, when it sets none): each request may wait for its batch to fill', messages: 2_000, latencyRate: 50, tables: true },
  { name: 'warren-plain', kind: 'runner', handler: { entry: 'bench/handlers/ordersPlain.ts', export: 'handler' }, diagnostic: true, about: 'diagnostic: the runner with exactly the baselines\' SQL (no inbox, no outbox, no schema)', messages: 20_000, latencyRate: 500, tables: true },
];

export const PROFILES = ['default', 'proxy'] as const;
export type Profile = (typeof PROFILES)[number];

/** A figure of a contender's result that a target can be about. */
export type Metric = 'messagesPerSecond' | 'treeRssPeakMb' | 'dbThreadsSeen' | 'statementsPerMessage' | 'commitsPerMessage' | 'p50Ms' | 'p99Ms';

/**
 * One line of the targets table: a contender's `metric` (messages/s unless said), divided by another contender's when
 * `over` is set, against its target. In profiles not listed the line is still reported, without a target.
 */
export interface RatioDefinition {
  readonly name: string;
  readonly of: string;
  readonly over?: string;
  /** @default 'messagesPerSecond' */
  readonly metric?: Metric;
  /** The target (a function of the bench's W where it depends on it); none for diagnostics. */
  readonly target?: number | ((settings: { readonly workers: number }) => number);
  /** The value must be at most the target instead of at least. @default false */
  readonly atMost?: boolean;
  /** @default every profile */
  readonly profiles?: readonly Profile[];
}

export const RATIOS: readonly RatioDefinition[] = [
  { name: 'warren/single', of: 'warren', over: 'single', target: 1.0 },
  { name: 'warren/raw', of: 'warren', over: 'raw', target: 0.7, profiles: ['default'] },
  { name: 'warren/naive', of: 'warren', over: 'naive', target: 5, profiles: ['proxy'] },
  { name: 'batch/warren', of: 'batch', over: 'warren', target: 3, profiles: ['default'] },
  { name: 'warren-cpu/single-cpu', of: 'warren-cpu', over: 'single-cpu', target: 1.6, profiles: ['default'] },
  { name: 'noop/amqp-ceiling', of: 'noop', over: 'amqp-ceiling', target: 0.8, profiles: ['default'] },
  { name: 'noop msg/s', of: 'noop', target: 20_000, profiles: ['default'] },
  { name: 'warren statements/msg', of: 'warren', metric: 'statementsPerMessage', target: 6, atMost: true },
  { name: 'warren commits/msg', of: 'warren', metric: 'commitsPerMessage', target: 1.05, atMost: true },
  { name: 'many/warren', of: 'many', over: 'warren', target: 0.9, profiles: ['default'] },
  { name: 'many DB connections', of: 'many', metric: 'dbThreadsSeen', target: ({ workers }) => workers + 1, atMost: true, profiles: ['default'] },
  { name: 'many/warren tree RSS', of: 'many', over: 'warren', metric: 'treeRssPeakMb', target: 1.5, atMost: true, profiles: ['default'] },
  { name: 'many-thin/single-many p99', of: 'many-thin', over: 'single-many', metric: 'p99Ms', target: 1.5, atMost: true, profiles: ['default'] },
  { name: 'many-thin statements/msg', of: 'many-thin', metric: 'statementsPerMessage', target: 6.2, atMost: true },
  { name: 'many-thin commits/msg', of: 'many-thin', metric: 'commitsPerMessage', target: 1.1, atMost: true },
  { name: 'request-window/request p50', of: 'request-window', over: 'request', metric: 'p50Ms' },
  { name: 'warren-plain/raw', of: 'warren-plain', over: 'raw' },
  { name: 'warren-plain/single', of: 'warren-plain', over: 'single' },
];
