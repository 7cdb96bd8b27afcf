import { spawn } from 'node:child_process';
import { execFile } from 'node:child_process';
import { writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, deleteTopology, orderInvariant, uniqueName, waitFor, type TestDatabase } from '../helpers/services.js';
import { sendOrders, startTestRunner, type TestRunner } from '../helpers/runner.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js';

const run = promisify(execFile);
let db: TestDatabase;
let running: TestRunner | undefined;
let proxy: TcpProxy | undefined;

beforeEach(async () => { db = await createTestDatabase(); });
afterEach(async () => {
  await running?.cleanup();
  running = undefined;
  await proxy?.close();
  proxy = undefined;
  await db.drop();
});

const slow = (delayMs: number) => ({ WARREN_TEST_DELAY_MS: String(delayMs) });

describe('Faults: the database', () => {
  it('survives worker connections KILLed server-side while running: nothing lost, nothing applied twice', async () => {
    running = await startTestRunner(db, [{ name: 'orders', entry: 'test/fixtures/slowOrders.ts', concurrency: 2, batchSize: 20, batchingWindowSeconds: 0 }], { workerEnv: slow(2) });
    const ids = await sendOrders(running.queueOf('orders'), 1_000);
    for (const threshold of [200, 600]) {
      await waitFor(`${threshold} acked`, () => running!.runner.snapshot().acked >= threshold, 60_000, 5);
      for (const id of await db.threadIds()) await db.query(`KILL ${id}`).catch(() => undefined);
    }
    await waitFor('all acked', () => running!.runner.snapshot().acked >= ids.length, 60_000);
    expect(await orderInvariant(db)).toMatchObject({ orders: 1_000, distinct: 1_000, totalsMatch: true });
    const snapshot = running.runner.snapshot();
    expect(snapshot.dbConnects).toBeGreaterThanOrEqual(4);
    expect(snapshot.workerRestarts).toBe(0);
    expect(running.lines.some((l) => /mysql connection (error|closed by the server|died inside a transaction|found dead at BEGIN)/.test(l))).toBe(true);
  });
});

describe('Faults: the worker process', () => {
  it('requeues the batch of a worker SIGKILLed mid-batch, commits it once, and starts a replacement', async () => {
    running = await startTestRunner(db, [{ name: 'orders', entry: 'test/fixtures/slowOrders.ts', concurrency: 2, batchSize: 20, batchingWindowSeconds: 0 }], { workerEnv: slow(20) });
    const ids = await sendOrders(running.queueOf('orders'), 400);
    const victim = running.runner.workerHandles[0]!;
    await waitFor('worker 0 busy after some acks', () => running!.runner.snapshot().acked >= 40 && !victim.isReady && victim.db.served > 0, 30_000, 5);
    const oldPid = victim.pid;
    process.kill(oldPid!, 'SIGKILL');
    await waitFor('replacement worker', () => victim.restarts === 1 && victim.pid !== oldPid && victim.alive, 15_000);
    await waitFor('all acked', () => running!.runner.snapshot().acked >= ids.length, 60_000);
    expect(await orderInvariant(db)).toMatchObject({ orders: 400, distinct: 400, totalsMatch: true });
    expect(running.runner.snapshot().requeued).toBeGreaterThan(0);
    expect(running.lines.some((l) => l.includes('worker process died; its batch is requeued') && l.includes('"batchInFlight":true'))).toBe(true);
    expect(running.lines.some((l) => l.includes('replacement worker ready'))).toBe(true);
  });
});

