/**
 * Runs one contender from a clean slate and measures it:
 *   1. a fresh database and fresh queues; the timed part's messages published (and confirmed) up front;
 *   2. the server's `Connections` counter read, the contender's process forked; it consumes the backlog (timed);
 *   3. a fixed-rate part for the latency figures (publish to commit);
 *   4. the contender stopped, `Connections` read again, the example app's invariant checked, everything dropped.
 * From the end of start-up to the end of the latency part, `MeasuredWindow` reads the server's counters and samples the
 * process tree. In the `proxy` profile the contender's database URL points at the TLS proxy.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import type { BenchDatabase } from './BenchDatabase.js';
import { ChildLink } from './childLink.js';
import { ContenderQueues } from './contenderQueues.js';
import type { ContenderDefinition } from './contenders.js';
import { MeasuredWindow, type WindowFigures } from './measureWindow.js';
import type { Phase } from './orders.js';
import type { ChildReport, ChildSpec, FromChild } from './protocol.js';
import type { BenchProxy } from './proxy/BenchProxy.js';
import { publishOrders } from './publisher.js';
import { requestOrders } from './requester.js';
import type { ServerCost } from './serverCounters.js';
import { SOURCE_CONDITION_ARG } from './sourceCondition.js';
import { percentile, ratePerSecond } from './stats.js';

const CHILD_FILE = fileURLToPath(new URL('./child.ts', import.meta.url));
const TSX_LOADER = import.meta.resolve('tsx');
/** The latency part runs at most at this fraction of the throughput the contender just showed (the publisher shares the machine). */
const LATENCY_LOAD = 0.4;

export interface RunSettings {
  readonly amqpUrl: string;
  readonly workers: number;
  /** Messages of the timed part, this contender. */
  readonly messages: number;
  /** Seconds of the fixed-rate part. */
  readonly latencySeconds: number;
  /** Batch size of the runner contenders (for the tail). */
  readonly batchSize: number;
  /** The example app's handler settings from examples/orders/warren.config.ts, as written (see `ChildSpec.handler`). */
  readonly handlerSettings: Readonly<Record<string, unknown>>;
  readonly cpuRows: number;
  readonly singlePrefetch: number;
  /** Longest wait for any one step of the contender, in ms. */
  readonly stepTimeoutMs: number;
  /** The runner's batching window (for `amqp-ceiling`, which consumes in the same pattern). */
  readonly batchingWindowSeconds: number;
  /** Handlers of the `many` contender. */
  readonly manyHandlers: number;
  /** How the runner contenders run their workers (`--worker-model`). */
  readonly workerModel: 'process' | 'thread';
  /** The `proxy` profile's proxy; undefined in the default profile. */
  readonly proxy: BenchProxy | undefined;
}

export interface ContenderResult {
  readonly name: string;
  readonly messagesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly connectionsOpened: number;
  /** Peak RSS of the runner process (or of the hand-written consumer). */
  readonly peakRssMb: number;
  /** Largest peak RSS among the workers (runner contenders), else null. */
  readonly workerPeakRssMb: number | null;
  /** Runner plus all its workers. */
  readonly totalPeakRssMb: number;
  readonly timedMessages: number;
  readonly timedMs: number;
  readonly latencyRate: number;
  readonly latencyMessages: number;
  /** Connections the contender counted itself (the server's delta also sees anyone else on this server). */
  readonly clientConnects: number;
  readonly retries: number;
  /** CPU per message from the end of start-up to the end of both parts: the contender's processes, MariaDB, RabbitMQ, the proxy. */
  readonly cpuMsPerMessage: { readonly contender: number; readonly workers: number; readonly mariadb: number; readonly rabbitmq: number; readonly proxy: number };
  /** From the server's counters over the measured window (see `serverCounters.ts`). */
  readonly statementsPerMessage: number;
  readonly commitsPerMessage: number | null;
  readonly dataFsyncsPerMessage: number;
  readonly server: ServerCost;
  /** The process tree's resident memory (summed per sample) over the measured window: peak and mean, MB. */
  readonly treeRssPeakMb: number;
  readonly treeRssMeanMb: number;
  /** Server threads seen on the contender's database (distinct, and most at once), from sampling the processlist. */
  readonly dbThreadsSeen: number;
  readonly dbThreadsPeak: number;
  readonly handlers: number;
  /** `proxy` profile: the one-way delay the proxy really added per chunk. */
  readonly proxyDelay: WindowFigures['proxyDelay'];
}

type Progress = (text: string) => void;

