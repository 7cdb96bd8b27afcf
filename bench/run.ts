/**
 * `npm run bench [-- --quick] [--profile default|proxy] [--rtt-ms R] [--scale F] [--workers N] [--only a,b]
 * [--window S] [--many-handlers N] [--thin-rate R]`: runs every contender of `contenders.ts` one after the other on this machine,
 * prints the tables and the targets, and writes `bench/results/latest.json` and `latest.svg` (`latest-proxy.*` for the
 * proxy profile; a subset, a scale or a failed contender writes `partial.*` / `partial-proxy.*` instead).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadConfig } from '../config/loadConfig.js';
import { resolveConfig, RUNNER_DEFAULTS } from '../config/config.js';
import { ADMIN_URL, BenchDatabase } from './BenchDatabase.js';
import { CONTENDERS, PROFILES, RATIOS, type Profile } from './contenders.js';
import { COLDSTART_DEFAULTS, formatColdstartTable, runColdstart } from './coldstart.js';
import { formatLambdaThinTable, runLambdaThin } from './lambdaThin.js';
import { calibrateCpuRows } from './handlers/cpuWork.js';
import { describeMachine } from './machine.js';
import { BenchProxy } from './proxy/BenchProxy.js';
import { parseCommandLine } from './commandLine.js';
import { barChartSvg, computeRatios, formatCostTable, formatRatios, formatTable } from './report.js';
import { runContender, type ContenderResult, type RunSettings } from './runContender.js';
import { useSourceCondition } from './sourceCondition.js';

/** Every default of the bench, in one place. */
export const BENCH_DEFAULTS = {
  /** Workers (Warren), connections (raw, single's pool) and messages in flight (naive). */
  workers: 4,
  /** Seconds of fixed-rate publishing for the latency figures. */
  latencySeconds: 5,
  /** `--quick`: this fraction of each contender's messages, and this many seconds of latency part. */
  quickFraction: 0.06,
  quickLatencySeconds: 1,
  /** Fewest messages in any timed part. */
  minMessages: 500,
  /** CPU per message of the `-cpu` contenders. */
  cpuTargetMs: 5,
  /** What a hand-written consumer typically sets. */
  singlePrefetch: 50,
  stepTimeoutMs: 180_000,
  /** `many`: handlers of one shard each (issue 10). */
  manyHandlers: 200,
  /** Seconds of the fixed-rate part of the thin-traffic contenders (`many-thin`, `single-many`); `--quick`: a third. */
  thinSeconds: 20,
  /** `proxy` profile: round trip the proxy adds between client and database, ms. */
  rttMs: 0.5,
} as const;

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** The example app (its config and its handler's settings); the bench runs its handlers through bench/handlers/orders.ts. */
const EXAMPLE_ROOT = fileURLToPath(new URL('../examples/orders/', import.meta.url));
const RESULTS = new URL('./results/', import.meta.url);

function usage(): string {
  return [
    'usage: npm run bench -- [--quick] [--profile default|proxy] [--rtt-ms ms] [--scale factor] [--workers N] [--only name,name] [--window seconds] [--many-handlers N] [--thin-rate R] [--worker-model process|thread]',
    '  --scale multiplies every contender\'s message count (--quick: 0.06)',
    '  --profile proxy: every contender reaches MariaDB through a local TLS-terminating proxy adding --rtt-ms (0.5) of round trip',
    '  --many-handlers: handlers of the `many`, `many-thin` and `single-many` contenders (200)',
    '  --thin-rate: messages/s of the fixed-rate part of `many-thin` and `single-many` (900)',
    `  --worker-model: how the runner contenders run their workers (runner.workerModel; the config's default, ${RUNNER_DEFAULTS.workerModel})`,
    '',
    ...CONTENDERS.map((c) => `  ${c.name.padEnd(12)} ${c.about}`),
    `  ${'coldstart'.padEnd(12)} bench/coldstart.ts: require() and first invocation of each Lambda asset of the synthesized stack`,
    `  ${'lambda-thin'.padEnd(12)} bench/lambdaThin.ts: the example handler as on Lambda, 200 messages at 1 and 10 per invocation: statements, commits, data fsyncs per message`,
  ].join('\n');
}

interface Options {
  readonly quick: boolean;
  readonly scale: number;
  readonly workers: number;
  readonly only: string[] | undefined;
  readonly window: number | undefined;
  readonly profile: Profile;
  readonly rttMs: number;
  readonly manyHandlers: number;
  readonly thinRate: number | undefined;
  readonly workerModel: 'process' | 'thread';
}

function parseOptions(): Options {
  const { values } = parseCommandLine({
    options: {
      quick: { type: 'boolean', default: false },
      workers: { type: 'string' },
      only: { type: 'string' },
      window: { type: 'string' },
      scale: { type: 'string' },
      profile: { type: 'string', default: 'default' },
      'rtt-ms': { type: 'string' },
      'many-handlers': { type: 'string' },
      'thin-rate': { type: 'string' },
      'worker-model': { type: 'string' },
    },
  }, usage());
  const workers = values.workers === undefined ? BENCH_DEFAULTS.workers : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new Error(`--workers: expected a whole number from 1 to 64, received ${values.workers}`);
  const only = values.only?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const name of only ?? []) {
    if (!CONTENDERS.some((c) => c.name === name) && name !== 'coldstart' && name !== 'lambda-thin') throw new Error(`--only: unknown contender ${JSON.stringify(name)}; known are ${CONTENDERS.map((c) => c.name).join(', ')}, coldstart, lambda-thin`);
  }
  const window = values.window === undefined ? undefined : Number(values.window); // validated as the config validates it
  const scale = values.scale === undefined ? (values.quick ? BENCH_DEFAULTS.quickFraction : 1) : Number(values.scale);
  if (!(scale > 0 && scale <= 100)) throw new Error(`--scale: expected a factor above 0 and at most 100, received ${values.scale}`);
  const profile = values.profile as Profile;
  if (!PROFILES.includes(profile)) throw new Error(`--profile: expected one of ${PROFILES.join(', ')}, received ${JSON.stringify(values.profile)}`);
  const rttMs = values['rtt-ms'] === undefined ? BENCH_DEFAULTS.rttMs : Number(values['rtt-ms']);
  if (!(rttMs >= 0 && rttMs <= 100)) throw new Error(`--rtt-ms: expected milliseconds from 0 to 100, received ${values['rtt-ms']}`);
  if (values['rtt-ms'] !== undefined && profile !== 'proxy') throw new Error('--rtt-ms: only the proxy profile adds a round trip; add --profile proxy');
  const manyHandlers = values['many-handlers'] === undefined ? BENCH_DEFAULTS.manyHandlers : Number(values['many-handlers']);
  if (!Number.isInteger(manyHandlers) || manyHandlers < 1 || manyHandlers > 1_000) throw new Error(`--many-handlers: expected a whole number from 1 to 1000, received ${values['many-handlers']}`);
  const thinRate = values['thin-rate'] === undefined ? undefined : Number(values['thin-rate']);
  if (thinRate !== undefined && !(Number.isInteger(thinRate) && thinRate >= 1 && thinRate <= 10_000)) throw new Error(`--thin-rate: expected whole messages per second from 1 to 10000, received ${values['thin-rate']}`);
  const workerModel = values['worker-model'] ?? RUNNER_DEFAULTS.workerModel;
  if (workerModel !== 'process' && workerModel !== 'thread') throw new Error(`--worker-model: expected process or thread, received ${JSON.stringify(workerModel)}`);
  return { quick: values.quick, scale, workers, only, window, profile, rttMs, manyHandlers, thinRate, workerModel };
}

