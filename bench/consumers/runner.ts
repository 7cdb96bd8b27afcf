/**
 * Contenders `warren`, `noop`, `warren-cpu`, `batch`, `warren-plain` and `many`: the local runner, as `npm start` runs
 * it. `many` is a generated config of `spec.handlers` handlers of one shard each, handler `i` on queue `<queue>-h<i>`.
 * The runner gets a shared pool of W workers (`runner.workers`).
 */
import { fileURLToPath } from 'node:url';
import { Runner } from '../../local/Runner.js';
import { resolveConfig } from '../../config/config.js';
import { createLogger } from '../../runtime/logger.js';
import { LATENCY_LINE_PREFIX } from '../handlers/noop.js';
import { eventsExchangeOf } from '../protocol.js';
import type { ConsumerFactory } from './Consumer.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const startRunner: ConsumerFactory = async (spec) => {
  if (spec.handler === undefined) throw new Error(`contender ${spec.contender}: a runner contender needs a handler`);
  const problems: string[] = [];
  const latenciesMs: number[] = [];
  const keepProblem = (line: string) => { if (/"level":"(warn|error)"/.test(line) && problems.length < 20) problems.push(line); };
  // Every handler lists the contender's own events exchange, as the example app lists `orders.events` (the runner
  // declares it and runs its outbox relay); bench/handlers/orders.ts publishes there.
  const eventsExchange = eventsExchangeOf(spec.queue);
  const handler = { ...spec.handler.settings, entry: spec.handler.entry, export: spec.handler.export, publishes: [{ exchange: eventsExchange, type: 'topic' }] };
  const handlers = spec.handlers === undefined
    ? [{ ...handler, name: 'bench', queue: spec.queue, concurrency: spec.workers }]
    : Array.from({ length: spec.handlers }, (_, i) => ({ ...handler, name: `bench-h${i}`, queue: `${spec.queue}-h${i}`, concurrency: 1 }));
  const config = resolveConfig({
    handlers,
    runner: { shutdownTimeoutSeconds: 10, metricsPort: 0, workers: spec.workers, ...(spec.workerModel === undefined ? {} : { workerModel: spec.workerModel }) }, // a free port: a running `npm start` keeps 9464
  });
  const runner = new Runner(config, {
    amqpUrl: spec.amqpUrl,
    databaseUrl: spec.databaseUrl,
    projectRoot: PROJECT_ROOT,
    logger: createLogger({ component: 'runner' }, { level: 'warn', sink: keepProblem }),
    onWorkerOutput: (line) => {
      if (line.startsWith(LATENCY_LINE_PREFIX)) latenciesMs.push(...(JSON.parse(line.slice(LATENCY_LINE_PREFIX.length)) as number[]));
      else keepProblem(line);
    },
    workerEnv: { WARREN_LOG_LEVEL: 'warn', WARREN_BENCH_EVENTS_EXCHANGE: eventsExchange, ...(spec.cpuRows === undefined ? {} : { WARREN_BENCH_CPU_ROWS: String(spec.cpuRows) }) },
  });
  await runner.start();
  return {
    // Polled every 5 ms by the bench's clock, and its CPU counts as the runner's: the lean count, not a whole snapshot
    // (which was a third of the runner's CPU at 200 handlers).
    processed: () => runner.acked,
    // Threads have no process of their own: their CPU and memory are the runner's (this process's).
    workerPids: () => runner.workerHandles.flatMap((w) => (w.pid === undefined ? [] : [w.pid])),
    async stop() {
      const summary = await runner.stop();
      return { clientConnects: summary.dbConnects, retries: summary.failedBatches, problems, ...(latenciesMs.length > 0 ? { latenciesMs } : {}) };
    },
  };
};
