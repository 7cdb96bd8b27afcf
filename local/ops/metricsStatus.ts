/**
 * What `/readyz` and `/status.json` answer: the readiness verdict (with its reasons) and the status page's document,
 * including a per-second throughput history of the last minutes.
 */
import type { MetricsSource, ShardView } from './metrics.js';
import type { RunnerSnapshot } from '../runnerSnapshot.js';

/** The runner as readiness sees it. */
export interface ReadinessSource extends MetricsSource {
  /** True once `stop()` was called. */
  readonly stopping: boolean;
}

export interface WorkerReadiness {
  readonly worker: string;
  readonly alive: boolean;
  /** The worker's answer (see `Pong` in protocol.ts), or `no answer` when it is not running or timed out. */
  readonly db: 'ok' | 'busy' | 'lazy' | 'down' | 'no answer';
  readonly error?: string;
}

export interface Readiness {
  readonly ready: boolean;
  /** Why not ready; empty when ready. */
  readonly reasons: readonly string[];
  readonly brokerConnected: boolean;
  readonly workers: readonly WorkerReadiness[];
}

/**
 * Ready when: the runner is not stopping, every RabbitMQ connection is up, and every worker (thread or process) is running and
 * answers a ping within `pingTimeoutMs` with a working DB connection: `SELECT 1` succeeded through its connection
 * manager (`ok`), or a batch is using an open connection right now (`busy`), or the worker has not opened its
 * connection yet because no batch reached it (`lazy`: it opens with the first batch, with the handler's options).
 */
export async function checkReadiness(source: ReadinessSource, pingTimeoutMs = 2_000): Promise<Readiness> {
  const reasons: string[] = [];
  if (source.stopping) reasons.push('the runner is stopping');
  const brokerConnected = source.snapshot().brokerConnected;
  if (!brokerConnected) reasons.push('the RabbitMQ connection is down (reconnecting with backoff)');
  const workers = await Promise.all(source.workerHandles.map(async (worker): Promise<WorkerReadiness> => {
    const id = worker.spec.id;
    try {
      const pong = await worker.ping(pingTimeoutMs);
      if (pong.db === 'down') {
        reasons.push(`worker ${id}: SELECT 1 failed: ${pong.error?.message ?? 'unknown error'}`);
        return { worker: id, alive: true, db: 'down', ...(pong.error === undefined ? {} : { error: pong.error.message }) };
      }
      if (pong.db === 'busy' && !pong.stats.connected) reasons.push(`worker ${id}: its running batch has no open DB connection`);
      return { worker: id, alive: true, db: pong.db };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      reasons.push(message);
      return { worker: id, alive: worker.alive, db: 'no answer', error: message };
    }
  }));
  return { ready: reasons.length === 0, reasons, brokerConnected, workers };
}

export interface ThroughputPoint {
  /** End of the second, ms since epoch. */
  readonly t: number;
  readonly acked: number;
  readonly deadLettered: number;
  readonly failedBatches: number;
}

export interface StatusDocument {
  readonly time: string;
  readonly uptimeSeconds: number;
  readonly totals: RunnerSnapshot;
  /** Acked messages per second over the last 5 s. */
  readonly messagesPerSecond: number;
  readonly throughput: { readonly intervalSeconds: number; readonly points: readonly ThroughputPoint[] };
  readonly handlers: readonly {
    readonly name: string; readonly shards: number; readonly acked: number; readonly committed: number; readonly deduplicated: number;
    readonly deadLettered: number; readonly failedBatches: number; readonly inFlightBatches: number; readonly inFlightMessages: number;
  }[];
  readonly workers: readonly {
    /** `w0`.. (shared pool) or `<handler>.w0`.. (dedicated). */
    readonly id: string;
    /** `shared`, or the handler the worker is dedicated to. */
    readonly group: string;
    readonly state: 'busy' | 'idle' | 'down';
    /** The handler whose batch the worker runs now, else the last one it ran (null before its first batch). */
    readonly handler: string | null;
    /** The shard queue of the batch running now. */
    readonly queue: string | null;
    /** The worker's own process, or null for a thread (`runner.workerModel: 'thread'`), which has `thread` instead. */
    readonly pid: number | null; readonly thread: number | null; readonly alive: boolean;
    readonly restarts: number; readonly batches: number; readonly inFlightMessages: number;
    readonly db: { readonly connected: boolean; readonly open: number; readonly threadId: number | null; readonly ageSeconds: number | null; readonly served: number; readonly connects: number };
  }[];
}

