/**
 * The runner's Prometheus metrics (prom-client, one registry per runner). Names follow the OpenTelemetry messaging
 * conventions where one exists (`messaging.process.duration` is exported as `messaging_process_duration_seconds`,
 * `messaging.client.consumed.messages` as `messaging_client_consumed_messages_total`); the rest are `warren_*`.
 * Every shard series carries the labels `handler` and `queue` (the shard queue, e.g. `orders.2`); every worker series
 * the label `worker` (`w0`.. for the shared pool, `<handler>.w0`.. for dedicated workers).
 *
 * Counters and gauges are read from the runner's own counters at scrape time, so they never drift from `snapshot()`;
 * only the duration histogram and the failed-messages counter are fed by batch events.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RunnerSnapshot } from '../runnerSnapshot.js';
import type { ShardCounters } from '../broker/ShardConsumer.js';
import type { BatchReport, WorkerHandle } from '../pool/WorkerHandle.js';

/** One shard as the metrics and the status page see it. */
export interface ShardView {
  readonly handler: string;
  readonly queue: string;
  readonly consumer: { readonly counters: Readonly<ShardCounters>; readonly inFlightMessages: number };
  /** The worker running the shard's batch now, if one is in flight. */
  readonly worker: WorkerHandle | undefined;
}

/** What the metrics read from the runner. */
export interface MetricsSource {
  readonly shardViews: readonly ShardView[];
  readonly workerHandles: readonly WorkerHandle[];
  snapshot(): RunnerSnapshot;
}

/** OpenTelemetry's recommended buckets for `messaging.process.duration`, in seconds. */
export const PROCESS_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] as const;

const LABELS = ['handler', 'queue'] as const;
type Labels = Record<(typeof LABELS)[number], string>;

const labelsOf = (s: ShardView): Labels => ({ handler: s.handler, queue: s.queue });

/** Counters read from the shard at scrape time: name, help, value. */
const SHARD_COUNTERS: readonly (readonly [string, string, (s: ShardView) => number])[] = [
  ['messaging_client_consumed_messages_total', 'Messages delivered to the runner by RabbitMQ (OpenTelemetry messaging.client.consumed.messages), redeliveries included.', (s) => s.consumer.counters.received],
  ['warren_messages_acked_total', 'Messages acked after their invocation succeeded (committed, deduplicated or dead-lettered).', (s) => s.consumer.counters.acked],
  ['warren_messages_committed_total', 'Messages whose handler ran and committed.', (s) => s.consumer.counters.committed],
  ['warren_messages_deduplicated_total', 'Messages found in the inbox already (redelivery or duplicate publish): acked without running the handler.', (s) => s.consumer.counters.deduplicated],
  ['warren_messages_dead_lettered_total', 'Messages set aside in the dead-letter queue.', (s) => s.consumer.counters.deadLettered],
  ['warren_messages_requeued_total', 'Messages returned to their queue unacked (failed batch, shutdown).', (s) => s.consumer.counters.requeued],
  ['warren_replies_dropped_total', 'Replies RabbitMQ returned as unroutable (the caller\'s reply queue is gone): dropped with a log line, never retried.', (s) => s.consumer.counters.repliesDropped],
  ['warren_batches_total', 'Batches (invocations) handed to the worker.', (s) => s.consumer.counters.batches],
  ['warren_batches_failed_total', 'Batches whose invocation failed or whose worker died; they are redelivered whole.', (s) => s.consumer.counters.failedBatches],
];

/** Gauges read from the shard at scrape time. */
const SHARD_GAUGES: readonly (readonly [string, string, (s: ShardView) => number])[] = [
  ['warren_in_flight_messages', 'Messages in the batch a worker is running now for the shard.', (s) => s.consumer.inFlightMessages],
  ['warren_in_flight_batches', 'Batches running now (0 or 1 per shard).', (s) => (s.consumer.inFlightMessages > 0 ? 1 : 0)],
];

