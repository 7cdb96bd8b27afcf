import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import amqp from 'amqplib';
import type mysql from 'mysql2/promise';
import { AMQP_URL, createTestDatabase, uniqueName, waitFor, watchConnections, type TestDatabase } from '../helpers/services.js';
import { resolveConfig, type ResolvedConfig } from '../../config/config.js';
import { declareTopology } from '../../topology/topology.js';
import { createLogger } from '../../runtime/logger.js';
import { Runner } from '../../local/Runner.js';
import { killWorker } from '../helpers/runner.js';
import { COUNTER_SCHEMA } from '../fixtures/handlerCounter.js';

const HANDLERS = 120;
const PER_HANDLER = 10;

let db: TestDatabase;
let runner: Runner | undefined;
let config: ResolvedConfig | undefined;

beforeEach(async () => {
  db = await createTestDatabase();
  for (const sql of COUNTER_SCHEMA) await db.query(sql.replace(/EXISTS (\w+)/, 'EXISTS $db.$1'));
});
afterEach(async () => {
  await runner?.stop().catch(() => undefined);
  runner = undefined;
  const connection = await amqp.connect(AMQP_URL);
  const channel = await connection.createChannel();
  for (const h of config?.handlers ?? []) {
    for (const q of [`${h.queue}.0`, `${h.queue}.dlq`]) await channel.deleteQueue(q).catch(() => undefined);
    await channel.deleteExchange(h.queue).catch(() => undefined);
  }
  await connection.close();
  config = undefined;
  await db.drop();
});

/** The counters (any handler whose count is not `perHandler` is listed in `wrong`) and the log's rows and distinct ids. */
async function countersAndLog(perHandler = 10): Promise<Record<string, unknown>> {
  const counters = await db.query<mysql.RowDataPacket[]>('SELECT handler, n FROM $db.counters');
  const [log] = await db.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n, COUNT(DISTINCT message_id) AS ids FROM $db.counter_log');
  return {
    handlers: counters.length,
    wrong: counters.filter((r) => Number(r.n) !== perHandler).map((r) => `${String(r.handler)}=${String(r.n)}`),
    rows: Number(log?.n),
    ids: Number(log?.ids),
    ...(perHandler === 10 ? {} : { perHandler }),
  };
}

/** Publishes `count` messages with unique ids to every handler's exchange, on one connection. */
async function publishToAll(handlers: ResolvedConfig['handlers'], count: number, prefix: string): Promise<void> {
  const connection = await amqp.connect(AMQP_URL);
  try {
    for (const h of handlers) await declareTopology(connection, h);
    const channel = await connection.createConfirmChannel();
    for (const h of handlers) {
      for (let i = 0; i < count; i += 1) channel.publish(h.queue, `${prefix}-${h.name}-${i}`, Buffer.from('{}'), { messageId: `${prefix}-${h.name}-${i}`, persistent: true });
    }
    await channel.waitForConfirms();
  } finally {
    await connection.close();
  }
}

describe('Scale: many handlers on the default pool', () => {
  it(`applies every message of ${HANDLERS} handlers exactly once with as many DB connections as pool workers`, async () => {
    // Prepare: 120 handlers on one non-idempotent module, default runner settings; half the messages queued before start
    const tag = uniqueName('mh');
    config = resolveConfig({
      handlers: Array.from({ length: HANDLERS }, (_, i) => ({ name: `h${i}`, entry: 'test/fixtures/handlerCounter.ts', queue: `${tag}_${i}`, batchingWindowSeconds: 0 })),
      runner: { metricsPort: 0, shutdownTimeoutSeconds: 10 },
    });
    await publishToAll(config.handlers, PER_HANDLER / 2, 'before');
    const lines: string[] = [];
    runner = new Runner(config, { amqpUrl: AMQP_URL, databaseUrl: db.url, logger: createLogger({ component: 'runner' }, { sink: (l) => lines.push(l) }), onWorkerOutput: (l) => lines.push(l) });

    // Act
    await runner.start();
    const watch = watchConnections(db);
    await publishToAll(config.handlers, PER_HANDLER / 2, 'after');
    await waitFor('every message acked', () => runner!.snapshot().acked === HANDLERS * PER_HANDLER, 120_000, 100);
    const seen = await watch.stop();

    // Assess: one counter per handler, each exactly the number of messages sent to it; one log row per message
    expect(await countersAndLog()).toEqual({ handlers: 120, wrong: [], rows: 1_200, ids: 1_200 });
    // The default pool: 4 workers, one connection each to this database (no handler publishes, so no relay)
    expect(runner.snapshot()).toMatchObject({ workers: 4, workersAlive: 4, dbConnections: 4, dbConnects: 4, failedBatches: 0, deduplicated: 0 });
    expect(seen.size).toBe(4);
    expect((await db.threadIds()).length).toBe(4);
    expect(lines.filter((l) => /"level":"(warn|error)"/.test(l))).toEqual([]);

    // Act again: another 5 messages each while a worker is killed mid-batch
    const sending = publishToAll(config.handlers, 5, 'again');
    const victim = await waitFor('a busy worker', () => runner!.workerHandles.find((w) => w.current !== undefined), 60_000, 1);
    killWorker(victim);
    await sending;
    await waitFor('every message acked', () => runner!.snapshot().acked === 1_800, 120_000, 100);

    // Assess: the redelivered batch did not count twice, and the pool still holds at most one connection per worker
    expect(await countersAndLog(15)).toEqual({ handlers: 120, wrong: [], rows: 1_800, ids: 1_800, perHandler: 15 });
    expect(runner.snapshot()).toMatchObject({ workerRestarts: 1, failedBatches: 1 });
    expect((await db.threadIds()).length).toBeLessThanOrEqual(4);
  });
});