/** The commit measured, and the files of the measured code that differed from it (others work in the same tree). */
function codeVersion(): { commit: string; uncommitted: string[] } {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  try {
    const status = git('status', '--porcelain', '--', 'runtime', 'config', 'topology', 'local', 'examples/orders/functions', 'bench/*.ts', 'bench/consumers', 'bench/handlers', 'examples/orders/warren.config.ts');
    return { commit: git('rev-parse', '--short', 'HEAD').trim(), uncommitted: status.split('\n').filter((l) => l.trim() !== '').map((l) => l.slice(3)) };
  } catch {
    return { commit: 'unknown', uncommitted: [] };
  }
}

function isDiagnostic(name: string): boolean {
  return CONTENDERS.find((c) => c.name === name)?.diagnostic === true;
}

function progressLine(prefix: string): (text: string) => void {
  let lastAt = 0;
  return (text) => {
    const line = `${prefix} ${text}`;
    if (process.stderr.isTTY) {
      process.stderr.write(`\r\x1b[K${line}`);
    } else if (Date.now() - lastAt >= 2_000 || !/\d+\/\d+/.test(text)) {
      lastAt = Date.now();
      process.stderr.write(`${line}\n`);
    }
  };
}

async function main(): Promise<void> {
  const options = parseOptions();
  useSourceCondition(); // before anything of the example app loads: its `import 'warren'` must reach the sources
  const contenders = CONTENDERS.filter((c) => options.only === undefined || options.only.includes(c.name));
  const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  // The example app's handler settings as written in examples/orders/warren.config.ts (so the runner applies its own
  // defaults), plus --window. Not its `publishes` (each runner contender lists its own events exchange instead of the
  // shared `orders.events`: consumers/runner.ts) nor `samples` (for `warren send`, a path relative to the example).
  await loadConfig('warren.config.ts', EXAMPLE_ROOT); // validates it
  const configModule = (await import(pathToFileURL(`${EXAMPLE_ROOT}warren.config.ts`).href)) as { default: { handlers: readonly Record<string, unknown>[] } };
  const exampleRaw = configModule.default.handlers.find((h) => h.entry === 'functions/orders.ts') ?? {};
  const handlerSettings: Record<string, unknown> = Object.fromEntries(Object.entries(exampleRaw).filter(([k]) => !['name', 'entry', 'export', 'queue', 'vhost', 'concurrency', 'publishes', 'samples'].includes(k)));
  if (options.window !== undefined) handlerSettings.batchingWindowSeconds = options.window;
  const effective = resolveConfig({ handlers: [{ ...handlerSettings, name: 'orders', entry: 'bench/handlers/orders.ts' }] }).handlers[0];
  const batchSize = effective?.batchSize ?? 100;
  const batchingWindowSeconds = effective?.batchingWindowSeconds ?? 0;
  const started = Date.now();

  process.stderr.write(`calibrating ~${BENCH_DEFAULTS.cpuTargetMs} ms of CPU per message... `);
  const cpu = calibrateCpuRows(BENCH_DEFAULTS.cpuTargetMs);
  process.stderr.write(`${cpu.rows} rows (${cpu.ms.toFixed(1)} ms)\n`);

  const db = await BenchDatabase.open();
  const machine = await describeMachine(db, amqpUrl);
  const commitCounter = await db.enableCommitCounter();
  const proxy = options.profile === 'proxy' ? await BenchProxy.start(ADMIN_URL, options.rttMs) : undefined;
  const results: ContenderResult[] = [];
  // Ctrl-C stops the contender running now, which still drops its database and queues, and skips the rest.
  const interrupt = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => interrupt.abort(new Error(`interrupted by ${sig}`)));
  const failures: { name: string; error: string }[] = [];
  try {
    for (const [i, def] of contenders.entries()) {
      if (interrupt.signal.aborted) break;
      const messages = Math.max(BENCH_DEFAULTS.minMessages, Math.round(def.messages * options.scale));
      const contender = def.fixedRate !== undefined && def.request !== true && options.thinRate !== undefined ? { ...def, fixedRate: options.thinRate } : def;
      const settings: RunSettings = {
        amqpUrl,
        workers: options.workers,
        messages,
        latencySeconds: def.fixedRate !== undefined ? Math.round(BENCH_DEFAULTS.thinSeconds / (options.quick ? 3 : 1)) : options.quick ? BENCH_DEFAULTS.quickLatencySeconds : BENCH_DEFAULTS.latencySeconds,
        batchSize,
        handlerSettings,
        cpuRows: cpu.rows,
        singlePrefetch: BENCH_DEFAULTS.singlePrefetch,
        stepTimeoutMs: BENCH_DEFAULTS.stepTimeoutMs,
        batchingWindowSeconds,
        manyHandlers: options.manyHandlers,
        workerModel: options.workerModel,
        proxy,
      };
      const progress = progressLine(`[${i + 1}/${contenders.length}] ${def.name}:`);
      try {
        const result = await runContender(contender, settings, db, progress, interrupt.signal);
        results.push(result);
        progress(`${result.messagesPerSecond} msg/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${result.connectionsOpened} connections, invariant ok\n`);
      } catch (error) {
        failures.push({ name: def.name, error: (error as Error).message });
        progress(`FAILED: ${(error as Error).message}\n`);
      }
    }
  } finally {
    await proxy?.close();
    await db.close();
  }
  // Lambda cold starts (bench/coldstart.ts): the assets of the synthesized stack, fresh processes.
  let coldstart: Awaited<ReturnType<typeof runColdstart>> | undefined;
  if ((options.only === undefined || options.only.includes('coldstart')) && !interrupt.signal.aborted) {
    const progress = progressLine('[coldstart]');
    try {
      coldstart = await runColdstart({ runs: options.quick ? 3 : COLDSTART_DEFAULTS.runs, progress });
    } catch (error) {
      failures.push({ name: 'coldstart', error: (error as Error).message });
      progress(`FAILED: ${(error as Error).message}\n`);
    }
  }
  // The Lambda path's database cost (bench/lambdaThin.ts): in-process handler, server counters around 200 messages.
  let lambdaThin: Awaited<ReturnType<typeof runLambdaThin>> | undefined;
  if ((options.only === undefined || options.only.includes('lambda-thin')) && !interrupt.signal.aborted) {
    const progress = progressLine('[lambda-thin]');
    try {
      lambdaThin = await runLambdaThin({ amqpUrl, progress });
      progress('done\n');
    } catch (error) {
      failures.push({ name: 'lambda-thin', error: (error as Error).message });
      progress(`FAILED: ${(error as Error).message}\n`);
    }
  }

  const ratios = computeRatios(results, RATIOS, options.profile, options.workers);
  const complete = failures.length === 0 && options.only === undefined && results.length === CONTENDERS.length && (options.quick || options.scale === 1)
    && options.manyHandlers === BENCH_DEFAULTS.manyHandlers && options.thinRate === undefined && options.workerModel === RUNNER_DEFAULTS.workerModel;
  const mode = options.quick ? 'quick' : 'default';
  const settingsOut = {
    code: codeVersion(), profile: options.profile, ...(proxy === undefined ? {} : { rttMs: options.rttMs }), mode, scale: options.scale, workers: options.workers, workerModel: options.workerModel,
    batchSize, batchingWindowSeconds, manyHandlers: options.manyHandlers, thinRate: options.thinRate ?? CONTENDERS.find((c) => c.fixedRate !== undefined && c.request !== true)?.fixedRate, cpuRowsPerMessage: cpu.rows, cpuMsPerMessage: Math.round(cpu.ms * 10) / 10,
    singlePrefetch: BENCH_DEFAULTS.singlePrefetch, commitCounter: commitCounter ? 'trx_rw_commits' : null,
  };
  const report = {
    machine,
    settings: { ...settingsOut, handlerSettings },
    measuredAt: new Date(started).toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 1000),
    contenders: results.filter((r) => !isDiagnostic(r.name)),
    diagnostics: results.filter((r) => isDiagnostic(r.name)),
    ratios,
    ...(coldstart === undefined ? {} : { coldstart }),
    ...(lambdaThin === undefined ? {} : { lambdaThin }),
    ...(failures.length > 0 ? { failures } : {}),
  };
  const profileText = proxy === undefined ? '' : `, proxy profile (TLS, ${options.rttMs} ms RTT)`;
  const subtitle = `${machine.cores} cores (${machine.cpuModel}), W=${options.workers}${profileText}, ${mode} run, ${report.measuredAt.slice(0, 10)}`;
  await mkdir(RESULTS, { recursive: true });
  const base = `${complete ? 'latest' : 'partial'}${options.profile === 'default' ? '' : `-${options.profile}`}`;
  await writeFile(new URL(`${base}.json`, RESULTS), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(new URL(`${base}.svg`, RESULTS), barChartSvg(report.contenders, subtitle));

  console.log(`\nWarren bench: ${subtitle}; MariaDB ${machine.mariadb}, ${machine.rabbitmq}, Node ${machine.node}`);
  console.log(`batch size ${batchSize}, window ${batchingWindowSeconds} s; CPU variant ${cpu.rows} rows = ${cpu.ms.toFixed(1)} ms/message; took ${report.durationSeconds} s\n`);
  console.log(formatTable(results));
  console.log(`\n${formatCostTable(results)}`);
  console.log(`\n${formatRatios(ratios)}`);
  if (coldstart !== undefined) console.log(`\nLambda cold start (median / max ms of ${options.quick ? 3 : COLDSTART_DEFAULTS.runs} fresh processes):\n${formatColdstartTable(coldstart.results)}`);
  if (lambdaThin !== undefined) console.log(`\nLambda path, database cost per message (lambda-thin: example handler in-process, ${lambdaThin[0]?.messages ?? 0} messages, server counters):\n${formatLambdaThinTable(lambdaThin)}`);
  console.log(`\nwrote bench/results/${base}.json and ${base}.svg`);
  for (const f of failures) console.error(`FAILED ${f.name}: ${f.error}`);
  if (failures.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
