/**
 * The runner's semantics on quorum shard queues (x-delivery-limit, broker dead-lettering, single active consumer):
 * failed batches come back in order, and what keeps failing where Warren cannot count it ends in <queue>.dlq.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listDeadLetters, replayDeadLetters } from '../../local/commands/deadLetters.js';
import { publishRaw } from '../helpers/amqp.js';
import { createAppliedLog, readAppliedLog } from '../helpers/appliedLog.js';
import { startTestRunner, type TestRunner } from '../helpers/runner.js';
import { AMQP_URL, createTestDatabase, queueDepths, waitFor, type TestDatabase } from '../helpers/services.js';

let db: TestDatabase;
let running: TestRunner | undefined;

beforeEach(async () => {
  db = await createTestDatabase({ schema: false });
  await createAppliedLog(db);
});
afterEach(async () => {
  await running?.cleanup();
  running = undefined;
  await db.drop();
});

const ids = (n: number, prefix = 'm') => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(2, '0')}`);

describe('Runner on quorum shard queues', () => {
  it('commits a shard\'s messages in publish order across failed and requeued batches, each exactly once', async () => {
    running = await startTestRunner(db, [{ name: 'logged', entry: 'test/fixtures/appliedLog.ts', export: 'logged', batchSize: 10, batchingWindowSeconds: 0 }], {
      workerEnv: { WARREN_TEST_FAIL_IDS: 'm05,m17,m18,m33' },
    });
    const queue = running.queueOf('logged');
    const sent = ids(40);
    // one key: one shard, one order
    await publishRaw(queue, sent.map((id) => ({ body: JSON.stringify({ id }), messageId: id, key: 'customer-1' })));
    await waitFor('40 messages committed', async () => (await readAppliedLog(db)).counter === 40, 60_000, 100);
    const log = await readAppliedLog(db);
    expect(log.ids).toEqual(sent);
    expect(log.doubles).toBe(0);
    const s = running.runner.snapshot();
    expect(s.failedBatches).toBeGreaterThanOrEqual(3);
    expect(s.deduplicated).toBeGreaterThan(0); // what a failed batch committed before its failure came back and was skipped
    expect(await queueDepths([`${queue}.0`, `${queue}.dlq`])).toEqual([0, 0]);
  });

  it('lets the broker dead-letter a message whose worker crashes on it every time, past deliveryLimit, and loses nothing', async () => {
    running = await startTestRunner(db, [{ name: 'crashy', entry: 'test/fixtures/appliedLog.ts', export: 'crashy', batchSize: 1, batchingWindowSeconds: 0, deliveryLimit: 2 }]);
    const queue = running.queueOf('crashy');
    const good = [...ids(5, 'a'), ...ids(5, 'b')];
    await publishRaw(queue, [
      ...good.slice(0, 5).map((id) => ({ body: JSON.stringify({ id }), messageId: id, key: 'k' })),
      { body: JSON.stringify({ id: 'poison', crash: true }), messageId: 'poison', key: 'k' },
      ...good.slice(5).map((id) => ({ body: JSON.stringify({ id }), messageId: id, key: 'k' })),
    ]);
    // The poison message crashes its worker 3 times (deliveries 0, 1, 2); its third return is one more than the limit.
    const letters = await waitFor('the poison message in the dead-letter queue', async () => {
      const list = await listDeadLetters(AMQP_URL, `${queue}.dlq`);
      return list.some((e) => e.messageId === 'poison') && (await queueDepths([`${queue}.0`]))[0] === 0 && running!.runner.snapshot().inFlight === 0 ? list : undefined;
    }, 90_000, 250);
    const poison = letters.find((e) => e.messageId === 'poison');
    expect(poison).toMatchObject({ kind: 'broker', errorClass: 'BrokerDeadLetter', sourceQueue: `${queue}.0`, replayTo: { exchange: queue, routingKey: 'k' } });
    expect(poison?.reason).toMatch(/^delivery_limit: /);
    expect(running.runner.snapshot().workerRestarts).toBeGreaterThanOrEqual(3);
    expect(running.lines.some((l) => l.includes('batch failed; it will be redelivered whole'))).toBe(true);
    // Each return also counted for the one message buffered behind the poison (prefetch 2 x batchSize): it may have
    // been dead-lettered with it. Replaying everything but the poison applies what is missing, once.
    await replayDeadLetters(AMQP_URL, `${queue}.dlq`, (e) => e.messageId !== 'poison');
    await waitFor('every good message applied', async () => (await readAppliedLog(db)).counter === good.length, 60_000, 100);
    const log = await readAppliedLog(db);
    expect([...log.ids].sort()).toEqual([...good].sort());
    expect(log.doubles).toBe(0);
    expect((await listDeadLetters(AMQP_URL, `${queue}.dlq`)).map((e) => e.messageId)).toEqual(['poison']);
  });
});
