/**
 * `npx tsx bench/coldstart.ts [--runs N] [--assembly DIR]` (also the `coldstart` part of `npm run bench`): what a
 * Lambda cold start of each of the stack's functions costs in Node on this machine. It synthesizes the example app
 * (examples/orders/, its config with the handler's entry swapped for bench/handlers/orders.ts: the example's handler
 * publishing to an exchange of the bench's own, not the shared `orders.events`) or reads an assembly, copies each
 * function's asset out of it, and for each measures, in a fresh Node process per run:
 *
 * - `require()` of the asset's index.js: wall time and the CPU time it took (the CPU time moves less when other
 *   processes load the machine);
 * - the same entry bundled as before issue 19 (esbuild defaults: nothing minified, every module inside), as the
 *   baseline measured in the same run;
 * - for the example handler, the first invocation too: require, then one `aws:rmq` event of one order against the
 *   local MariaDB (a database of its own) with the publish after commit to the local RabbitMQ (an exchange of its own).
 *
 * Writes `bench/results/coldstart.json` and prints a table with the median and max of each.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { buildSync } from 'esbuild';
import mysql from 'mysql2/promise';
import { loadConfig } from '../config/loadConfig.js';
import { createWarrenApp } from '../lib/app.js';
import { parseCommandLine } from './commandLine.js';
import { SOURCE_CONDITION, useSourceCondition } from './sourceCondition.js';
import { percentile } from './stats.js';

export const COLDSTART_DEFAULTS = {
  /** Fresh processes per asset and measure. */
  runs: 5,
  /** The targets for require(), ms (a quiet machine). */
  handlerRequireMs: 60,
  otherRequireMs: 40,
} as const;

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const EXAMPLE_ROOT = fileURLToPath(new URL('../examples/orders/', import.meta.url));
/** The example's handlers publishing to the exchange WARREN_BENCH_EVENTS_EXCHANGE names (set for every run of it). */
const BENCH_HANDLER = fileURLToPath(new URL('./handlers/orders.ts', import.meta.url));
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const ADMIN_URL = process.env.WARREN_BENCH_ADMIN_URL ?? 'mysql://root@127.0.0.1:3306';

/** The stack's functions: how to recognise each in the templates (logical id) and its entry (relative to Warren's root or absolute). */
const FUNCTIONS = [
  { name: 'handler orders', id: /^HandlerordersFunction/, entry: BENCH_HANDLER, handler: true },
  { name: 'outbox relay', id: /^OutboxRelayFunction/, entry: 'lib/functions/relayFunction.ts', handler: false },
  { name: 'migrations', id: /^MigrationsOnEvent/, entry: 'lib/functions/migrationResource.ts', handler: false },
  { name: 'topology', id: /^TopologyOnEvent/, entry: 'lib/functions/topologyResource.ts', handler: false },
  { name: 'broker monitor', id: /^BrokerMonitorFunction/, entry: 'lib/functions/brokerMonitor.ts', handler: false },
  { name: 'trigger teardown', id: /^TriggerTeardownOnEvent/, entry: 'lib/functions/triggerTeardownResource.ts', handler: false },
] as const;

export interface Spread { readonly median: number; readonly max: number; readonly runs: readonly number[] }
export interface ColdstartResult {
  readonly name: string;
  readonly indexBytes: number;
  readonly assetBytes: number;
  readonly requireMs: Spread;
  readonly requireCpuMs: Spread;
  readonly baselineBytes: number;
  readonly baselineRequireMs: Spread;
  readonly baselineRequireCpuMs: Spread;
  readonly targetMs: number;
  /** The handler only: require + first invocation (one order, commit, publish). */
  readonly firstInvocationMs?: Spread;
  readonly initAndFirstInvocationMs?: Spread;
}

function spread(values: readonly number[]): Spread {
  return { median: percentile(values, 50), max: percentile(values, 100), runs: values.map((v) => Math.round(v * 10) / 10) };
}

