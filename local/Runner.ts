/**
 * The local runner: the twin of the Lambda triggers. For every handler it declares the shard topology and consumes each
 * shard queue in trigger-shaped batches; a fixed pool of worker processes (`runner.workers`, each with one MySQL
 * connection per distinct database) runs the batches of every handler, plus workers of their own for the handlers in
 * `runner.dedicated`.
 */
import type { ResolvedConfig, ResolvedHandlerConfig } from '../runtime/config.js';
import { createLogger, type Logger } from '../runtime/logger.js';
import { urlForVhost } from '../runtime/amqpUrl.js';
import { deadLetterQueueName, declareTopology, topologyPlan } from '../runtime/topology.js';
import { AmqpSession, DEFAULT_AMQP_URL } from './AmqpSession.js';
import { ShardConsumer } from './ShardConsumer.js';
import type { WorkerHandle } from './pool/WorkerHandle.js';
import { WorkerPool, type PoolGroup } from './pool/WorkerPool.js';
import type { HandlerTable } from './pool/protocol.js';
import { runnablePath } from './pool/build.js';
import { checkImports } from './pool/checkImports.js';
import { checkConnectionBudget } from './pool/connectionBudget.js';
import { OperationsServer } from './httpServer.js';
import type { ShardView } from './metrics.js';
import { checkReadiness, type Readiness } from './metricsStatus.js';
import { ensureSqsDeadLetterQueue } from './sqsDeadLetterQueue.js';
import { OutboxRelay } from './OutboxRelay.js';
import { OversizeSinks } from './setAsideOversize.js';
import { DEFAULT_DATABASE_URL } from '../runtime/ConnectionManager.js';

export interface RunnerOptions {
  /** @default process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672' */
  readonly amqpUrl?: string;
  /** @default process.env.DATABASE_URL ?? 'mysql://root@127.0.0.1:3306/test' */
  readonly databaseUrl?: string;
  /** Broker that `ctx.publish()` messages go to (workers' flushes and the relay). @default amqpUrl */
  readonly publishAmqpUrl?: string;
  /** Root that handler `entry` paths are relative to. @default process.cwd() */
  readonly projectRoot?: string;
  /** @default a JSON logger on stdout */
  readonly logger?: Logger;
  /** Where worker output lines go. @default written to stdout as they are */
  readonly onWorkerOutput?: (line: string, worker: string) => void;
  /** Extra environment for workers. @default {} */
  readonly workerEnv?: Readonly<Record<string, string>>;
  /**
   * Check at start that the database accepts the connections the pool needs (`max_connections`, the user's
   * `MAX_USER_CONNECTIONS`). @default true
   */
  readonly checkConnectionBudget?: boolean;
}

export interface RunnerSnapshot {
  readonly received: number;
  readonly acked: number;
  /** Messages whose handler committed. */
  readonly committed: number;
  /** Messages found in the inbox already (a redelivery or duplicate publish): acked without running the handler. */
  readonly deduplicated: number;
  readonly deadLettered: number;
  readonly failedBatches: number;
  readonly requeued: number;
  readonly inFlight: number;
  readonly buffered: number;
  /** Worker processes (shared pool plus dedicated). */
  readonly workers: number;
  readonly workersAlive: number;
  /** Workers running a batch now. */
  readonly workersBusy: number;
  readonly workerRestarts: number;
  /** Open DB connections, as the workers report them. */
  readonly dbConnections: number;
  /** DB connections opened over the run, across all workers (replaced ones included). */
  readonly dbConnects: number;
  readonly brokerConnected: boolean;
  readonly brokerReconnects: number;
}

export interface RunnerSummary extends RunnerSnapshot {
  readonly uptimeMs: number;
  readonly shutdownTimedOut: boolean;
}

export { urlForVhost };

export class Runner {
  private readonly log: Logger;
  private readonly sessions: AmqpSession[] = [];
  private readonly shards: ShardConsumer[] = [];
  private pool: WorkerPool | undefined;
  private readonly startedAt = Date.now();
  private stopped: Promise<RunnerSummary> | undefined;
  private ops: OperationsServer | undefined;
  private relay: OutboxRelay | undefined;
  /** Where shards set aside messages Lambda would drop: each handler's dead-letter sink, opened on first use. */
  private readonly oversizeSinks = new OversizeSinks();

  public constructor(
    public readonly config: ResolvedConfig,
    private readonly options: RunnerOptions = {},
  ) {
    this.log = options.logger ?? createLogger({ component: 'runner' });
  }

  private get amqpUrl(): string { return this.options.amqpUrl ?? process.env.AMQP_URL ?? DEFAULT_AMQP_URL; }
  private get publishAmqpUrl(): string { return this.options.publishAmqpUrl ?? this.amqpUrl; }
  private get databaseUrl(): string { return this.options.databaseUrl ?? process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL; }