describe('Faults: the broker', () => {
  it('reconnects after the RabbitMQ connection drops and finishes every message', async () => {
    proxy = await startTcpProxy(5672);
    running = await startTestRunner(db, [{ name: 'orders', entry: 'test/fixtures/slowOrders.ts', concurrency: 2, batchSize: 25, batchingWindowSeconds: 0 }], {
      workerEnv: slow(1),
      amqpUrl: `amqp://guest:guest@127.0.0.1:${proxy.port}`,
    });
    const ids = await sendOrders(running.queueOf('orders'), 2_000);
    await waitFor('500 acked', () => running!.runner.snapshot().acked >= 500, 60_000, 5);
    proxy.dropAll();
    await waitFor('reconnected', () => running!.runner.snapshot().brokerReconnects >= 1, 30_000);
    await waitFor('every order in MySQL', async () => (await orderInvariant(db)).orders === ids.length, 60_000, 200);
    expect(await orderInvariant(db)).toMatchObject({ orders: 2_000, distinct: 2_000, totalsMatch: true });
    expect(running.lines.some((l) => l.includes('rabbitmq connection lost; reconnecting'))).toBe(true);
    expect(running.lines.some((l) => l.includes('rabbitmq reconnected'))).toBe(true);
  });

  it('reconnects after the broker itself closes the connection (rabbitmqctl close_connection)', async () => {
    running = await startTestRunner(db, [{ name: 'orders', entry: 'test/fixtures/slowOrders.ts', concurrency: 1, batchSize: 25, batchingWindowSeconds: 0 }], { workerEnv: slow(1) });
    const ids = await sendOrders(running.queueOf('orders'), 1_000);
    await waitFor('200 acked', () => running!.runner.snapshot().acked >= 200, 60_000, 5);
    const { stdout } = await run('rabbitmqctl', ['-q', 'list_connections', 'pid', 'client_properties']);
    const mine = stdout.split('\n').filter((l) => l.includes(`warren-runner pid=${process.pid}`));
    expect(mine.length).toBeGreaterThan(0);
    for (const line of mine) await run('rabbitmqctl', ['close_connection', line.split('\t')[0]!, 'warren test: broker-side close']);
    await waitFor('reconnected', () => running!.runner.snapshot().brokerReconnects >= 1, 30_000);
    await waitFor('every order in MySQL', async () => (await orderInvariant(db)).orders === ids.length, 60_000, 200);
    expect(await orderInvariant(db)).toMatchObject({ orders: 1_000, distinct: 1_000, totalsMatch: true });
  });
});

describe('Faults: stopping', () => {
  it('on SIGTERM under load exits 0, requeues what it did not finish, and leaves no connection behind', async () => {
    const queue = uniqueName('t_sigterm');
    const configFile = join(tmpdir(), `${queue}.config.mjs`);
    const handlers = [{ name: 'orders', entry: 'test/fixtures/slowOrders.ts', queue, concurrency: 2, batchSize: 50, batchingWindowSeconds: 0 }];
    await writeFile(configFile, `export default ${JSON.stringify({ migrations: ['functions/schema.sql'], handlers, runner: { shutdownTimeoutSeconds: 20, metricsPort: 0 } })};\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/cli.ts', 'start', '--config', configFile], {
      env: { ...process.env, DATABASE_URL: db.url, WARREN_TEST_DELAY_MS: '5' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor('runner started', () => output.includes('processing messages'), 30_000);
      const ids = await sendOrders(queue, 3_000);
      await waitFor('some orders committed', async () => (await orderInvariant(db)).orders >= 300, 60_000, 20);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output).toContain('SIGTERM received; shutting down');
      expect(output).toMatch(/summary: acked \d+/);
      expect(await db.threadIds()).toEqual([]);
      const partial = await orderInvariant(db);
      expect(partial.orders).toBeLessThan(3_000);
      expect(partial.totalsMatch).toBe(true);
      // nothing lost: a fresh runner drains what was requeued
      running = await startTestRunner(db, [{ ...handlers[0]!, entry: 'functions/orders.ts' }]);
      await waitFor('every order in MySQL', async () => (await orderInvariant(db)).orders === ids.length, 60_000, 200);
      expect(await orderInvariant(db)).toMatchObject({ orders: 3_000, distinct: 3_000, totalsMatch: true });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(configFile, { force: true });
      if (running === undefined) await deleteTopology(queue, 2);
    }
  });
});
