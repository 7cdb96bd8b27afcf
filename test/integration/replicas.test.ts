/**
 * Two runner replicas (separate OS processes, same config) share the broker and the database. Shard queues have a
 * single active consumer: one runner holds each shard, the other stands by and takes over when the holder dies or
 * stops. The handler's effects are not idempotent (a counter and a log without unique key): only the inbox keeps them
 * exactly-once across the takeover.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { publishRaw } from '../helpers/amqp.js';
import { createAppliedLog, readAppliedLog } from '../helpers/appliedLog.js';
import { getJson } from '../helpers/operations.js';
import { listConsumers, processAlive, startRunnerProcess, writeConfig, type RunnerProcess } from '../helpers/runnerProcess.js';
import { createTestDatabase, deleteTopology, uniqueName, waitFor, type TestDatabase } from '../helpers/services.js';

const SHARDS = 3;
const MESSAGES = 2_000;
let db: TestDatabase;
let queue: string;
let removeConfig: (() => Promise<void>) | undefined;
const runners: RunnerProcess[] = [];

beforeEach(async () => {
  db = await createTestDatabase({ schema: false });
  await createAppliedLog(db);
  queue = uniqueName('t_replica');
});
afterEach(async () => {
  for (const r of runners.splice(0)) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  await removeConfig?.();
  await deleteTopology(queue, SHARDS);
  await db.drop();
});

/** Starts runner A, then runner B (so A holds every shard), with the same generated config (`workerModel`: the default unless given). */
async function startReplicas(workerModel?: 'process' | 'thread'): Promise<[RunnerProcess, RunnerProcess]> {
  const config = await writeConfig(queue, {
    handlers: [{ name: 'logged', entry: 'test/fixtures/appliedLog.ts', export: 'logged', queue, concurrency: SHARDS, batchSize: 20, batchingWindowSeconds: 0 }],
    runner: { metricsPort: 0, shutdownTimeoutSeconds: 10, ...(workerModel === undefined ? {} : { workerModel }) },
  });
  removeConfig = config.remove;
  const env = { DATABASE_URL: db.url, WARREN_TEST_DELAY_MS: '3' };
  const a = await startRunnerProcess(config.file, env);
  runners.push(a);
  const b = await startRunnerProcess(config.file, env);
  runners.push(b);
  return [a, b];
}

/** Every shard queue has exactly one active consumer, and it belongs to `holder` (its tag names the runner's pid). */
async function holdsEveryShard(holder: RunnerProcess, others: readonly RunnerProcess[]): Promise<boolean> {
  const rows = await listConsumers(`${queue}.`);
  for (let i = 0; i < SHARDS; i += 1) {
    const active = rows.filter((r) => r.queue === `${queue}.${i}` && r.active);
    if (active.length !== 1 || !active[0]!.tag.includes(`:${holder.pid}:`)) return false;
    if (others.some((o) => active[0]!.tag.includes(`:${o.pid}:`))) return false;
  }
  return true;
}

const KEYS = 97;
const keyOf = (id: string) => Number(id.slice(1)) % KEYS;

async function publishLoad(): Promise<string[]> {
  const ids = Array.from({ length: MESSAGES }, (_, i) => `r${i}`);
  await publishRaw(queue, ids.map((id) => ({ body: JSON.stringify({ id }), messageId: id, key: `customer-${keyOf(id)}` })));
  return ids;
}

/** Keys whose messages were not committed in publish order. */
function keysOutOfOrder(committed: readonly string[]): number[] {
  const last = new Map<number, number>();
  const bad = new Set<number>();
  for (const id of committed) {
    const key = keyOf(id);
    const n = Number(id.slice(1));
    if ((last.get(key) ?? -1) > n) bad.add(key);
    last.set(key, n);
  }
  return [...bad];
}

/** Milliseconds from `since` until `runner` has received a message (its status page, polled every 25 ms). */
async function firstDeliveryAfter(runner: RunnerProcess, since: number): Promise<number> {
  await waitFor('the survivor receives messages', async () => (await getJson<{ totals: { received: number } }>(runner.metricsPort(), '/status.json')).body.totals.received > 0, 30_000, 25);
  return Date.now() - since;
}

