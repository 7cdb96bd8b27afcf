/** Starts a Runner against a unique database and unique queues, capturing its log lines. */
import { resolveConfig, type HandlerConfig, type ResolvedConfig } from '../../config/config.js';
import { createLogger } from '../../runtime/logger.js';
import { publish } from '../../local/commands/publish.js';
import { Runner } from '../../local/Runner.js';
import type { WorkerHandle } from '../../local/pool/WorkerHandle.js';
import { AMQP_URL, deleteTopology, uniqueName, waitFor, type TestDatabase } from './services.js';

export interface TestRunner {
  readonly runner: Runner;
  readonly config: ResolvedConfig;
  readonly lines: string[];
  /**
   * This runner's own events exchange: the example app's handlers (test/fixtures/orders.ts) publish here
   * (WARREN_TEST_EVENTS_EXCHANGE) instead of the shared `orders.events`; it is declared (listed under `publishes`) and
   * deleted by `cleanup()`.
   */
  readonly eventsExchange: string;
  /** Queue (exchange) name of the handler called `name`. */
  queueOf(name: string): string;
  cleanup(): Promise<void>;
}

export interface TestRunnerOptions {
  shutdownTimeoutSeconds?: number;
  amqpUrl?: string;
  /** The workers' database URL (e.g. through a test proxy). @default db.url */
  databaseUrl?: string;
  workerEnv?: Record<string, string>;
  deadLetter?: 'rabbitmq' | 'sqs';
  publishAmqpUrl?: string;
  metricsPort?: number;
  /** Shared pool size. @default the handlers' shards summed (one worker per shard, as before the pool) */
  workers?: number;
  dedicated?: Record<string, number>;
  /** @default the config's default */
  workerModel?: 'process' | 'thread';
  workerHeapMb?: number;
  workerYoungGenerationMb?: number;
}

export async function startTestRunner(db: TestDatabase, handlers: readonly (Omit<HandlerConfig, 'queue'> & { queue?: string })[], options: TestRunnerOptions = {}): Promise<TestRunner> {
  const shards = handlers.reduce((n, h) => n + (h.concurrency ?? 1), 0);
  const eventsExchange = uniqueName('t_events');
  const config = resolveConfig({
    handlers: handlers.map((h) => ({
      ...h,
      queue: h.queue ?? uniqueName(`t_${h.name}`),
      ...(h.entry === 'test/fixtures/orders.ts' && h.publishes === undefined ? { publishes: [{ exchange: eventsExchange, type: 'topic' as const }] } : {}),
    })),
    runner: {
      shutdownTimeoutSeconds: options.shutdownTimeoutSeconds ?? 10, deadLetter: options.deadLetter ?? 'rabbitmq', metricsPort: options.metricsPort ?? 0,
      workers: options.workers ?? Math.min(256, shards), ...(options.dedicated === undefined ? {} : { dedicated: options.dedicated }),
      ...(options.workerModel === undefined ? {} : { workerModel: options.workerModel }),
      ...(options.workerHeapMb === undefined ? {} : { workerHeapMb: options.workerHeapMb }),
      ...(options.workerYoungGenerationMb === undefined ? {} : { workerYoungGenerationMb: options.workerYoungGenerationMb }),
    },
  });
  const lines: string[] = [];
  const sink = (line: string) => { lines.push(line); if (process.env.WARREN_TEST_VERBOSE) process.stdout.write(`${line}\n`); };
  const runner = new Runner(config, {
    amqpUrl: options.amqpUrl ?? AMQP_URL,
    databaseUrl: options.databaseUrl ?? db.url,
    workerEnv: { WARREN_TEST_EVENTS_EXCHANGE: eventsExchange, ...options.workerEnv },
    ...(options.publishAmqpUrl === undefined ? {} : { publishAmqpUrl: options.publishAmqpUrl }),
    logger: createLogger({ component: 'runner' }, { sink }),
    onWorkerOutput: (line, worker) => sink(`${worker} ${line}`),
  });
  await runner.start();
  return {
    runner,
    config,
    lines,
    eventsExchange,
    queueOf: (name) => config.handlers.find((h) => h.name === name)?.queue ?? '',
    async cleanup() {
      await runner.stop().catch(() => undefined);
      // only what this runner created: its queues, and the exchanges it declared for `publishes`
      for (const h of config.handlers) await deleteTopology(h.queue, h.concurrency, AMQP_URL, h.publishes.map((p) => p.exchange));
    },
  };
}