/** Samples the runner every `intervalMs` and keeps `keep` per-interval deltas for the throughput chart. */
export class ThroughputHistory {
  private readonly points: ThroughputPoint[] = [];
  private last: RunnerSnapshot;
  private readonly timer: NodeJS.Timeout;

  public constructor(private readonly source: MetricsSource, public readonly intervalMs = 1_000, private readonly keep = 300) {
    this.last = source.snapshot();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  public stop(): void { clearInterval(this.timer); }

  public get series(): readonly ThroughputPoint[] { return this.points; }

  private sample(): void {
    const now = this.source.snapshot();
    this.points.push({ t: Date.now(), acked: now.acked - this.last.acked, deadLettered: now.deadLettered - this.last.deadLettered, failedBatches: now.failedBatches - this.last.failedBatches });
    if (this.points.length > this.keep) this.points.splice(0, this.points.length - this.keep);
    this.last = now;
  }
}

export function statusDocument(source: MetricsSource, history: ThroughputHistory, startedAt: number): StatusDocument {
  const now = Date.now();
  const views = source.shardViews;
  const recent = history.series.slice(-5);
  const byHandler = new Map<string, ShardView[]>();
  for (const v of views) byHandler.set(v.handler, [...(byHandler.get(v.handler) ?? []), v]);
  const sum = (list: readonly ShardView[], pick: (v: ShardView) => number) => list.reduce((n, v) => n + pick(v), 0);
  return {
    time: new Date(now).toISOString(),
    uptimeSeconds: Math.round((now - startedAt) / 1000),
    totals: source.snapshot(),
    messagesPerSecond: recent.length === 0 ? 0 : (recent.reduce((n, p) => n + p.acked, 0) * 1000) / (recent.length * history.intervalMs),
    throughput: { intervalSeconds: history.intervalMs / 1000, points: history.series },
    handlers: [...byHandler].map(([name, list]) => ({
      name,
      shards: list.length,
      acked: sum(list, (v) => v.consumer.counters.acked),
      committed: sum(list, (v) => v.consumer.counters.committed),
      deduplicated: sum(list, (v) => v.consumer.counters.deduplicated),
      deadLettered: sum(list, (v) => v.consumer.counters.deadLettered),
      failedBatches: sum(list, (v) => v.consumer.counters.failedBatches),
      inFlightBatches: sum(list, (v) => (v.consumer.inFlightMessages > 0 ? 1 : 0)),
      inFlightMessages: sum(list, (v) => v.consumer.inFlightMessages),
    })),
    workers: source.workerHandles.map((worker) => ({
      id: worker.spec.id,
      group: worker.spec.id.includes('.') ? worker.spec.id.slice(0, worker.spec.id.lastIndexOf('.')) : 'shared',
      state: !worker.alive ? 'down' : worker.current === undefined ? 'idle' : 'busy',
      handler: worker.current?.handler ?? worker.lastHandler ?? null,
      queue: worker.current?.queue ?? null,
      pid: worker.pid ?? null,
      thread: worker.threadId ?? null,
      alive: worker.alive,
      restarts: worker.restarts,
      batches: worker.batchesServed,
      inFlightMessages: worker.current?.messages ?? 0,
      db: {
        connected: worker.db.connected,
        open: worker.openConnections,
        threadId: worker.db.threadId,
        ageSeconds: worker.db.connectedAt === null ? null : Math.round((now - worker.db.connectedAt) / 1000),
        served: worker.db.served,
        connects: worker.totalConnects,
      },
    })),
  };
}