describe('Replicas: two runners on one broker and database', () => {
  // The applied log records each worker's process.pid: a worker thread's is its runner's, a worker process's its own.
  // With worker processes, those of the SIGKILLed runner must also exit (their IPC channel is gone); with threads they
  // end with it.
  it.each(['thread', 'process'] as const)('moves every shard to the survivor within seconds when the active runner is SIGKILLed, and applies each message exactly once, with %s workers', async (workerModel) => {
    const [a, b] = await startReplicas(workerModel);
    await waitFor('A holds every shard, B stands by', async () => {
      const rows = await listConsumers(`${queue}.`);
      return rows.length === 2 * SHARDS && (await holdsEveryShard(a, [b]));
    }, 20_000, 250);
    // The standby is healthy: ready, connected, nothing received.
    const standby = await getJson<{ ready: boolean }>(b.metricsPort(), '/readyz');
    expect(standby.body.ready).toBe(true);
    expect((await getJson<{ totals: { received: number; brokerConnected: boolean } }>(b.metricsPort(), '/status.json')).body.totals).toMatchObject({ received: 0, brokerConnected: true });

    const ids = await publishLoad();
    await waitFor('A committed some', async () => (await readAppliedLog(db)).counter >= 300, 60_000, 50);
    const workersOfA = (await readAppliedLog(db)).pids;
    if (workerModel === 'process') expect(workersOfA).not.toContain(a.pid); // A's worker processes
    else expect(workersOfA).toEqual([a.pid]); // A's worker threads
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    const resumeMs = await firstDeliveryAfter(b, killedAt);
    await a.exited;
    await waitFor('B holds every shard', () => holdsEveryShard(b, [a]), 30_000, 100);
    const takeoverMs = Date.now() - killedAt;
    await waitFor('the killed runner\'s workers exited', () => workersOfA.every((pid) => !processAlive(pid)), 15_000, 100);

    await waitFor(`${MESSAGES} messages applied`, async () => (await readAppliedLog(db)).counter >= MESSAGES, 120_000, 250);
    // let B settle: nothing in flight, queues empty
    await waitFor('B idle', async () => (await getJson<{ totals: { inFlight: number; buffered: number } }>(b.metricsPort(), '/status.json')).body.totals.inFlight === 0, 10_000, 100);
    const log = await readAppliedLog(db);
    expect(log.counter).toBe(MESSAGES);
    expect(log.doubles).toBe(0);
    expect([...log.ids].sort()).toEqual([...ids].sort());
    expect(keysOutOfOrder(log.ids)).toEqual([]);
    const totals = (await getJson<{ totals: { committed: number; deduplicated: number; received: number } }>(b.metricsPort(), '/status.json')).body.totals;
    const byB = log.pids.filter((p) => !workersOfA.includes(p));
    expect(byB.length).toBeGreaterThan(0);
    // B committed what A had not; what A committed but had not acked came back to B and was skipped, not re-applied.
    expect(totals.committed + (await appliedBy(workersOfA))).toBe(MESSAGES);
    process.stdout.write(`[replicas] SIGKILL: survivor received its first message ${resumeMs} ms after the kill; held all ${SHARDS} shards ` +
      `by ${takeoverMs} ms (rabbitmqctl list_consumers, about 1 s per call); ` +
      `B committed ${totals.committed}, deduplicated ${totals.deduplicated}, received ${totals.received}\n`);
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  });

  it('moves every shard to the other runner when the active one stops gracefully (SIGTERM): nothing lost, nothing twice', async () => {
    const [a, b] = await startReplicas();
    await waitFor('A holds every shard', () => holdsEveryShard(a, [b]), 20_000, 250);
    const ids = await publishLoad();
    await waitFor('A committed some', async () => (await readAppliedLog(db)).counter >= 300, 60_000, 50);
    a.child.kill('SIGTERM');
    const stoppedAt = Date.now();
    const resumeMs = await firstDeliveryAfter(b, stoppedAt);
    await waitFor('B holds every shard', () => holdsEveryShard(b, [a]), 30_000, 100);
    const takeoverMs = Date.now() - stoppedAt;
    expect(await a.exited).toBe(0);
    expect(a.output()).toContain('SIGTERM received; shutting down');
    await waitFor(`${MESSAGES} messages applied`, async () => (await readAppliedLog(db)).counter >= MESSAGES, 120_000, 250);
    await waitFor('B idle', async () => (await getJson<{ totals: { inFlight: number } }>(b.metricsPort(), '/status.json')).body.totals.inFlight === 0, 10_000, 100);
    const log = await readAppliedLog(db);
    expect(log.counter).toBe(MESSAGES);
    expect(log.doubles).toBe(0);
    expect([...log.ids].sort()).toEqual([...ids].sort());
    expect(keysOutOfOrder(log.ids)).toEqual([]);
    process.stdout.write(`[replicas] SIGTERM: survivor received its first message ${resumeMs} ms after the signal; held all ${SHARDS} shards by ${takeoverMs} ms\n`);
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  });
});

async function appliedBy(pids: readonly number[]): Promise<number> {
  if (pids.length === 0) return 0;
  const rows = await db.query<{ n: number }[]>(`SELECT COUNT(*) AS n FROM $db.applied WHERE pid IN (${pids.map(() => '?').join(', ')})`, [...pids]);
  return Number(rows[0]?.n);
}