function dirBytes(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).reduce((n, e) => n + statSync(join(e.parentPath, e.name)).size, 0);
}

/** One fresh `node`: require(index.js), print wall and CPU ms. */
function requireOnce(indexJs: string, env: Record<string, string>): { wall: number; cpu: number } {
  const script = `const c = process.cpuUsage(), t = performance.now(); require(process.argv[1]); const u = process.cpuUsage(c);
    console.log(JSON.stringify({ wall: performance.now() - t, cpu: (u.user + u.system) / 1000 })); process.exit(0);`;
  const out = execFileSync(process.execPath, ['-e', script, indexJs], { encoding: 'utf8', cwd: tmpdir(), env: { ...process.env, NODE_OPTIONS: '--enable-source-maps', ...env } });
  return JSON.parse(out.trim().split('\n').pop()!) as { wall: number; cpu: number };
}

/** One fresh `node`: require the handler, invoke it with one order; print require, invocation and total ms. */
function invokeOnce(indexJs: string, env: Record<string, string>, n: number): { require: number; invoke: number } {
  const event = {
    eventSource: 'aws:rmq',
    eventSourceArn: 'arn:aws:mq:us-east-1:111122223333:broker:warren-bench:b-9bcfa592-423a-4942-879d-eb284b418fc8',
    rmqMessagesByQueue: { 'orders.0::/': [{
      basicProperties: { contentType: 'application/json', headers: {}, deliveryMode: 2, messageId: `cold-${n}`, bodySize: 0 },
      redelivered: false,
      data: Buffer.from(JSON.stringify({ orderId: `cold-${n}`, sku: 'sku-cold', quantity: 1 })).toString('base64'),
    }] },
  };
  const script = `const t = performance.now(); const { handler } = require(process.argv[1]); const r = performance.now();
    handler(JSON.parse(process.argv[2]), { callbackWaitsForEmptyEventLoop: true, awsRequestId: 'cold' }).then((summary) => {
      if (summary.committed !== 1) throw new Error('unexpected summary ' + JSON.stringify(summary));
      console.log(JSON.stringify({ require: r - t, invoke: performance.now() - r })); process.exit(0);
    }).catch((e) => { console.error(e); process.exit(1); });`;
  const result = spawnSync(process.execPath, ['-e', script, indexJs, JSON.stringify(event)], {
    encoding: 'utf8', cwd: tmpdir(), env: { ...process.env, NODE_OPTIONS: '--enable-source-maps', WARREN_LOG_LEVEL: 'warn', ...env },
  });
  if (result.status !== 0) throw new Error(`first invocation failed: ${result.stderr || result.stdout}`);
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as { require: number; invoke: number };
}

/** Finds each function's asset in the assembly and copies it to `into` (out of any `"type": "module"` package). */
function copyAssets(assembly: string, into: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of readdirSync(assembly).filter((f) => f.endsWith('.template.json'))) {
    const template = JSON.parse(readFileSync(join(assembly, file), 'utf8')) as { Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: unknown } } }> };
    for (const [id, r] of Object.entries(template.Resources)) {
      const fn = FUNCTIONS.find((f) => f.id.test(id));
      const key = r.Properties.Code?.S3Key;
      if (fn === undefined || r.Type !== 'AWS::Lambda::Function' || typeof key !== 'string') continue;
      const dir = join(into, fn.name.replace(/ /g, '-'));
      cpSync(join(assembly, `asset.${key.replace(/\.zip$/, '')}`), dir, { recursive: true });
      found.set(fn.name, dir);
    }
  }
  return found;
}

/**
 * The pre-issue-19 bundle of `entry`: esbuild with the old settings (source map, nothing minified, nothing external);
 * the example's `import 'warren'` bundles Warren's sources, as its relative imports did then.
 */
