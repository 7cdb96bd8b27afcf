/**
 * Real faults against a handler whose effects are NOT idempotent on their own (test/fixtures/counter.ts: a counter
 * `n = n + 1` and an `applied` row without unique key per run). A double application shows as n > messages; a lost
 * message as n < messages. Where a redelivery must happen, the gate (a named lock the test holds) stops the worker at a
 * known point: the messages before the gated one are committed, the rest are not, and the fault strikes there.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { RowDataPacket } from 'mysql2/promise';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnStart, writeTestConfig, type StartedCli } from '../helpers/cli.js';
import { closeGate, counterState, COUNTER_ENTRY, createCounterTables, sendCounted, waitAtGate } from '../helpers/counter.js';
import { killWorkerRunning, startTestRunner, workersReplaced, type TestRunner } from '../helpers/runner.js';
import { createTestDatabase, deleteTopology, queueDepths, uniqueName, waitFor, type TestDatabase } from '../helpers/services.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js';

const run = promisify(execFile);
let db: TestDatabase;
let running: TestRunner | undefined;
let proxy: TcpProxy | undefined;

beforeEach(async () => {
  db = await createTestDatabase();
  await createCounterTables(db);
});
afterEach(async () => {
  await running?.cleanup();
  running = undefined;
  await proxy?.close();
  proxy = undefined;
  await db.drop();
});

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const counter = (options: { concurrency?: number; batchSize?: number; window?: number } = {}) => [{
  name: 'counter', entry: COUNTER_ENTRY, concurrency: options.concurrency ?? 1, batchSize: options.batchSize ?? 20, batchingWindowSeconds: options.window ?? 0,
}];

async function deliveryRows(): Promise<number> {
  const rows = await db.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM $db.warren_deliveries');
  return Number(rows[0]?.n);
}

/** Ten messages to one shard in one batch; the sixth waits at the gate, so five are committed when the fault strikes. */
async function tenWithGate(r: TestRunner): Promise<{ release(): Promise<void> }> {
  const gate = await closeGate(db);
  await sendCounted(r.queueOf('counter'), ids('g', 10), { gateAt: 5, key: 'one-shard' });
  await waitAtGate(db);
  expect(await counterState(db)).toEqual({ n: 5, applied: 5, distinct: 5 });
  return gate;
}

describe('Faults: the database', () => {
  it('survives worker connections KILLed server-side under load: the counter ends at exactly 1000', async () => {
    running = await startTestRunner(db, counter({ concurrency: 2 }), { workerEnv: { WARREN_TEST_DELAY_MS: '2' } });
    await sendCounted(running.queueOf('counter'), ids('k', 1_000));
    let killed = 0;
    for (const threshold of [200, 600]) {
      await waitFor(`${threshold} applied`, async () => (await counterState(db)).n >= threshold, 60_000, 5);
      for (const id of await db.threadIds()) {
        await db.query(`KILL ${id}`).then(() => { killed += 1; }, () => undefined);
      }
    }
    await waitFor('all acked', () => running!.runner.snapshot().acked >= 1_000, 60_000);
    expect(killed).toBeGreaterThanOrEqual(2);
    expect(await counterState(db)).toEqual({ n: 1_000, applied: 1_000, distinct: 1_000 });
    const snapshot = running.runner.snapshot();
    expect(snapshot.dbConnects).toBeGreaterThanOrEqual(3);
    expect(snapshot.workerRestarts).toBe(0);
    expect(snapshot.deadLettered).toBe(0);
    expect(running.lines.some((l) => /mysql connection (error|closed by the server|died inside a transaction|found dead at BEGIN)/.test(l))).toBe(true);
  });
});

