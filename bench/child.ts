/**
 * The process that hosts one contender, so its memory, its connections and its CPU are its own. Started by
 * `runContender.ts` with the spec in WARREN_BENCH_SPEC; talks to the bench over the fork IPC channel.
 */
import { cpuMs, peakRssMb, type Consumer, type ConsumerFactory } from './consumers/Consumer.js';
import { startAmqpCeiling } from './consumers/amqpCeiling.js';
import { startNaive } from './consumers/naive.js';
import { startRaw } from './consumers/raw.js';
import { startRunner } from './consumers/runner.js';
import { startSingle } from './consumers/single.js';
import type { ChildSpec, ConsumerKind, FromChild, ToChild } from './protocol.js';

const FACTORIES: Readonly<Record<ConsumerKind, ConsumerFactory>> = { runner: startRunner, naive: startNaive, single: startSingle, raw: startRaw, amqp: startAmqpCeiling };
const POLL_MS = 5;
const PROGRESS_MS = 500;

function send(message: FromChild): void {
  process.send?.(message);
}

/** Resolves with the time at which `consumer` has processed `total` (polled every few ms). */
function whenProcessed(consumer: Consumer, total: number): Promise<number> {
  return new Promise((resolve) => {
    const check = () => {
      if (consumer.processed() >= total) resolve(performance.now());
      else setTimeout(check, POLL_MS);
    };
    check();
  });
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.WARREN_BENCH_SPEC ?? '{}') as ChildSpec;
  const consumer = await FACTORIES[spec.kind](spec);
  const startedAt = performance.now();
  const atStart = consumer.processed();
  const startPids = consumer.workerPids();
  const cpuAtStart = { self: await cpuMs('self'), workers: await Promise.all(startPids.map((pid) => cpuMs(pid))) };
  send({ type: 'started', processed: atStart });
  const progress = setInterval(() => send({ type: 'progress', processed: consumer.processed() }), PROGRESS_MS);

  process.on('message', (message: ToChild) => {
    if (message.type === 'generate') consumer.generate?.(message.phase, message.count, message.rate);
    if (message.type === 'expect') void whenProcessed(consumer, message.total).then(() => send({ type: 'reached', processed: consumer.processed() }));
    if (message.type === 'stop') {
      clearInterval(progress);
      void (async () => {
        const pids = consumer.workerPids();
        const workerPeakRssMb = await Promise.all(pids.map((pid) => peakRssMb(pid)));
        // A worker replaced since the start counts from zero.
        const workerCpuMs = await Promise.all(pids.map(async (pid) => (await cpuMs(pid)) - (startPids.includes(pid) ? (cpuAtStart.workers[startPids.indexOf(pid)] ?? 0) : 0)));
        const rest = await consumer.stop();
        const self = { peakRssMb: await peakRssMb('self'), cpuMs: (await cpuMs('self')) - cpuAtStart.self };
        send({ type: 'stopped', report: { ...rest, ...self, processed: consumer.processed(), workerPeakRssMb, workerCpuMs } });
        process.disconnect?.();
      })().catch(fail);
    }
  });

  const endedAt = await whenProcessed(consumer, spec.timedCount);
  send({ type: 'throughput', messages: spec.timedCount - atStart, ms: endedAt - startedAt });
}

function fail(error: unknown): void {
  send({ type: 'failed', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  setTimeout(() => process.exit(1), 100);
}

process.on('disconnect', () => process.exit(0));
main().catch(fail);