function baselineBundle(entry: string, into: string): string {
  const outfile = join(into, 'index.js');
  buildSync({ entryPoints: [resolve(ROOT, entry)], bundle: true, platform: 'node', target: 'node22', format: 'cjs', sourcemap: true, outfile, logLevel: 'error', conditions: [SOURCE_CONDITION] });
  return outfile;
}

export async function runColdstart(options: { readonly runs?: number; readonly assembly?: string; readonly progress?: (line: string) => void } = {}): Promise<{ results: ColdstartResult[]; measuredAt: string; loadAverage: number[] }> {
  useSourceCondition(); // the example's config imports `warren/config`
  const runs = options.runs ?? COLDSTART_DEFAULTS.runs;
  const say = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const work = mkdtempSync(join(tmpdir(), 'warren-coldstart-'));
  const suffix = randomBytes(4).toString('hex');
  const database = `warren_coldstart_${suffix}`;
  const exchange = `warren.coldstart.${suffix}`;
  const measuredAt = new Date().toISOString();
  let admin: mysql.Connection | undefined;
  let broker: amqp.ChannelModel | undefined;
  try {
    let assembly = options.assembly;
    if (assembly === undefined) {
      say('coldstart: synthesizing the example app (cdk synth, esbuild for every function)...');
      const started = Date.now();
      const example = await loadConfig('warren.config.ts', EXAMPLE_ROOT);
      const config = { ...example, handlers: example.handlers.map((h) => (h.entry === 'functions/orders.ts' ? { ...h, entry: BENCH_HANDLER } : h)) };
      const { app } = await createWarrenApp({ projectRoot: EXAMPLE_ROOT, config, outdir: join(work, 'cdk.out'), nag: false });
      assembly = app.synth().directory;
      say(`coldstart: synthesized in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    const assets = copyAssets(assembly, join(work, 'assets'));

    admin = await mysql.createConnection({ uri: ADMIN_URL });
    await admin.query(`CREATE DATABASE \`${database}\``);
    const schema = await mysql.createConnection({ uri: `${ADMIN_URL}/${database}`, multipleStatements: true });
    await schema.query(readFileSync(join(EXAMPLE_ROOT, 'functions/schema.sql'), 'utf8'));
    await schema.end();

    const results: ColdstartResult[] = [];
    for (const fn of FUNCTIONS) {
      const dir = assets.get(fn.name);
      if (dir === undefined || !existsSync(join(dir, 'index.js'))) throw new Error(`coldstart: no asset for ${fn.name} in ${assembly}`);
      const baselineDir = join(work, 'baseline', fn.name.replace(/ /g, '-'));
      mkdirSync(baselineDir, { recursive: true });
      const baseline = baselineBundle(fn.entry, baselineDir);
      // bench/handlers/orders.ts refuses to load without its exchange; the others ignore the variable.
      const env = { WARREN_BENCH_EVENTS_EXCHANGE: exchange };
      const now: { wall: number; cpu: number }[] = [];
      const before: { wall: number; cpu: number }[] = [];
      for (let i = 0; i < runs; i += 1) {
        say(`coldstart: ${fn.name}: require() run ${i + 1}/${runs} (and the baseline)`);
        now.push(requireOnce(join(dir, 'index.js'), env));
        before.push(requireOnce(baseline, env));
      }
      let first: { require: number; invoke: number }[] | undefined;
      if (fn.handler) {
        // connected only around the invocations: the synchronous runs above block this process's heartbeats
        broker = await amqp.connect(AMQP_URL);
        broker.on('error', () => undefined);
        const channel = await broker.createChannel();
        await channel.assertExchange(exchange, 'topic', { durable: false, autoDelete: false });
        first = [];
        for (let i = 0; i < runs; i += 1) {
          say(`coldstart: ${fn.name}: first invocation run ${i + 1}/${runs}`);
          first.push(invokeOnce(join(dir, 'index.js'), {
            DATABASE_URL: `${ADMIN_URL}/${database}`, WARREN_HANDLER: 'orders', WARREN_PUBLISH_AMQP_URL: AMQP_URL, ...env,
          }, i));
        }
        await channel.deleteExchange(exchange);
        await broker.close();
        broker = undefined;
      }
      results.push({
        name: fn.name,
        indexBytes: statSync(join(dir, 'index.js')).size,
        assetBytes: dirBytes(dir),
        requireMs: spread(now.map((r) => r.wall)),
        requireCpuMs: spread(now.map((r) => r.cpu)),
        baselineBytes: statSync(baseline).size,
        baselineRequireMs: spread(before.map((r) => r.wall)),
        baselineRequireCpuMs: spread(before.map((r) => r.cpu)),
        targetMs: fn.handler ? COLDSTART_DEFAULTS.handlerRequireMs : COLDSTART_DEFAULTS.otherRequireMs,
        ...(first === undefined ? {} : {
          firstInvocationMs: spread(first.map((r) => r.invoke)),
          initAndFirstInvocationMs: spread(first.map((r) => r.require + r.invoke)),
        }),
      });
    }
    return { results, measuredAt, loadAverage: (await import('node:os')).loadavg().map((l) => Math.round(l * 10) / 10) };
  } finally {
    if (broker !== undefined) {
      const channel = await broker.createChannel().catch(() => undefined);
      await channel?.deleteExchange(exchange).catch(() => undefined);
      await broker.close().catch(() => undefined);
    }
    await admin?.query(`DROP DATABASE IF EXISTS \`${database}\``).catch(() => undefined);
    await admin?.end().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

const kb = (bytes: number) => `${Math.round(bytes / 1024)} KB`;
const ms = (s: Spread) => `${s.median} / ${s.max}`;

export function formatColdstartTable(results: readonly ColdstartResult[]): string {
  const rows = [
    ['asset', 'index.js', 'asset', 'require() ms', 'CPU ms', 'before: index.js', 'require() ms', 'CPU ms', 'target', 'first invocation ms', 'require + first'],
    ...results.map((r) => [
      r.name, kb(r.indexBytes), kb(r.assetBytes), ms(r.requireMs), ms(r.requireCpuMs), kb(r.baselineBytes), ms(r.baselineRequireMs), ms(r.baselineRequireCpuMs),
      `${r.targetMs}`, r.firstInvocationMs === undefined ? '' : ms(r.firstInvocationMs), r.initAndFirstInvocationMs === undefined ? '' : ms(r.initAndFirstInvocationMs),
    ]),
  ];
  return [`| ${rows[0]!.join(' | ')} |`, `|${rows[0]!.map((_, i) => (i === 0 ? '---' : '--:')).join('|')}|`, ...rows.slice(1).map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

async function main(): Promise<void> {
  const usage = `usage: npx tsx bench/coldstart.ts [--runs N (${COLDSTART_DEFAULTS.runs})] [--assembly cdk.out]\n  require() and first invocation of each Lambda asset of the synthesized stack`;
  const { values } = parseCommandLine({ options: { runs: { type: 'string' }, assembly: { type: 'string' } } }, usage);
  const runs = values.runs === undefined ? COLDSTART_DEFAULTS.runs : Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new Error(`--runs: expected a whole number from 1 to 50, received ${values.runs}`);
  const { results, measuredAt, loadAverage } = await runColdstart({ runs, ...(values.assembly === undefined ? {} : { assembly: values.assembly }) });
  const report = { measuredAt, node: process.version, loadAverage, runs, note: 'ms as median / max; CPU ms = user + system time of the require()', results };
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/coldstart.json', import.meta.url), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nLambda cold start, Node ${process.version}, ${runs} fresh processes each, ${measuredAt.slice(0, 16)}Z, load average ${loadAverage.join(' ')}; median / max`);
  console.log(formatColdstartTable(results));
  console.log('\nwrote bench/results/coldstart.json');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