/** Counters read from each worker slot at scrape time (replaced processes included). */
const WORKER_COUNTERS: readonly (readonly [string, string, (w: WorkerHandle) => number])[] = [
  ['warren_db_connects_total', 'MySQL connections opened by the worker, across replaced workers.', (w) => w.totalConnects],
  ['warren_db_reconnects_total', 'MySQL connections opened beyond one per open connection now (a dead connection replaced, or a replacement worker).', (w) => Math.max(0, w.totalConnects - Math.max(1, w.openConnections))],
  ['warren_worker_restarts_total', 'Workers (threads or processes) replaced after dying.', (w) => w.restarts],
  ['warren_worker_batches_total', 'Batches the worker finished (any outcome).', (w) => w.batchesServed],
];

/** Gauges read from each worker at scrape time. */
const WORKER_GAUGES: readonly (readonly [string, string, (w: WorkerHandle, now: number) => number])[] = [
  ['warren_db_connections_open', 'Open MySQL connections of the worker (one per distinct database it has served).', (w) => w.openConnections],
  ['warren_db_connection_served', 'Transactions the worker\'s current MySQL connection(s) have served.', (w) => w.db.served],
  ['warren_db_connection_age_seconds', 'Age of the worker\'s current MySQL connection (0 when none is open).', (w, now) => (w.db.connectedAt === null ? 0 : (now - w.db.connectedAt) / 1000)],
  ['warren_worker_up', '1 when the worker (thread or process) is running.', (w) => (w.alive ? 1 : 0)],
  ['warren_worker_busy', '1 while the worker runs a batch.', (w) => (w.current === undefined ? 0 : 1)],
];

export class RunnerMetrics {
  public readonly registry = new Registry();
  private readonly duration: Histogram<keyof Labels>;
  private readonly failed: Counter<keyof Labels>;

  public constructor(private readonly source: MetricsSource) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.duration = new Histogram({
      name: 'messaging_process_duration_seconds',
      help: 'Duration of one invocation of the handler over a batch, as the worker timed it (OpenTelemetry messaging.process.duration).',
      labelNames: LABELS, buckets: [...PROCESS_DURATION_BUCKETS], registers,
    });
    this.failed = new Counter({ name: 'warren_messages_failed_total', help: 'Messages in batches that failed (each is redelivered, so one message can count more than once).', labelNames: LABELS, registers });
    for (const [name, help, pick] of SHARD_COUNTERS) {
      new Counter({ name, help, labelNames: LABELS, registers, collect() {
        this.reset();
        for (const s of source.shardViews) this.inc(labelsOf(s), pick(s));
      } });
    }
    for (const [name, help, pick] of SHARD_GAUGES) {
      new Gauge({ name, help, labelNames: LABELS, registers, collect() {
        for (const s of source.shardViews) this.set(labelsOf(s), pick(s));
      } });
    }
    for (const [name, help, pick] of WORKER_COUNTERS) {
      new Counter({ name, help, labelNames: ['worker'], registers, collect() {
        this.reset();
        for (const w of source.workerHandles) this.inc({ worker: w.spec.id }, pick(w));
      } });
    }
    for (const [name, help, pick] of WORKER_GAUGES) {
      new Gauge({ name, help, labelNames: ['worker'], registers, collect() {
        const now = Date.now();
        for (const w of source.workerHandles) this.set({ worker: w.spec.id }, pick(w, now));
      } });
    }
    new Gauge({ name: 'warren_broker_connected', help: '1 when every RabbitMQ connection of the runner is up.', registers, collect() { this.set(source.snapshot().brokerConnected ? 1 : 0); } });
    new Counter({ name: 'warren_broker_reconnects_total', help: 'RabbitMQ reconnections after a lost connection.', registers, collect() { this.reset(); this.inc(source.snapshot().brokerReconnects); } });
    for (const shard of source.shardViews) {
      this.duration.zero(labelsOf(shard));
      this.failed.inc(labelsOf(shard), 0);
    }
    for (const worker of source.workerHandles) worker.on('batch', (report: BatchReport) => this.observe(report));
  }

  /** The Prometheus text exposition. */
  public async text(): Promise<string> {
    return this.registry.metrics();
  }

  public get contentType(): string {
    return this.registry.contentType;
  }

  private observe(report: BatchReport): void {
    const labels = { handler: report.handler, queue: report.queue };
    this.duration.observe(labels, report.ms / 1000);
    if (!report.ok) this.failed.inc(labels, report.messages);
  }
}
