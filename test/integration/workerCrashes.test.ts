/**
 * A handler that ends its worker, each way a handler can, under both worker models (`runner.workerModel`): the worker
 * ends and only it (the other worker and the runner, which runs in this test's process, go on), its batch is requeued
 * and a replacement starts. The handler is the non-idempotent counter (test/fixtures/counter.ts), so a message applied
 * twice or lost shows in the numbers: ten messages in one batch, the sixth ends the worker on its first delivery.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { counterState, COUNTER_ENTRY, createCounterTables, sendCounted } from '../helpers/counter.js';
import { startTestRunner, type TestRunner } from '../helpers/runner.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../helpers/services.js';

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

const CRASHES = [
  ['exit', 'calls process.exit()'],
  ['timer', 'throws from a timer'],
  ['loop', 'loops forever (past its timeoutSeconds of 3)'],
  ['oom', 'runs out of memory (workerHeapMb 128)'],
] as const;

describe.each(['process', 'thread'] as const)('A handler that ends its worker, with %s workers', (workerModel) => {
  it.each(CRASHES)('%s: a handler that %s ends its worker only; the batch is requeued and applied exactly once', async (crash) => {
    // Prepare: two workers; the counter handler with a 3 s timeout, one shard, batches of up to 20 within 1 s
    running = await startTestRunner(db, [{ name: 'counter', entry: COUNTER_ENTRY, concurrency: 1, batchSize: 20, batchingWindowSeconds: 1, timeoutSeconds: 3 }], { workers: 2, workerModel, workerHeapMb: 128 });
    const before = running.runner.workerHandles.map((w) => w.key);
    expect(before.every((key) => key?.startsWith(workerModel === 'process' ? 'pid ' : 'thread ') === true)).toBe(true);

    // Act
    await sendCounted(running.queueOf('counter'), Array.from({ length: 10 }, (_, i) => `c${i}`), { crashAt: 5, crash, key: 'one-shard' });

    // Assess: all ten applied once; the five committed before the crash came back and were deduplicated
    await waitFor('10 acked', () => running!.runner.snapshot().acked >= 10, 60_000);
    expect(await counterState(db)).toEqual({ n: 10, applied: 10, distinct: 10 });
    expect(running.runner.snapshot()).toMatchObject({ acked: 10, committed: 5, deduplicated: 5, deadLettered: 0, workerRestarts: 1 });
    const replaced = running.runner.workerHandles.filter((w) => w.restarts === 1);
    expect(replaced).toHaveLength(1);
    const slot = running.runner.workerHandles.indexOf(replaced[0]!);
    await waitFor('the replacement ready', () => replaced[0]!.alive, 15_000);
    expect(replaced[0]!.key).not.toBe(before[slot]);
    // The other worker is the same one as before
    expect(running.runner.workerHandles.filter((_, i) => i !== slot).map((w) => w.key)).toEqual(before.filter((_, i) => i !== slot));
    const died = running.lines.filter((l) => l.includes(`worker ${workerModel} died; its batch is requeued`));
    expect(died).toHaveLength(1);
    expect(died[0]).toContain('"batchInFlight":true');
    if (crash === 'loop') expect(running.lines.some((l) => l.includes('batch outlived its handler\'s timeoutSeconds; ending its worker') && l.includes('"timeoutSeconds":3'))).toBe(true);
  });
});