describe('Faults: a commit whose answer is lost', () => {
  it('applies each message once when the server committed but the connection died before its OK reached the worker: exactly 10', async () => {
    // The proxy lets the COMMIT of message c3 reach the server and swallows the answer (a KILL or a network drop in the
    // commit window, made deterministic). The worker cannot know the outcome, so the message comes back; only the
    // inbox keeps the non-idempotent counter at 10 (with `inbox: false` it ends at 11 or more, every time).
    proxy = await startTcpProxy(3306);
    running = await startTestRunner(db, counter({ batchSize: 10, window: 1 }), { databaseUrl: `mysql://root@127.0.0.1:${proxy.port}/${db.name}` });
    const lost = proxy.loseCommitAnswerAfter("'c3'");
    await sendCounted(running.queueOf('counter'), ids('c', 10), { key: 'one-shard' });
    await lost;
    await waitFor('10 acked', () => running!.runner.snapshot().acked >= 10, 60_000);
    expect(await counterState(db)).toEqual({ n: 10, applied: 10, distinct: 10 });
    expect(running.runner.snapshot()).toMatchObject({ deadLettered: 0, workerRestarts: 0 });
    expect(running.runner.snapshot().deduplicated).toBeGreaterThanOrEqual(1); // c3 at least: committed, then seen again
  });
});

describe.each(['process', 'thread'] as const)('Faults: the worker, with %s workers', (workerModel) => {
  it('requeues the batch of a worker killed mid-batch (a process SIGKILLed, a thread terminated): the 5 committed messages are deduplicated, the other 5 commit once', async () => {
    running = await startTestRunner(db, counter({ window: 1 }), { workerModel });
    const gate = await tenWithGate(running);
    const killed = await killWorkerRunning(running.runner, 'counter');
    expect(killed.startsWith(workerModel === 'process' ? 'pid ' : 'thread ')).toBe(true);
    await gate.release();
    await waitFor('replacement worker', () => workersReplaced(running!.runner, killed), 15_000);
    await waitFor('10 acked', () => running!.runner.snapshot().acked >= 10, 30_000);
    expect(await counterState(db)).toEqual({ n: 10, applied: 10, distinct: 10 });
    expect(running.runner.snapshot()).toMatchObject({ committed: 5, deduplicated: 5, deadLettered: 0, workerRestarts: 1 });
    expect(running.runner.snapshot().requeued).toBeGreaterThanOrEqual(10);
    // a crash is not a failed delivery: nothing was counted toward maxDeliveries
    expect(await deliveryRows()).toBe(0);
    expect(running.lines.some((l) => l.includes(`worker ${workerModel} died; its batch is requeued`) && l.includes('"batchInFlight":true'))).toBe(true);
  });
});

describe('Faults: the broker', () => {
  it('reconnects after the RabbitMQ connection drops mid-batch; the batch finished meanwhile comes back and all 10 are deduplicated', async () => {
    proxy = await startTcpProxy(5672);
    running = await startTestRunner(db, counter({ window: 1 }), { amqpUrl: `amqp://guest:guest@127.0.0.1:${proxy.port}` });
    const gate = await tenWithGate(running);
    proxy.dropAll();
    await gate.release(); // the batch commits, but its ack has no channel to go to
    await waitFor('reconnected', () => running!.runner.snapshot().brokerReconnects >= 1, 30_000);
    await waitFor('the redelivered 10 deduplicated', () => running!.runner.snapshot().deduplicated >= 10, 30_000);
    expect(await counterState(db)).toEqual({ n: 10, applied: 10, distinct: 10 });
    expect(running.runner.snapshot()).toMatchObject({ deduplicated: 10, deadLettered: 0 });
    expect(running.lines.some((l) => l.includes('rabbitmq connection lost; reconnecting'))).toBe(true);
    expect(running.lines.some((l) => l.includes('rabbitmq reconnected'))).toBe(true);
  });

  it('reconnects after the broker closes the runner\'s connection (rabbitmqctl close_connection) mid-batch, deduplicating all 10', async () => {
    running = await startTestRunner(db, counter({ window: 1 }));
    const gate = await tenWithGate(running);
    // only this test process's runner connections, by their client-provided name
    const { stdout } = await run('rabbitmqctl', ['-q', 'list_connections', 'pid', 'client_properties']);
    const mine = stdout.split('\n').filter((l) => l.includes(`warren-runner pid=${process.pid} `));
    expect(mine.length).toBeGreaterThan(0);
    for (const line of mine) await run('rabbitmqctl', ['close_connection', line.split('\t')[0]!, 'warren test: broker-side close']);
    await gate.release();
    await waitFor('reconnected', () => running!.runner.snapshot().brokerReconnects >= 1, 30_000);
    await waitFor('the redelivered 10 deduplicated', () => running!.runner.snapshot().deduplicated >= 10, 30_000);
    expect(await counterState(db)).toEqual({ n: 10, applied: 10, distinct: 10 });
    expect(running.runner.snapshot()).toMatchObject({ deduplicated: 10, deadLettered: 0 });
  });

  it('keeps the counter exact when the connection drops under load (2 shards, 2000 messages)', async () => {
    proxy = await startTcpProxy(5672);
    running = await startTestRunner(db, counter({ concurrency: 2, batchSize: 25 }), { workerEnv: { WARREN_TEST_DELAY_MS: '1' }, amqpUrl: `amqp://guest:guest@127.0.0.1:${proxy.port}` });
    await sendCounted(running.queueOf('counter'), ids('d', 2_000));
    await waitFor('500 applied', async () => (await counterState(db)).n >= 500, 60_000, 5);
    proxy.dropAll();
    await waitFor('reconnected', () => running!.runner.snapshot().brokerReconnects >= 1, 30_000);
    await waitFor('2000 applied', async () => (await counterState(db)).distinct === 2_000, 60_000, 200);
    await waitFor('all acked', () => running!.runner.snapshot().acked >= 2_000, 60_000);
    expect(await counterState(db)).toEqual({ n: 2_000, applied: 2_000, distinct: 2_000 });
  });
});

