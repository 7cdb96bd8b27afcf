/**
 * Start-up and footprint of the runner with many handlers, as an operator starts it (`npm start` through tsx, or the
 * built `node dist/local/cli.js start`): time from spawn to the first consumed message, RSS of the whole process tree
 * idle after a round of messages, DB connections on the server.
 *
 *   npx tsx bench/scale.ts --handlers 200 [--built] [--workers 4] [--per-handler 5] [--cold] [--rate 50 --seconds 30]
 *
 * By default the topology exists and the messages wait in the shard queues before the runner starts (a restart);
 * `--cold` leaves the declaring to the runner (a first start) and publishes once it consumes. `--rate R` then publishes
 * R messages/s spread round-robin over all handlers for `--seconds` and reports the latency from publish to the row's
 * `created_at` (the handler's INSERT, inside its transaction; the commit follows within a millisecond or two).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import mysql from 'mysql2/promise';
import { declareTopology } from '../topology/topology.js';
import { parseCommandLine } from './commandLine.js';
import { percentile } from './stats.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const USAGE = [
  'usage: npx tsx bench/scale.ts [--handlers 200] [--built] [--workers N] [--per-handler 5] [--cold] [--rate R --seconds 30]',
  '  start the runner with N handlers and measure the time to the first consumed message, the RSS of its process tree',
  '  and its DB connections (AMQP_URL, MariaDB as root at 127.0.0.1:3306)',
  '  --built        run the built runner (node dist/local/cli.js) instead of tsx',
  '  --workers      runner.workers of the generated config',
  '  --per-handler  messages waiting in each handler\'s queues before the start',
  '  --cold         leave declaring the topology to the runner (a first start) and publish once it consumes',
  '  --rate         then publish R messages/s over all handlers for --seconds and report the latency',
].join('\n');
const { values } = parseCommandLine({ options: { handlers: { type: 'string', default: '200' }, built: { type: 'boolean' }, workers: { type: 'string' }, 'per-handler': { type: 'string', default: '5' }, cold: { type: 'boolean' }, rate: { type: 'string' }, seconds: { type: 'string', default: '30' } } }, USAGE);
const handlers = Number(values.handlers);
const perHandler = Number(values['per-handler']);
const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const adminUrl = 'mysql://root@127.0.0.1:3306';
const tag = `scale_${randomBytes(3).toString('hex')}`;

function rssMb(pid: number): number {
  let total = 0;
  try {
    const status = execFileSync('cat', [`/proc/${pid}/status`]).toString();
    total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch { /* gone */ }
  return total;
}

/** CPU seconds (user + system) a process has used, children it waited for excluded. */
function cpuSeconds(pid: number): number {
  try {
    const fields = execFileSync('cat', [`/proc/${pid}/stat`]).toString().split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch { return 0; }
}

function tree(pid: number): number[] {
  let children: string[] = [];
  try { children = execFileSync('pgrep', ['-P', String(pid)]).toString().split('\n').filter((l) => l !== ''); } catch { /* none */ }
  return [pid, ...children.flatMap((c) => tree(Number(c)))];
}

const admin = await mysql.createConnection({ uri: adminUrl, multipleStatements: true });
const queues = Array.from({ length: handlers }, (_, i) => `${tag}_${i}`);
const eventsExchange = `${tag}.events`;
const configFile = join(ROOT, '.warren', `${tag}.config.mjs`);
const connection = await amqp.connect(amqpUrl);
let child: ChildProcess | undefined;

/** Everything this run created, whatever happened: the runner, its quorum queues and exchanges, the database, the config. */
async function cleanUp(): Promise<void> {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child?.once('exit', r));
  }
  const channel = await connection.createChannel();
  for (const queue of queues) {
    for (const q of [`${queue}.0`, `${queue}.dlq`]) await channel.deleteQueue(q).catch(() => undefined);
    await channel.deleteExchange(queue).catch(() => undefined);
  }
  await channel.deleteExchange(eventsExchange).catch(() => undefined);
  await connection.close().catch(() => undefined);
  await admin.query('DROP DATABASE IF EXISTS ??', [tag]);
  await admin.end();
  await rm(configFile, { force: true });
}

/** Gives up (and cleans up) when the runner has not consumed everything within this time. */
const DEADLINE_MS = 180_000;
let interrupted: string | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { interrupted = signal; });

