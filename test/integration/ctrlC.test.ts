/**
 * Ctrl-C on `npm start`, as it happens in a terminal: one SIGINT reaches the whole foreground process group (npm, sh,
 * node) and npm relays its copy to the runner too. One Ctrl-C must drain every time, idle or busy: the summary is
 * printed, nothing is taken for a second Ctrl-C, no process is left (npm's, the runner's or a worker's) and no MySQL
 * connection of the runner is left on the server. A person's second Ctrl-C, later, still exits at once. The drain runs
 * under both worker models (`runner.workerModel`): threads (the default) end with the runner's process; worker
 * processes run in a session of their own, get no terminal signal, and must still be gone once npm has exited.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RUNNER_DEFAULTS } from '../../config/config.js';
import { sendOrders } from '../helpers/runner.js';
import { writeConfig } from '../helpers/runnerProcess.js';
import { createTestDatabase, deleteTopology, queueDepths, uniqueName, waitFor, type TestDatabase } from '../helpers/services.js';
import { identify, npmStart, stillRunning, type NpmStart, type TerminalMode } from '../helpers/terminal.js';

const SHARDS = 2;
let db: TestDatabase;
let queue: string;
let events: string;
type WorkerModel = 'process' | 'thread';
const configs = new Map<WorkerModel, { file: string; remove(): Promise<void> }>();
const started: NpmStart[] = [];

beforeEach(async () => {
  db = await createTestDatabase();
  queue = uniqueName('t_ctrlc');
  events = `${queue}.events`;
  for (const workerModel of ['process', 'thread'] as const) {
    configs.set(workerModel, await writeConfig(`${queue}_${workerModel}`, {
      migrations: ['examples/orders/functions/schema.sql'],
      handlers: [{ name: 'orders', entry: 'test/fixtures/orders.ts', queue, concurrency: SHARDS, batchSize: 20, publishes: [{ exchange: events, type: 'topic' }] }],
      // the default model is left unset, as in a config a person writes; the process count below tells which ran
      runner: { metricsPort: 0, shutdownTimeoutSeconds: 20, ...(workerModel === RUNNER_DEFAULTS.workerModel ? {} : { workerModel }) },
    }));
  }
});
afterEach(async () => {
  for (const s of started.splice(0)) s.kill();
  for (const c of configs.values()) await c.remove();
  configs.clear();
  await deleteTopology(queue, SHARDS, undefined, [events]);
  await db.drop();
});

const orderCount = async () => Number((await db.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM $db.orders'))[0]!.n);

/** Starts `npm start`, waits until it consumes; `load` orders are sent and the Ctrl-C comes idle (all done) or busy. */
async function runAndCtrlC(mode: TerminalMode, load: 'idle' | 'busy', workerModel: WorkerModel): Promise<{ output: string; leftPids: string[]; connections: number }> {
  const run = npmStart(mode, configs.get(workerModel)!.file, { DATABASE_URL: db.url, WARREN_TEST_DELAY_MS: '0' });
  started.push(run);
  await waitFor('npm start consuming', () => run.output().includes('processing messages'), 90_000);
  const before = await orderCount();
  const count = load === 'idle' ? 200 : 3_000;
  await sendOrders(queue, count);
  if (load === 'idle') await waitFor(`${count} orders committed`, async () => (await orderCount()) === before + count, 60_000);
  else await waitFor('the first orders committed', async () => (await orderCount()) > before, 60_000);
  const processes = identify(run.descendants());
  // What the "nothing left" check below watches: the runner's node process, and each worker process of the pool
  // (`runner.workers`, the default 4) when workers are processes; worker threads are no processes of their own.
  const running = (part: string) => processes.filter((p) => p.command.includes(part)).length;
  expect({ runner: running('local/cli.ts start'), workers: running('local/pool/worker.') })
    .toEqual({ runner: 1, workers: workerModel === 'process' ? RUNNER_DEFAULTS.workers : 0 });
  run.ctrlC();
  await run.exited;
  // Graceful: every process below npm is gone once npm has exited (a worker left running would be reparented and live
  // on). A helper that ends on its parent's exit (tsx's esbuild service reads EOF on stdin) may take a moment longer:
  // it gets 5 s. Processes are matched by pid and start time, and a zombie (exited, not yet reaped) is not running.
  const left = () => stillRunning(processes);
  await waitFor('every process below npm to exit', () => left().length === 0, 5_000).catch(() => undefined);
  const leftPids = left().map(({ pid, command }) => `${pid} ${command.slice(0, 160)}`);
  const connections = (await db.threadIds()).length;
  return { output: run.output(), leftPids, connections };
}

describe.each(['thread', 'process'] as const)('Ctrl-C on npm start, with %s workers', (workerModel) => {
  for (const load of ['idle', 'busy'] as const) {
    it(`drains on one Ctrl-C to the process group, three times in a row, ${load}: summary printed, no second signal, no process or connection left`, async () => {
      for (let round = 1; round <= 3; round += 1) {
        const { output, leftPids, connections } = await runAndCtrlC('group', load, workerModel);
        expect({ round, summary: /summary: acked \d+/.test(output), secondSignal: output.includes('second signal'), leftPids, connections })
          .toEqual({ round, summary: true, secondSignal: false, leftPids: [], connections: 0 });
      }
      if (load === 'busy') {
        // Nothing lost by the drain: what was not committed is back in the shard queues.
        const depths = await queueDepths(Array.from({ length: SHARDS }, (_, i) => `${queue}.${i}`));
        expect((await orderCount()) + depths.reduce((a, b) => a + b, 0)).toBe(9_000);
      }
    }, 400_000);
  }

  it('drains on Ctrl-C typed into a pseudo-terminal, busy', async () => {
    const { output, leftPids, connections } = await runAndCtrlC('pty', 'busy', workerModel);
    expect({ summary: /summary: acked \d+/.test(output), secondSignal: output.includes('second signal'), leftPids, connections })
      .toEqual({ summary: true, secondSignal: false, leftPids: [], connections: 0 });
  }, 150_000);
});

describe('Ctrl-C on npm start, twice', () => {

  it('exits at once on a second Ctrl-C pressed later, while a slow batch is still draining', async () => {
    // 500 ms per message, 20 per batch: a batch runs for 10 s, so the drain is still waiting when the second comes.
    const slow = await writeConfig(`${queue}_slow`, {
      handlers: [{ name: 'slow', entry: 'test/fixtures/slowOrders.ts', export: 'handler', queue, concurrency: SHARDS, batchSize: 20 }],
      runner: { metricsPort: 0, shutdownTimeoutSeconds: 30 },
    });
    try {
      const run = npmStart('group', slow.file, { DATABASE_URL: db.url, WARREN_TEST_DELAY_MS: '500' });
      started.push(run);
      await waitFor('npm start consuming', () => run.output().includes('processing messages'), 90_000);
      await sendOrders(queue, 200);
      await waitFor('the first order committed', async () => (await orderCount()) > 0, 60_000);
      run.ctrlC();
      await waitFor('shutting down', () => run.output().includes('SIGINT received; shutting down'), 10_000);
      await new Promise((r) => setTimeout(r, 1_500)); // the stimulus: a person's second keypress, 1.5 s later
      run.ctrlC();
      await run.exited;
      expect({ second: run.output().includes('second signal: exiting now'), summary: run.output().includes('summary:') }).toEqual({ second: true, summary: false });
    } finally {
      await slow.remove();
    }
  }, 150_000);
});