/** The worker running a batch of `handlerOrQueue` (a handler name or a shard queue such as `orders.1`) right now. */
export function workerRunning(runner: Runner, handlerOrQueue: string): WorkerHandle | undefined {
  return runner.workerHandles.find((w) => w.current !== undefined && (w.current.handler === handlerOrQueue || w.current.queue === handlerOrQueue));
}

/** The worker running `handler` now, else one that ran it last (its module and connection are loaded there). */
export function workerOf(runner: Runner, handler: string): WorkerHandle | undefined {
  return workerRunning(runner, handler) ?? runner.workerHandles.find((w) => w.lastHandler === handler);
}

/*
 * Workers (threads or processes, `runner.workerModel`), seen from outside. Tests reach the runner's workers only
 * through these functions, so a change in how the runner maps shards to workers is adapted here once.
 */

/** Keys of the runner's live workers (`pid 1234`, `thread 3`). */
export function workerKeys(runner: Runner): string[] {
  return runner.workerHandles.filter((w) => w.alive && w.key !== undefined).map((w) => w.key!);
}

/** Ends a worker as a fault would: SIGKILL from outside for a process, `terminate()` for a thread. */
export function killWorker(worker: WorkerHandle): void {
  if (worker.pid !== undefined) process.kill(worker.pid, 'SIGKILL');
  else worker.kill();
}

/** Kills the worker running a batch of `handler` (waits until one is busy) mid-batch; returns its key. */
export async function killWorkerRunning(runner: Runner, handler: string): Promise<string> {
  const busy = await waitFor(`a busy worker of ${handler}`, () => {
    const w = workerRunning(runner, handler);
    return w !== undefined && w.alive && w.key !== undefined ? w : undefined;
  }, 30_000, 10);
  const key = busy.key!;
  killWorker(busy);
  return key;
}

/** Kills the worker that runs (or last ran) `handler`, else the first live one; returns its key. */
export function killWorkerOf(runner: Runner, handler: string): string {
  const worker = workerOf(runner, handler) ?? runner.workerHandles.find((w) => w.alive);
  if (worker?.key === undefined || !worker.alive) throw new Error(`no live worker of ${handler}`);
  const key = worker.key;
  killWorker(worker);
  return key;
}

/** True once the worker `key` is gone and every worker slot runs a live worker again. */
export function workersReplaced(runner: Runner, key: string): boolean {
  const keys = workerKeys(runner);
  return !keys.includes(key) && keys.length === runner.workerHandles.length;
}

/** Per-worker transactions served by the current connections (for "every worker got work"). */
export function workerServed(runner: Runner): number[] {
  return runner.workerHandles.map((w) => w.db.served);
}

/** Publishes `count` example orders with ids `<prefix>-<i>` to `exchange`. */
export async function sendOrders(exchange: string, count: number, prefix = uniqueName('o'), from = 0): Promise<string[]> {
  const ids: string[] = [];
  await publish({
    url: AMQP_URL,
    exchange,
    count,
    rate: 0,
    message: (i) => {
      const orderId = `${prefix}-${from + i}`;
      ids.push(orderId);
      return { key: orderId, body: { orderId, sku: `sku-${(from + i) % 7}`, quantity: 1 + ((from + i) % 3) } };
    },
  });
  return ids;
}