/** Runs `def`; when `signal` aborts (Ctrl-C), its process is killed and what it created is still dropped. */
export async function runContender(def: ContenderDefinition, settings: RunSettings, db: BenchDatabase, progress: Progress, signal: AbortSignal): Promise<ContenderResult> {
  signal.throwIfAborted();
  const database = await db.create(`warren_bench_${def.name.replace(/-/g, '_')}`);
  const queue = `warren-bench-${def.name}-${database.name.slice(-8)}`;
  const broker = def.kind === 'raw' ? undefined : await amqp.connect(settings.amqpUrl);
  const handlers = def.manyHandlers === true ? settings.manyHandlers : undefined;
  const sharded = def.kind === 'runner' || def.kind === 'amqp' || handlers !== undefined;
  let queues: ContenderQueues | undefined;
  let child: ChildProcess | undefined;
  try {
    // 1. Topology and the timed part's backlog.
    queues = broker === undefined ? undefined : await ContenderQueues.declare(broker, queue, sharded, settings.workers, handlers);
    const to = queues?.destination;
    const publisher = await broker?.createConfirmChannel();
    // A tail of one batch per shard beyond the timed count: without it the last partial batch of each shard would
    // wait out the batching window inside the timed part, which is latency, not throughput.
    const ownBatchSize = def.handler?.settings?.batchSize;
    const batchSize = typeof ownBatchSize === 'number' ? ownBatchSize : settings.batchSize;
    // Thin-traffic contenders only warm up before their fixed-rate part: one message per shard is tail enough.
    const tail = (sharded ? (queues?.queues.length ?? 0) : settings.workers) * (def.fixedRate === undefined ? batchSize : 1);
    const counts: Record<Phase, number> = { throughput: settings.messages + tail, latency: 0 };
    if (publisher !== undefined && to !== undefined) {
      await publishOrders(publisher, to, 'throughput', counts.throughput, 0, (n) => { signal.throwIfAborted(); progress(`publishing the backlog ${n}/${counts.throughput}`); });
    }

    // 2. The timed part.
    const connectionsBefore = await db.connections();
    const spec: ChildSpec = {
      contender: def.name,
      kind: def.kind,
      amqpUrl: settings.amqpUrl,
      databaseUrl: settings.proxy === undefined ? database.url : settings.proxy.urlFor(database.url),
      queue,
      workers: settings.workers,
      backlogCount: counts.throughput,
      timedCount: settings.messages,
      ...(def.handler === undefined ? {} : {
        handler: { entry: def.handler.entry, export: def.handler.export, settings: { ...settings.handlerSettings, ...def.handler.settings } },
      }),
      ...(def.cpu === true ? { cpuRows: settings.cpuRows } : {}),
      ...(def.kind === 'single' ? { prefetch: settings.singlePrefetch } : {}),
      ...(def.kind === 'amqp' ? { batchSize, batchingWindowSeconds: settings.batchingWindowSeconds } : {}),
      ...(handlers === undefined ? {} : { handlers }),
      ...(def.kind === 'runner' ? { workerModel: settings.workerModel } : {}),
    };
    progress('starting');
    child = fork(CHILD_FILE, [], {
      // WARREN_BENCH_CPU_PROF=<dir> writes a V8 CPU profile of the contender's process (the runner) there.
      execArgv: [SOURCE_CONDITION_ARG, '--import', TSX_LOADER, ...(process.env.WARREN_BENCH_CPU_PROF === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${process.env.WARREN_BENCH_CPU_PROF}`])],
      env: { ...process.env, WARREN_BENCH_SPEC: JSON.stringify(spec) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    const forked = child;
    signal.addEventListener('abort', () => forked.kill('SIGKILL'), { once: true });
    const link = new ChildLink(child, settings.stepTimeoutMs);
    const startingSince = Date.now();
    let consuming = false;
    const ticker = setInterval(() => progress(consuming ? `consuming the backlog ${link.processed}/${counts.throughput}` : `starting (${Math.round((Date.now() - startingSince) / 1000)} s)`), 1_000);
    let throughput: Extract<FromChild, { type: 'throughput' }>;
    let started: Extract<FromChild, { type: 'started' }>;
    let window: MeasuredWindow | undefined;
    try {
      started = await link.next('started', 'starting');
      consuming = true;
      if (def.fixedRate === undefined) window = await MeasuredWindow.open(db, settings.proxy, forked.pid ?? 0, database.name);
      throughput = await link.next('throughput', 'consuming the backlog');
      if (def.fixedRate !== undefined) {
        // Thin traffic: the counters cover the fixed-rate part alone, once the whole backlog (tail too) is done.
        const until = Date.now() + settings.stepTimeoutMs;
        while (link.processed < counts.throughput) {
          if (Date.now() > until) throw new Error(`timed out finishing the backlog (processed ${link.processed} of ${counts.throughput})`);
          await new Promise((r) => setTimeout(r, 100));
        }
        window = await MeasuredWindow.open(db, settings.proxy, forked.pid ?? 0, database.name);
      }
    } finally {
      clearInterval(ticker);
    }
    const windowFrom = def.fixedRate === undefined ? started.processed : counts.throughput;
    const messagesPerSecond = ratePerSecond(def.name, throughput.messages, throughput.ms);
    progress(`${Math.round(messagesPerSecond)} msg/s; latency part next`);

    // 3. The latency part, at a fixed rate the contender can sustain.
    const latencyRate = def.fixedRate ?? Math.max(1, Math.floor(Math.min(def.latencyRate, messagesPerSecond * LATENCY_LOAD)));
    counts.latency = Math.max(20, Math.round(latencyRate * settings.latencySeconds));
    link.send({ type: 'expect', total: counts.throughput + counts.latency });
    let publishTimes: Float64Array | undefined;
    let roundTrips: number[] | undefined;
    if (def.request === true && to !== undefined) {
      roundTrips = await requestOrders(settings.amqpUrl, to, counts.latency, latencyRate, (n) => progress(`latency part: ${n}/${counts.latency} requests sent at ${latencyRate}/s`));
    } else if (publisher !== undefined && to !== undefined) {
      publishTimes = await publishOrders(publisher, to, 'latency', counts.latency, latencyRate, (n) => progress(`latency part: ${n}/${counts.latency} published at ${latencyRate}/s`));
    } else {
      link.send({ type: 'generate', phase: 'latency', count: counts.latency, rate: latencyRate });
      progress(`latency part: ${counts.latency} transactions scheduled at ${latencyRate}/s`);
    }
    const reached = await link.next('reached', 'finishing the latency part');
    const windowMessages = reached.processed - windowFrom;
    if (window === undefined) throw new Error('the measured window was never opened');
    const figures = await window.close(windowMessages);
    link.send({ type: 'stop' });
    const { report } = await link.next('stopped', 'stopping');
    await new Promise<void>((resolve) => { if (child?.exitCode !== null) resolve(); else child.once('exit', () => resolve()); });
    const connectionsOpened = (await db.connections()) - connectionsBefore;

    // 4. Checks: a fast wrong run must fail.
    progress('checking');
    if (def.tables) await db.checkOrders(def.name, database.name, counts);
    else if (report.processed !== counts.throughput + counts.latency) throw new Error(`${def.name} acked ${report.processed} messages, ${counts.throughput + counts.latency} were published`);
    await queues?.checkEmpty();
    const latencies = roundTrips ?? await latenciesOf(report, publishTimes, db, database.name);
    if (latencies.length < counts.latency) throw new Error(`${def.name}: only ${latencies.length} of ${counts.latency} latency samples were found`);
    for (const problem of report.problems.slice(0, 3)) progress(`note: ${problem.slice(0, 200)}`);

    const workerPeak = report.workerPeakRssMb.length > 0 ? Math.max(...report.workerPeakRssMb) : null;
    return {
      name: def.name,
      messagesPerSecond: Math.round(messagesPerSecond),
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      connectionsOpened,
      peakRssMb: report.peakRssMb,
      workerPeakRssMb: workerPeak,
      totalPeakRssMb: Math.round((report.peakRssMb + report.workerPeakRssMb.reduce((a, b) => a + b, 0)) * 10) / 10,
      timedMessages: throughput.messages,
      timedMs: Math.round(throughput.ms),
      latencyRate,
      latencyMessages: counts.latency,
      clientConnects: report.clientConnects,
      retries: report.retries,
      cpuMsPerMessage: {
        contender: perMessage(report.cpuMs + report.workerCpuMs.reduce((a, b) => a + b, 0), report.processed),
        workers: perMessage(report.workerCpuMs.reduce((a, b) => a + b, 0), report.processed),
        mariadb: perMessage(figures.cpuMs.mariadb, windowMessages),
        rabbitmq: perMessage(figures.cpuMs.rabbitmq, windowMessages),
        proxy: perMessage(figures.cpuMs.proxy, windowMessages),
      },
      statementsPerMessage: figures.server.statementsPerMessage,
      commitsPerMessage: figures.server.commitsPerMessage,
      dataFsyncsPerMessage: figures.server.dataFsyncsPerMessage,
      server: figures.server,
      treeRssPeakMb: figures.tree.rssPeakMb,
      treeRssMeanMb: figures.tree.rssMeanMb,
      dbThreadsSeen: figures.tree.dbThreadsSeen,
      dbThreadsPeak: figures.tree.dbThreadsPeak,
      handlers: handlers ?? 1,
      proxyDelay: figures.proxyDelay,
    };
  } finally {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await queues?.delete();
    await broker?.close().catch(() => undefined);
    await db.drop(database.name);
  }
}

function perMessage(ms: number, messages: number): number {
  return messages === 0 ? 0 : Math.round((ms / messages) * 1000) / 1000;
}

/** Publish-to-commit latencies: from the DB rows' insert time for contenders that publish, from the child otherwise. */
async function latenciesOf(report: ChildReport, publishTimes: Float64Array | undefined, db: BenchDatabase, database: string): Promise<number[]> {
  if (report.latenciesMs !== undefined) return [...report.latenciesMs];
  if (publishTimes === undefined) return [];
  const committed = await db.latencyCommitTimes(database);
  return [...committed].map(([index, at]) => at - (publishTimes[index] ?? at));
}
