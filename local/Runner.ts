/**
 * The local runner: the twin of the Lambda triggers. For every handler it declares the shard topology and consumes each
 * shard queue in trigger-shaped batches; a fixed pool of workers (`runner.workers`: threads by default, or processes,
 * `runner.workerModel`; each with one MySQL connection per distinct database) runs the batches of every handler, plus
 * workers of their own for the handlers in `runner.dedicated`.
 */
import { resolve } from 'node:path';
import { usesOutbox, type ResolvedConfig, type ResolvedHandlerConfig } from '../config/config.js';
import { createLogger, type Logger } from '../runtime/logger.js';
import { urlForVhost } from '../runtime/amqp/amqpUrl.js';
import { deadLetterQueueName, declareTopology, topologyPlan } from '../topology/topology.js';
import { AmqpSession, DEFAULT_AMQP_URL } from './broker/AmqpSession.js';
import { ShardConsumer, type AckTally } from './broker/ShardConsumer.js';
import { SurplusShardDrain } from './broker/shardDrain.js';
import type { WorkerHandle } from './pool/WorkerHandle.js';
import { WorkerPool, type PoolGroup } from './pool/WorkerPool.js';
import type { HandlerTable } from './pool/protocol.js';
import { checkImports } from './pool/checkImports.js';
import { checkConnectionBudget } from './checks/connectionBudget.js';
import { checkPrivileges } from './checks/checkPrivileges.js';
import { OperationsServer } from './ops/httpServer.js';
import type { ShardView } from './ops/metrics.js';
import { checkReadiness, type Readiness } from './ops/metricsStatus.js';
import { ensureSqsDeadLetterQueue } from './broker/sqsDeadLetterQueue.js';
import { OutboxRelay, RELAY_DEFAULTS } from './broker/OutboxRelay.js';
import { OversizeSinks } from './broker/setAsideOversize.js';
import { DEFAULT_DATABASE_URL } from '../runtime/db/ConnectionManager.js';
import { ENV } from '../runtime/env.js';
import type { RunnerSnapshot, RunnerSummary } from './runnerSnapshot.js';

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
  /**
   * Tables the start-up privilege check probes besides Warren's and those the database user can see (the cli passes
   * what the migrations user sees, so a table hidden from the runner's user is named). @default []
   */
  readonly privilegeCheckTables?: readonly string[];
}

export class Runner {
  private readonly log: Logger;
  private readonly sessions: AmqpSession[] = [];
  private readonly shards: ShardConsumer[] = [];
  /** Per handler: its surplus shards (left by a larger `concurrency`), consumed until empty, then deleted. */
  private readonly drains = new Map<string, SurplusShardDrain>();
  /** Messages acked by every shard consumer of this runner (`acked`). */
  private readonly ackTally: AckTally = { acked: 0 };
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

