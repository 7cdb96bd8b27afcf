/**
 * `runner.workerHeapMb` and `runner.workerYoungGenerationMb` reach each worker, under both worker models: a thread's
 * `resourceLimits`, a process's V8 flags (the young generation is two semi-spaces and a large-object space, so a
 * process gets a semi-space of a third of it). And each worker's MySQL session runs without autocommit
 * (`implicitTransactions`): a handler's statements are inside a transaction although no BEGIN was sent.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { publishRaw } from '../helpers/amqp.js';
import { startTestRunner, type TestRunner } from '../helpers/runner.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../helpers/services.js';

let db: TestDatabase;
let running: TestRunner | undefined;

beforeEach(async () => { db = await createTestDatabase(); });
afterEach(async () => {
  await running?.cleanup();
  running = undefined;
  await db.drop();
});

type RunnerOptions = { workerModel: 'process' | 'thread'; workerHeapMb?: number; workerYoungGenerationMb?: number };

/** Runs `entry` on one worker for one message and returns the JSON it printed after `prefix`. */
async function printed(entry: string, prefix: string, options: RunnerOptions): Promise<unknown> {
  running = await startTestRunner(db, [{ name: 'settings', entry, concurrency: 1, batchSize: 1, batchingWindowSeconds: 0 }], { workers: 1, ...options });
  await publishRaw(running.queueOf('settings'), [{ body: '{}', messageId: 'm1' }]);
  const line = await waitFor(`the worker to print ${prefix.trim()}`, () => running!.lines.find((l) => l.includes(prefix)), 30_000);
  return JSON.parse(line.slice(line.indexOf(prefix) + prefix.length)) as unknown;
}

const settingsSeen = (options: RunnerOptions): Promise<unknown> => printed('test/fixtures/heapSettings.ts', 'heap-settings ', options);

describe('worker heap settings', () => {
  it('gives a thread worker the default 1024 MB old and 192 MB young generation as resourceLimits', async () => {
    expect(await settingsSeen({ workerModel: 'thread' })).toMatchObject({ thread: { maxOldGenerationSizeMb: 1024, maxYoungGenerationSizeMb: 192 } });
  });

  it('gives a process worker the same as flags: --max-old-space-size=1024 and a 64 MB semi-space', async () => {
    expect(await settingsSeen({ workerModel: 'process' })).toEqual({ process: ['--max-old-space-size=1024', '--max-semi-space-size=64'] });
  });

  it('leaves V8 its own young generation with workerYoungGenerationMb 0, and takes a configured heap', async () => {
    expect(await settingsSeen({ workerModel: 'process', workerHeapMb: 256, workerYoungGenerationMb: 0 })).toEqual({ process: ['--max-old-space-size=256'] });
  });
});

describe('worker database session', () => {
  it.each(['thread', 'process'] as const)('runs a %s worker\'s handler inside a transaction on a session without autocommit (no BEGIN sent)', async (workerModel) => {
    expect(await printed('test/fixtures/sessionSettings.ts', 'session-settings ', { workerModel })).toEqual({ autocommit: 0, inTransaction: 1 });
  });
});