describe('Faults: stopping', () => {
  let cli: StartedCli | undefined;
  afterEach(async () => { await cli?.kill(); cli = undefined; });

  it('on SIGTERM under load exits 0, requeues the batch that outlived shutdownTimeoutSeconds, and a new runner ends the counter at exactly 3010', async () => {
    const queue = uniqueName('t_sigterm');
    const handlers = [{ name: 'counter', entry: COUNTER_ENTRY, queue, concurrency: 2, batchSize: 50, batchingWindowSeconds: 1 }];
    const config = await writeTestConfig(queue, { migrations: [], handlers, runner: { shutdownTimeoutSeconds: 3, metricsPort: 0 } });
    try {
      cli = spawnStart(config.path, { DATABASE_URL: db.url, WARREN_TEST_DELAY_MS: '5' });
      await waitFor('runner started', () => cli!.output().includes('processing messages'), 30_000);
      // ten in one batch on one shard, the sixth held at the gate: 5 of that batch are committed when SIGTERM comes
      const gate = await closeGate(db);
      await sendCounted(queue, ids('g', 10), { gateAt: 5, key: 'one-shard' });
      await waitAtGate(db);
      await sendCounted(queue, ids('s', 3_000));
      await waitFor('300 applied', async () => (await counterState(db)).n >= 300, 60_000, 20);
      const threads = await db.threadIds();
      expect(threads.length).toBeGreaterThan(0);
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
      await gate.release();
      expect(cli.output()).toContain('SIGTERM received; shutting down');
      expect(cli.output()).toContain('batch still running at shutdown; requeueing it and killing its worker');
      expect(cli.output()).toMatch(/summary: acked \d+.*some batches timed out and were requeued/);
      await waitFor('the workers\' connections gone from the server', async () => {
        const now = await db.threadIds();
        return threads.every((t) => !now.includes(t));
      }, 20_000);
      const partial = await counterState(db);
      expect(partial.n).toBeLessThan(3_010);
      expect(partial).toEqual({ n: partial.applied, applied: partial.distinct, distinct: partial.n });
      // nothing lost, nothing twice: a fresh runner drains what was requeued, deduplicating the 5 committed ones
      running = await startTestRunner(db, [{ ...handlers[0]! }]);
      await waitFor('3010 applied', async () => (await counterState(db)).distinct === 3_010, 60_000, 200);
      await waitFor('all acked', async () => (await queueDepths([`${queue}.0`, `${queue}.1`])).every((d) => d === 0) && running!.runner.snapshot().inFlight === 0, 30_000);
      expect(await counterState(db)).toEqual({ n: 3_010, applied: 3_010, distinct: 3_010 });
      expect(running.runner.snapshot().deduplicated).toBeGreaterThanOrEqual(5);
    } finally {
      await config.remove();
      if (running === undefined) await deleteTopology(queue, 2);
    }
  });
});
