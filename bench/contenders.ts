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
   * Runner contenders: the handler module (relative to the project root) and export. The handler settings (batch size,
   * window, ...) are the example app's in `warren.config.ts`; `settings` overrides some of them.
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
}

export const CONTENDERS: readonly ContenderDefinition[] = [
  { name: 'warren', kind: 'runner', handler: { entry: 'functions/orders.ts', export: 'handler' }, about: 'the local runner with the example app, W workers, a transaction per message', messages: 40_000, latencyRate: 500, tables: true },
  { name: 'naive', kind: 'naive', about: 'amqplib, prefetch W, a new mysql2 connection per message, same SQL', messages: 5_000, latencyRate: 500, tables: true },
  { name: 'raw', kind: 'raw', about: 'W mysql2 connections running the same transaction in a tight loop, no broker', messages: 40_000, latencyRate: 500, tables: true },
  { name: 'noop', kind: 'runner', handler: { entry: 'bench/handlers/noop.ts', export: 'handler' }, about: 'the runner with a handler that decodes the batch and does nothing else', messages: 100_000, latencyRate: 500, tables: false },
  { name: 'batch', kind: 'runner', handler: { entry: 'functions/orders.ts', export: 'batchHandler', settings: { batchSize: 100 } }, about: 'the runner with the example app in batch mode (handleBatch: one transaction per batch), batch size 100', messages: 60_000, latencyRate: 500, tables: true },
  { name: 'single', kind: 'single', about: 'one process: amqplib with prefetch 50, a mysql2 pool of W connections, same SQL', messages: 40_000, latencyRate: 500, tables: true },
  { name: 'warren-cpu', kind: 'runner', handler: { entry: 'bench/handlers/ordersCpu.ts', export: 'handler' }, cpu: true, about: 'as warren, plus ~5 ms of CPU per message (aggregating a generated result set)', messages: 4_000, latencyRate: 80, tables: true },
  { name: 'single-cpu', kind: 'single', cpu: true, about: 'as single, plus the same ~5 ms of CPU per message', messages: 2_000, latencyRate: 80, tables: true },
  { name: 'warren-plain', kind: 'runner', handler: { entry: 'bench/handlers/ordersPlain.ts', export: 'handler' }, diagnostic: true, about: 'diagnostic: the runner with exactly the baselines\' SQL (no inbox, no outbox, no schema)', messages: 20_000, latencyRate: 500, tables: true },
];

/** A ratio of two contenders' messages/s (or, without `over`, one contender's messages/s) against its target. */
export interface RatioDefinition {
  readonly name: string;
  readonly of: string;
  readonly over?: string;
  /** The target: at least this ratio (or messages/s); none for diagnostics. */
  readonly target?: number;
}

export const RATIOS: readonly RatioDefinition[] = [
  { name: 'warren/raw', of: 'warren', over: 'raw', target: 0.7 },
  { name: 'warren/naive', of: 'warren', over: 'naive', target: 5 },
  { name: 'noop msg/s', of: 'noop', target: 20_000 },
  { name: 'warren/single', of: 'warren', over: 'single', target: 0.9 },
  { name: 'warren-cpu/single-cpu', of: 'warren-cpu', over: 'single-cpu', target: 1.6 },
  { name: 'batch/warren', of: 'batch', over: 'warren', target: 3 },
  { name: 'warren-plain/raw', of: 'warren-plain', over: 'raw' },
  { name: 'warren-plain/single', of: 'warren-plain', over: 'single' },
];