  private get amqpUrl(): string { return this.options.amqpUrl ?? process.env[ENV.amqpUrl] ?? DEFAULT_AMQP_URL; }
  private get publishAmqpUrl(): string { return this.options.publishAmqpUrl ?? this.amqpUrl; }
  private get databaseUrl(): string { return this.options.databaseUrl ?? process.env[ENV.databaseUrl] ?? DEFAULT_DATABASE_URL; }

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
        entry: resolve(root, handler.entry),
        exportName: handler.export,
        env: { ...this.options.workerEnv, ...(await this.handlerEnv(handler)) },
        timeoutSeconds: handler.timeoutSeconds,
      };
    }
    const groups = this.poolGroups(table);
    const needed = groups.reduce((n, g) => n + g.size, 0) + (this.needsRelay ? 1 : 0);
    // The database user may run DML on Warren's and the application's tables (docs/local-runner.md, "Database users").
    await checkPrivileges(this.databaseUrl, this.options.privilegeCheckTables ?? []);
    if (this.options.checkConnectionBudget !== false) await checkConnectionBudget(this.databaseUrl, needed);
    const pool = new WorkerPool({ groups, env: { ...this.options.workerEnv }, model: runner.workerModel, heapMb: runner.workerHeapMb, youngMb: runner.workerYoungGenerationMb, log: this.log, onOutput: output });
    this.pool = pool;
    for (const handler of this.config.handlers) {
      for (let shard = 0; shard < handler.concurrency; shard += 1) {
        const queue = `${handler.queue}.${shard}`;
        const sink = () => this.oversizeSinks.get(handler, urlForVhost(this.amqpUrl, handler.vhost));
        this.shards.push(new ShardConsumer(handler, queue, pool.dispatcherFor(handler.name), this.log.child({ shard: queue }), sink, this.ackTally));
      }
      this.drains.set(handler.name, new SurplusShardDrain(handler, (queue) => new ShardConsumer(handler, queue, pool.dispatcherFor(handler.name), this.log.child({ shard: queue }), undefined, this.ackTally), this.log));
    }
    this.ops = await OperationsServer.start(this, { port: runner.metricsPort, log: this.log });
    try {
      const [imports] = await Promise.all([checkImports(table, { ...this.options.workerEnv }), pool.start()]);
      this.log.debug('handler modules checked', { ...imports });
      const quorumQueues = this.config.handlers.reduce((n, h) => n + topologyPlan(h).shards.length + 1, 0); // + the dead-letter queue
      if (quorumQueues > MANY_QUORUM_QUEUES) {
        this.log.info('declaring many quorum queues: RabbitMQ 3.x reserves 3 file handles for each, so its open-files limit must allow them (docs/operations.md, "Troubleshooting")', {
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
          onLost: () => {
            shards.forEach((s) => s.detach());
            handlers.forEach((h) => this.drains.get(h.name)?.detach());
          },
          onConnected: async (connection) => {
            await inParallel(handlers, DECLARE_PARALLELISM, async (handler) => {
              const { orphans } = await declareTopology(connection, handler);
              if (orphans.length > 0) await this.drains.get(handler.name)?.adopt(connection, orphans);
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
      // A shard is live while its batch runs and for RELAY_DEFAULTS.afterBatchMs after it ended: the workers defer the
      // "sent" marks of rows they published (runtime/outbox/SentMarks.ts, at most 1 s). Rule: runtime/outbox/leftBehind.ts.
      const endedAt = new Map<string, number>();
      for (const w of this.workerHandles) w.on('batch', (r: { queue: string }) => endedAt.set(r.queue, Date.now()));
      const batchInFlight = (handler: string, queue: string) => this.shards.some((s) => s.handler.name === handler && s.queue === queue && s.inFlightMessages > 0)
        || Date.now() - (endedAt.get(queue) ?? 0) < RELAY_DEFAULTS.afterBatchMs;
      this.relay = new OutboxRelay(this.config.handlers, this.databaseUrl, (vhost) => urlForVhost(this.publishAmqpUrl, vhost), this.log, batchInFlight);
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

  private get needsRelay(): boolean { return this.config.handlers.some((h) => usesOutbox(h)); }

  /** The shared pool (every handler not dedicated; left out when there is none) and one group per dedicated handler. */
  private poolGroups(table: HandlerTable): PoolGroup[] {
    const { workers, dedicated } = this.config.runner;
    const shared = Object.fromEntries(Object.entries(table).filter(([name]) => dedicated[name] === undefined));
    const groups: PoolGroup[] = Object.keys(shared).length > 0 ? [{ name: 'shared', size: workers, handlers: shared }] : [];
    for (const [name, size] of Object.entries(dedicated)) groups.push({ name, size, handlers: { [name]: table[name]! } });
    return groups;
  }

  /** A handler's own variables, which its invocations see in a pool worker (`runSerialInHandlerScope`). */
  private async handlerEnv(handler: ResolvedHandlerConfig): Promise<Record<string, string>> {
    return { [ENV.handler]: handler.name, [ENV.databaseUrl]: this.databaseUrl, ...(await this.deadLetterEnv(handler)) };
  }

  /** Where a handler's workers dead-letter: `<queue>.dlq` on RabbitMQ, or an SQS queue `<queue>-dlq` (created here). */
  private async deadLetterEnv(handler: ResolvedHandlerConfig): Promise<Record<string, string>> {
    const publish = { [ENV.publishAmqpUrl]: urlForVhost(this.publishAmqpUrl, handler.vhost) };
    if (this.config.runner.deadLetter === 'sqs') return { ...publish, [ENV.dlqUrl]: await ensureSqsDeadLetterQueue(handler.queue) };
    return { ...publish, [ENV.dlqAmqpUrl]: urlForVhost(this.amqpUrl, handler.vhost), [ENV.dlqQueue]: deadLetterQueueName(handler.queue) };
  }

  public snapshot(): RunnerSnapshot {
    // One pass over the shards (the bench reads a snapshot every few ms, and its CPU counts as the runner's).
    const total = { received: 0, acked: 0, committed: 0, deduplicated: 0, deadLettered: 0, failedBatches: 0, requeued: 0, inFlight: 0, buffered: 0 };
    for (const s of this.eachShard()) {
      const c = s.counters;
      total.received += c.received;
      total.acked += c.acked;
      total.committed += c.committed;
      total.deduplicated += c.deduplicated;
      total.deadLettered += c.deadLettered;
      total.failedBatches += c.failedBatches;
      total.requeued += c.requeued;
      total.inFlight += s.inFlightMessages;
      total.buffered += s.bufferedMessages;
    }
    return {
      ...total,
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

  /**
   * Messages acked so far, every shard's (configured and surplus): `snapshot().acked` without the rest of the snapshot,
   * for a caller that polls it every few ms (the bench's clock). One field the shards add to as they ack: walking 200
   * shards (and the drains' generators) on every poll was 17.5% of the runner thread's busy samples in the bench's
   * thin-traffic profile.
   */
  public get acked(): number { return this.ackTally.acked; }

  /** The workers (shared pool first, then dedicated ones), for tests and status views. */
  public get workerHandles(): readonly WorkerHandle[] { return this.pool?.workers ?? []; }

  /** Each shard (with the worker running its batch now, if any), for metrics and the status page. */
  public get shardViews(): readonly ShardView[] {
    return Array.from(this.eachShard(), (consumer) => ({ handler: consumer.handler.name, queue: consumer.queue, consumer, worker: consumer.worker }));
  }

  /**
   * The configured shards' consumers, then those of surplus shards being drained (or drained already), one by one:
   * no array is built, since the counters walk them every few ms under the bench.
   */
  private *eachShard(): IterableIterator<ShardConsumer> {
    yield* this.shards;
    for (const d of this.drains.values()) yield* d.eachConsumer();
  }

  /** Surplus shards still being consumed, per handler (empty when no `concurrency` was lowered). */
  public get drainingShards(): Readonly<Record<string, readonly string[]>> {
    return Object.fromEntries([...this.drains].filter(([, d]) => d.draining.length > 0).map(([name, d]) => [name, d.draining]));
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
    const results = await Promise.all([...this.shards, ...this.drains.values()].map((s) => s.stop(timeoutMs)));
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