try {
  await admin.query('CREATE DATABASE ??', [tag]);
  await admin.query(`USE \`${tag}\`; ${await readFile(join(ROOT, 'examples/orders/functions/schema.sql'), 'utf8')}`);
  await admin.query('USE mysql');
  const config = {
    migrations: ['examples/orders/functions/schema.sql'],
    // the example's handler, publishing to this run's own exchange (WARREN_BENCH_EVENTS_EXCHANGE below)
    handlers: queues.map((queue, i) => ({ name: `h${i}`, entry: 'bench/handlers/orders.ts', queue, publishes: [{ exchange: eventsExchange, type: 'topic' }] })),
    runner: { metricsPort: 0, ...(values.workers === undefined ? {} : { workers: Number(values.workers) }) },
  };
  await mkdir(join(ROOT, '.warren'), { recursive: true });
  await writeFile(configFile, `export default ${JSON.stringify(config)};\n`);
  /** One example order to handler `queue`'s exchange, keyed and identified by its order id. */
  const publishOrder = (channel: amqp.ConfirmChannel, queue: string, orderId: string, i: number): void => {
    channel.publish(queue, orderId, Buffer.from(JSON.stringify({ orderId, sku: `sku-${i % 7}`, quantity: 1 })), { messageId: orderId, persistent: true });
  };
  const publishAll = async (): Promise<void> => {
    const channel = await connection.createConfirmChannel();
    for (const queue of queues) for (let i = 0; i < perHandler; i += 1) publishOrder(channel, queue, `${queue}-${i}`, i);
    await channel.waitForConfirms();
    await channel.close();
  };
  if (values.cold !== true) {
    process.stderr.write(`declaring ${handlers} handlers' topology (${handlers * 2} quorum queues)...\n`);
    for (const queue of queues) await declareTopology(connection, { queue, concurrency: 1 });
    await publishAll();
  }

  const command = values.built === true ? [process.execPath, join(ROOT, 'dist/local/cli.js')] : [process.execPath, '--conditions=warren-source', '--import', 'tsx', 'local/cli.ts'] /* as `npm start` runs it */;
  process.stderr.write(`starting the runner (${command.join(' ')})...\n`);
  const started = performance.now();
  const runner = spawn(command[0]!, [...command.slice(1), 'start', '--config', configFile], {
    cwd: ROOT, env: { ...process.env, DATABASE_URL: `${adminUrl}/${tag}`, AMQP_URL: amqpUrl, WARREN_BENCH_EVENTS_EXCHANGE: eventsExchange }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  child = runner;
  let ready = 0;
  let startCpu = 0;
  runner.stdout?.on('data', (chunk: Buffer) => {
    if (process.env.SCALE_VERBOSE) process.stderr.write(`[${Math.round(performance.now() - started)}] ${chunk.toString()}`);
    if (ready === 0 && chunk.toString().includes('processing messages')) {
      ready = performance.now() - started;
      startCpu = tree(runner.pid!).reduce((n, pid) => n + cpuSeconds(pid), 0);
      if (values.cold === true) void publishAll();
    }
  });
  const count = async () => Number(((await admin.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${tag}\`.orders`))[0][0])?.n);
  let first = 0;
  for (;;) {
    if (interrupted !== undefined) throw new Error(`interrupted by ${interrupted}`);
    if (runner.exitCode !== null) throw new Error(`the runner exited with code ${runner.exitCode} before consuming everything`);
    if (performance.now() - started > DEADLINE_MS) throw new Error(`the runner had not consumed all ${handlers * perHandler} messages after ${DEADLINE_MS / 1000} s`);
    const n = await count();
    if (n > 0 && first === 0) first = performance.now() - started;
    if (n >= handlers * perHandler) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const all = performance.now() - started;
  let latency: Record<string, number> | undefined;
  if (values.rate !== undefined) {
    const rate = Number(values.rate);
    const total = Math.round(rate * Number(values.seconds));
    process.stderr.write(`publishing ${total} messages at ${rate}/s over ${handlers} handlers...\n`);
    const channel = await connection.createConfirmChannel();
    const t0 = Date.now();
    for (let i = 0; i < total; i += 1) {
      const due = t0 + (i * 1000) / rate;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      const queue = queues[i % queues.length]!;
      publishOrder(channel, queue, `${queue}-lat-${Date.now()}-${i}`, i);
    }
    await channel.waitForConfirms();
    await channel.close();
    const deadline = Date.now() + DEADLINE_MS;
    while (await count() < handlers * perHandler + total) {
      if (Date.now() > deadline) throw new Error('the rate part did not finish in time');
      await new Promise((r) => setTimeout(r, 100));
    }
    const [rows] = await admin.query<mysql.RowDataPacket[]>(`SELECT order_id AS id, UNIX_TIMESTAMP(created_at) * 1000 AS at FROM \`${tag}\`.orders WHERE order_id LIKE ?`, ['%-lat-%']);
    const ms = rows.map((r) => Number(r.at) - Number(/-lat-(\d+)-/.exec(String(r.id))?.[1]));
    latency = { rate, messages: ms.length, p50Ms: percentile(ms, 50), p90Ms: percentile(ms, 90), p99Ms: percentile(ms, 99), maxMs: percentile(ms, 100) };
  }
  await new Promise((r) => setTimeout(r, 3_000));
  const pids = tree(runner.pid!);
  const rss = pids.map(rssMb);
  const [conns] = await admin.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ?', [tag]);
  const result = {
    handlers, mode: values.built === true ? 'built (node dist/)' : 'tsx (npm start)', start: values.cold === true ? 'cold (runner declares)' : 'warm (topology exists)', workers: values.workers ?? 'default',
    startedConsumingMs: Math.round(ready), cpuSecondsUntilConsuming: Number(startCpu.toFixed(1)), firstConsumedMs: Math.round(first), allConsumedMs: Math.round(all),
    processes: pids.length, treeRssMb: Math.round(rss.reduce((a, b) => a + b, 0)), perProcessRssMb: rss.map(Math.round),
    dbConnections: Number(conns[0]?.n),
    loadAverage1m: Number(loadavg()[0]?.toFixed(1)),
    ...(latency === undefined ? {} : { latency }),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} catch (error) {
  process.stderr.write(`scale: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
