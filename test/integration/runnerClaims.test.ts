/**
 * What docs/local-runner.md promises about the local runner: a failed batch comes back after a backoff, whole and in order, and
 * its committed messages are deduplicated; prefetch is 2 x batchSize; a port in use stops the start with a clear
 * error; a second signal exits at once and loses nothing. Counter fixture: a double application shows.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import type { RowDataPacket } from 'mysql2/promise';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnStart, writeTestConfig, type StartedCli } from '../helpers/cli.js';
import { appliedOrder, closeGate, counterState, COUNTER_ENTRY, createCounterTables, sendCounted, waitAtGate } from '../helpers/counter.js';
import { startTestRunner, type TestRunner } from '../helpers/runner.js';
import { createTestDatabase, deleteTopology, uniqueName, waitFor, type TestDatabase } from '../helpers/services.js';

const run = promisify(execFile);
let db: TestDatabase;
let running: TestRunner | undefined;

beforeEach(async () => {
  db = await createTestDatabase();
  await createCounterTables(db);
});
afterEach(async () => {
  await running?.cleanup();
  running = undefined;
  await db.drop();
});

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const counter = (batchSize = 20) => [{ name: 'counter', entry: COUNTER_ENTRY, concurrency: 1, batchSize, batchingWindowSeconds: 1 }];

describe('Runner: a failed batch', () => {
  it('comes back whole; the 5 messages committed before the failure are deduplicated, the other 5 commit once', async () => {
    running = await startTestRunner(db, counter());
    await sendCounted(running.queueOf('counter'), ids('f', 10), { failFirstAt: 5, key: 'one-shard' });
    await waitFor('10 acked', () => running!.runner.snapshot().acked >= 10, 30_000);
    expect(await counterState(db)).toEqual({ n: 10, applied: 10, distinct: 10 });
    expect(running.runner.snapshot()).toMatchObject({ received: 20, acked: 10, committed: 5, deduplicated: 5, deadLettered: 0, failedBatches: 1, requeued: 10 });
  });

  it('is held for a backoff, then requeued in its original order', async () => {
    running = await startTestRunner(db, counter());
    await sendCounted(running.queueOf('counter'), ids('o', 10), { failFirstAt: 0, key: 'one-shard' });
    await waitFor('10 acked', () => running!.runner.snapshot().acked >= 10, 30_000);
    expect(await appliedOrder(db)).toEqual(ids('o', 10));
    const failed = running.lines.map((l) => JSON.parse(l.replace(/^[^{]*/, '')) as Record<string, unknown>).find((l) => l.msg === 'batch failed; it will be redelivered whole');
    expect(failed).toMatchObject({ messages: 10 });
    const retryInMs = Number(failed?.retryInMs);
    expect(retryInMs).toBeGreaterThan(0);
    // the redelivered batch did not start before the backoff was over (a lower bound: a loaded machine only adds time)
    const [first] = await db.query<RowDataPacket[]>('SELECT at FROM $db.applied ORDER BY seq LIMIT 1');
    expect((first?.at as Date).getTime() - Date.parse(String(failed?.time))).toBeGreaterThanOrEqual(retryInMs - 5);
  });
});

describe('Runner: consuming', () => {
  it('sets the prefetch of every shard consumer to 2 x batchSize', async () => {
    running = await startTestRunner(db, [{ name: 'counter', entry: COUNTER_ENTRY, concurrency: 3, batchSize: 7 }]);
    const queue = running.queueOf('counter');
    const { stdout } = await run('rabbitmqctl', ['-q', 'list_consumers', 'queue_name', 'prefetch_count']);
    const mine = stdout.split('\n').map((l) => l.split('\t')).filter(([q]) => q?.startsWith(`${queue}.`)).map(([q, p]) => [q, Number(p)]).sort();
    expect(mine).toEqual([[`${queue}.0`, 14], [`${queue}.1`, 14], [`${queue}.2`, 14]]);
  });

  it('stops at start with a clear error when the metrics port is in use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(startTestRunner(db, counter(), { metricsPort: port })).rejects.toThrow(
        `port ${port} on 127.0.0.1 is already in use; set runner.metricsPort in warren.config.ts to another port (0 picks a free one)`,
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

describe('Runner CLI: a second signal', () => {
  let cli: StartedCli | undefined;
  afterEach(async () => { await cli?.kill(); cli = undefined; });

  it('exits at once while a batch is still running, and the broker gives the batch back: the counter ends at exactly 10', async () => {
    const queue = uniqueName('t_twice');
    const handlers = [{ name: 'counter', entry: COUNTER_ENTRY, queue, concurrency: 1, batchSize: 20, batchingWindowSeconds: 1 }];
    const config = await writeTestConfig(queue, { migrations: [], handlers, runner: { shutdownTimeoutSeconds: 120, metricsPort: 0 } });
    try {
      cli = spawnStart(config.path, { DATABASE_URL: db.url });
      await waitFor('runner started', () => cli!.output().includes('processing messages'), 30_000);
      const gate = await closeGate(db);
      await sendCounted(queue, ids('t', 10), { gateAt: 5, key: 'one-shard' });
      await waitAtGate(db);
      cli.child.kill('SIGTERM');
      await waitFor('the first signal handled', () => cli!.output().includes('SIGTERM received; shutting down'), 10_000);
      // The stimulus is time itself: signals within 1 s of the first are copies of it (npm's relay, the group's delivery).
      await new Promise((r) => setTimeout(r, 1_200));
      cli.child.kill('SIGTERM');
      // it does not wait the 120 s shutdownTimeoutSeconds for the gated batch
      expect(await Promise.race([cli.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 30_000))])).toBe(1);
      expect(cli.output()).toContain('second signal: exiting now; unacked messages go back to their queues');
      await gate.release();
      running = await startTestRunner(db, [{ ...handlers[0]! }]);
      await waitFor('10 applied', async () => (await counterState(db)).distinct === 10, 30_000);
      await waitFor('10 acked', () => running!.runner.snapshot().acked >= 10, 30_000);
      expect(await counterState(db)).toEqual({ n: 10, applied: 10, distinct: 10 });
      expect(running.runner.snapshot()).toMatchObject({ committed: 5, deduplicated: 5 });
    } finally {
      await config.remove();
      if (running === undefined) await deleteTopology(queue, 1);
    }
  });
});
