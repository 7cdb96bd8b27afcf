/**
 * What the runner-to-worker hop costs per batch, by worker model, with nothing else running: one `WorkerHandle` with the
 * `noop` handler (decodes the batch, no database), batches of `--messages` example-sized messages built by the runner's
 * own `toRmqEvent`, one at a time, `--batches` of them after a warm-up. Prints wall time and CPU time (the runner's
 * process, threads included, plus a worker process's own) per batch and per message. Usage:
 *
 *   npx tsx bench/ipcCost.ts [--batches 3000] [--messages 1]
 *
 * On a loaded machine compare the two models' lines of one run, not absolute figures.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ConsumeMessage } from 'amqplib';
import { toRmqEvent } from '../runtime/toRmqEvent.js';
import { parseCommandLine } from './commandLine.js';
import { WorkerHandle } from '../local/pool/WorkerHandle.js';
import type { WorkerModel } from '../local/pool/workerChannel.js';
import { createLogger } from '../runtime/logger.js';

const NOOP = fileURLToPath(new URL('./handlers/noop.ts', import.meta.url));

function delivery(i: number): ConsumeMessage {
  const body = Buffer.from(JSON.stringify({ orderId: `T-${i}`, sku: `sku-${i % 7}`, quantity: 1 + (i % 3), publishedAt: Date.now() }));
  return {
    content: body,
    fields: { deliveryTag: i + 1, redelivered: false, exchange: 'orders', routingKey: `T-${i}`, consumerTag: 'bench' },
    properties: { contentType: 'application/json', contentEncoding: undefined, headers: { 'x-trace': 'abc' }, deliveryMode: 2, priority: undefined, correlationId: undefined, replyTo: undefined, expiration: undefined, messageId: `T-${i}`, timestamp: undefined, type: undefined, userId: undefined, appId: undefined, clusterId: undefined },
  } as ConsumeMessage;
}

async function childCpuMs(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) * 10;
}

async function measure(model: WorkerModel, batches: number, perBatch: number): Promise<string> {
  const log = createLogger({ component: 'ipc-cost' }, { level: 'error' });
  const worker = new WorkerHandle({ id: 'w0', handlers: { noop: { entry: NOOP, exportName: 'handler', env: {} } }, env: { WARREN_LOG_LEVEL: 'error' }, model }, log, () => undefined);
  await worker.start();
  const events = Array.from({ length: 100 }, (_, b) => toRmqEvent('bench.0', '/', Array.from({ length: perBatch }, (_, i) => delivery(b * perBatch + i))));
  for (let i = 0; i < 200; i += 1) await worker.run('noop', 'bench.0', events[i % events.length]!); // warm-up
  const cpu0 = process.cpuUsage();
  const child0 = await childCpuMs(worker.pid);
  const t0 = performance.now();
  for (let i = 0; i < batches; i += 1) await worker.run('noop', 'bench.0', events[i % events.length]!);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000 + (await childCpuMs(worker.pid)) - child0;
  await worker.close();
  const per = (ms: number, n: number) => (ms / n).toFixed(4);
  return `${model.padEnd(7)} ${batches} batches of ${perBatch}: wall ${per(wallMs, batches)} ms/batch, CPU ${per(cpuMs, batches)} ms/batch = ${per(cpuMs, batches * perBatch)} ms/message`;
}

const USAGE = 'usage: npx tsx bench/ipcCost.ts [--batches 3000] [--messages 1]\n  the runner-to-worker hop per batch of the noop handler, by worker model (process, thread), with nothing else running';
const { values } = parseCommandLine({ options: { batches: { type: 'string', default: '3000' }, messages: { type: 'string', default: '1' } } }, USAGE);
for (const model of ['process', 'thread', 'process', 'thread'] as const) console.log(await measure(model, Number(values.batches), Number(values.messages)));