  /**
   * Checks the handler modules and the database's connection budget, forks the pool, connects to RabbitMQ, declares the
   * topology and starts consuming.
   */
  public async start(): Promise<void> {
    const root = this.options.projectRoot ?? process.cwd();
    const output = this.options.onWorkerOutput ?? ((line: string) => process.stdout.write(`${line}\n`));
    const { runner } = this.config;
    const table: Record<string, HandlerTable[string]> = {};
    for (const handler of this.config.handlers) {
      table[handler.name] = {
        entry: runnablePath(root, handler.entry),
        exportName: handler.export,
        env: { ...this.options.workerEnv, ...(await this.handlerEnv(handler)) },
      };
    }
    const groups = this.poolGroups(table);
    const needed = groups.reduce((n, g) => n + g.size, 0) + (this.needsRelay ? 1 : 0);
    if (this.options.checkConnectionBudget !== false) await checkConnectionBudget(this.databaseUrl, needed);
    const pool = new WorkerPool({ groups, env: { ...this.options.workerEnv }, log: this.log, onOutput: output });
    this.pool = pool;
    for (const handler of this.config.handlers) {
      for (let shard = 0; shard < handler.concurrency; shard += 1) {
        const queue = `${handler.queue}.${shard}`;
        const sink = () => this.oversizeSinks.get(handler, urlForVhost(this.amqpUrl, handler.vhost));
        this.shards.push(new ShardConsumer(handler, queue, pool.dispatcherFor(handler.name), this.log.child({ shard: queue }), sink));
      }
    }
    this.ops = await OperationsServer.start(this, { port: runner.metricsPort, log: this.log });
    try {
      const [imports] = await Promise.all([checkImports(table, { ...this.options.workerEnv }), pool.start()]);
      this.log.debug('handler modules checked', { ...imports });
      const quorumQueues = this.config.handlers.reduce((n, h) => n + topologyPlan(h).shards.length + 1, 0); // + the dead-letter queue
      if (quorumQueues > MANY_QUORUM_QUEUES) {
        this.log.info('declaring many quorum queues: RabbitMQ 3.x reserves 3 file handles for each, so its open-files limit must allow them (README, "Troubleshooting")', {
          quorumQueues, fileHandlesReserved: quorumQueues * 3,
        });
      }
      const byVhost = new Map<string, ResolvedHandlerConfig[]>();
      for (const h of this.config.handlers) byVhost.set(h.vhost, [...(byVhost.get(h.vhost) ?? []), h]);
      for (const [vhost, handlers] of byVhost) {
        const shards = this.shards.filter((s) => s.handler.vhost === vhost);
        const session = new AmqpSession({
          url: urlForVhost(this.amqpUrl, vhost),
          name: `warren-runner pid=${process.pid} vhost=${vhost}`,
          log: this.log,
          onLost: () => shards.forEach((s) => s.detach()),
          onConnected: async (connection) => {
            await inParallel(handlers, DECLARE_PARALLELISM, async (handler) => {
              const { orphans } = await declareTopology(connection, handler);
              if (orphans.length > 0) this.log.warn('shard queues beyond the configured concurrency were unbound; move their messages', { handler: handler.name, queues: orphans });
            });
            await inParallel(shards, DECLARE_PARALLELISM, async (shard) => shard.attach(await connection.createChannel()));
          },
        });
        this.sessions.push(session);
        await session.start();
      }
    } catch (error) {
      await pool.close(2_000);
      await Promise.all(this.sessions.map((s) => s.close()));
      await this.ops.close();
      throw error;
    }
    if (this.needsRelay) {
      this.relay = new OutboxRelay(this.config.handlers, this.databaseUrl, (vhost) => urlForVhost(this.publishAmqpUrl, vhost), this.log);
      this.relay.start();
    }
    this.log.info('runner started', {
      handlers: this.config.handlers.length > 20
        ? `${this.config.handlers.length} handlers, ${this.shards.length} shard queues`
        : this.config.handlers.map((h) => `${h.name} (queue ${h.queue}, ${h.concurrency} shard(s), batch ${h.batchSize})`),
      workers: groups.map((g) => `${g.name}: ${g.size}`).join(', '),
      status: `http://127.0.0.1:${this.ops.port}/ (also /metrics, /healthz, /readyz)`,
    });
  }

  private get needsRelay(): boolean { return this.config.handlers.some((h) => h.publishes.length > 0); }

  /** The shared pool (every handler not dedicated; left out when there is none) and one group per dedicated handler. */
  private poolGroups(table: HandlerTable): PoolGroup[] {
    const { workers, dedicated } = this.config.runner;
    const shared = Object.fromEntries(Object.entries(table).filter(([name]) => dedicated[name] === undefined));
    const groups: PoolGroup[] = Object.keys(shared).length > 0 ? [{ name: 'shared', size: workers, handlers: shared }] : [];
    for (const [name, size] of Object.entries(dedicated)) groups.push({ name, size, handlers: { [name]: table[name]! } });
    return groups;
  }

