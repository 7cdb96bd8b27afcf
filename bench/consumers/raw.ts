/**
 * Contender `raw`: the ceiling. W plain mysql2 connections, opened before the clock starts, each running the example
 * app's transaction in a tight loop over an in-memory backlog; no broker, no IPC. For the latency figures orders are
 * scheduled at the fixed rate and measured from their scheduled time to COMMIT. A failed transaction (a deadlock) is
 * rolled back and run again.
 */
import mysql from 'mysql2/promise';
import { exampleTransaction } from '../exampleTransaction.js';
import { inTransaction, orderFor, PHASE_PREFIX, type BenchOrder } from '../orders.js';
import type { ConsumerFactory } from './Consumer.js';

export const startRaw: ConsumerFactory = async (spec) => {
  const problems: string[] = [];
  const latenciesMs: number[] = [];
  const backlog: BenchOrder[] = [];
  let head = 0;
  let committed = 0;
  let retries = 0;
  let stopping = false;
  const idle: (() => void)[] = [];
  const wake = () => { for (const resume of idle.splice(0)) resume(); };
  const connections = await Promise.all(Array.from({ length: spec.workers }, () => mysql.createConnection({ uri: spec.databaseUrl })));

  const loop = async (db: mysql.Connection): Promise<void> => {
    for (;;) {
      const order = backlog[head];
      if (order === undefined) {
        if (stopping) return;
        await new Promise<void>((resume) => idle.push(resume));
        continue;
      }
      head += 1;
      for (;;) {
        try {
          await inTransaction(db, async (query) => { await exampleTransaction(query, order); });
          break;
        } catch (error) {
          retries += 1;
          if (problems.length < 20) problems.push((error as Error).message);
        }
      }
      committed += 1;
      if (order.orderId.startsWith(`${PHASE_PREFIX.latency}-`)) latenciesMs.push(Date.now() - order.publishedAt);
    }
  };

  for (let i = 0; i < spec.backlogCount; i += 1) backlog.push(orderFor('throughput', i));
  const loops = connections.map((db) => loop(db));
  return {
    processed: () => committed,
    generate(phase, count, rate) {
      const started = Date.now();
      let next = 0;
      const tick = () => {
        const now = Date.now();
        while (next < count && started + (next * 1000) / rate <= now) {
          backlog.push(orderFor(phase, next, started + (next * 1000) / rate));
          next += 1;
        }
        wake();
        if (next < count) setTimeout(tick, 1);
      };
      tick();
    },
    workerPids: () => [],
    async stop() {
      stopping = true;
      wake();
      await Promise.all(loops);
      await Promise.all(connections.map((db) => db.end().catch(() => db.destroy())));
      return { clientConnects: connections.length, retries, problems, latenciesMs };
    },
  };
};