  /** A handler's own variables, which its invocations see in a pool worker (`runInHandlerScope`). */
  private async handlerEnv(handler: ResolvedHandlerConfig): Promise<Record<string, string>> {
    return { WARREN_HANDLER: handler.name, DATABASE_URL: this.databaseUrl, ...(await this.deadLetterEnv(handler)) };
  }

  /** Where a handler's workers dead-letter: `<queue>.dlq` on RabbitMQ, or an SQS queue `<queue>-dlq` (created here). */
  private async deadLetterEnv(handler: ResolvedHandlerConfig): Promise<Record<string, string>> {
    const publish = { WARREN_PUBLISH_AMQP_URL: urlForVhost(this.publishAmqpUrl, handler.vhost) };
    if (this.config.runner.deadLetter === 'sqs') return { ...publish, WARREN_DLQ_URL: await ensureSqsDeadLetterQueue(handler.queue) };
    return { ...publish, WARREN_DLQ_AMQP_URL: urlForVhost(this.amqpUrl, handler.vhost), WARREN_DLQ_QUEUE: deadLetterQueueName(handler.queue) };
  }

  public snapshot(): RunnerSnapshot {
    const sum = (pick: (s: ShardConsumer) => number) => this.shards.reduce((n, s) => n + pick(s), 0);
    return {
      received: sum((s) => s.counters.received),
      acked: sum((s) => s.counters.acked),
      committed: sum((s) => s.counters.committed),
      deduplicated: sum((s) => s.counters.deduplicated),
      deadLettered: sum((s) => s.counters.deadLettered),
      failedBatches: sum((s) => s.counters.failedBatches),
      requeued: sum((s) => s.counters.requeued),
      inFlight: sum((s) => s.inFlightMessages),
      buffered: sum((s) => s.bufferedMessages),
      workers: this.workerHandles.length,
      workersAlive: this.workerHandles.filter((w) => w.alive).length,
      workersBusy: this.workerHandles.filter((w) => w.current !== undefined).length,
      workerRestarts: this.workerHandles.reduce((n, w) => n + w.restarts, 0),
      dbConnections: this.workerHandles.reduce((n, w) => n + w.openConnections, 0),
      dbConnects: this.workerHandles.reduce((n, w) => n + w.totalConnects, 0),
      brokerConnected: this.sessions.length > 0 && this.sessions.every((s) => s.connected),
      brokerReconnects: this.sessions.reduce((n, s) => n + s.reconnects, 0),
    };
  }

  /** The worker processes (shared pool first, then dedicated ones), for tests and status views. */
  public get workerHandles(): readonly WorkerHandle[] { return this.pool?.workers ?? []; }

  /** Each shard (with the worker running its batch now, if any), for metrics and the status page. */
  public get shardViews(): readonly ShardView[] {
    return this.shards.map((consumer) => ({ handler: consumer.handler.name, queue: consumer.queue, consumer, worker: consumer.worker }));
  }

  /** The port of `/metrics`, `/healthz`, `/readyz` and the status page (the bound one when `runner.metricsPort` is 0). */
  public get metricsPort(): number | undefined { return this.ops?.port; }

  public get stopping(): boolean { return this.stopped !== undefined; }

  /** What `/readyz` answers (see `checkReadiness`). */
  public readiness(): Promise<Readiness> { return checkReadiness(this); }

  /**
   * Graceful stop: cancel consumers, let in-flight batches finish (bounded by `runner.shutdownTimeoutSeconds`),
   * requeue the rest, close every worker's DB connection, close RabbitMQ. Safe to call more than once.
   */
  public stop(): Promise<RunnerSummary> {
    this.stopped ??= this.doStop();
    return this.stopped;
  }

  private async doStop(): Promise<RunnerSummary> {
    const timeoutMs = this.config.runner.shutdownTimeoutSeconds * 1000;
    this.log.info('stopping: cancelling consumers and waiting for in-flight batches', { timeoutMs });
    const results = await Promise.all(this.shards.map((s) => s.stop(timeoutMs)));
    await this.shutdownWorkers(5_000);
    await this.relay?.stop();
    await this.oversizeSinks.close();
    await Promise.all(this.sessions.map((s) => s.close()));
    const summary = { ...this.snapshot(), uptimeMs: Date.now() - this.startedAt, shutdownTimedOut: results.some((r) => r.timedOut) };
    await this.ops?.close();
    this.log.info('runner stopped', { ...summary });
    return summary;
  }

  private async shutdownWorkers(timeoutMs: number): Promise<void> {
    await this.pool?.close(timeoutMs);
  }
}

/** Above this many quorum queues the runner says how many file handles the broker reserves for them. */
const MANY_QUORUM_QUEUES = 250;

/** Topology declarations and channel openings in flight at once per broker connection (start-up with many handlers). */
const DECLARE_PARALLELISM = 32;

/** Runs `fn` over `items`, at most `limit` at a time; rejects with the first error. */
async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
