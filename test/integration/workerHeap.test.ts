/**
 * `runner.workerHeapMb` and `runner.workerYoungGenerationMb` reach each worker, under both worker models: a thread's
 * `resourceLimits`, a process's V8 flags (the young generation is two semi-spaces and a large-object space, so a
 * process gets a semi-space of a third of it).
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

async function settingsSeen(options: { workerModel: 'process' | 'thread'; workerHeapMb?: number; workerYoungGenerationMb?: number }): Promise<unknown> {
  running = await startTestRunner(db, [{ name: 'heap', entry: 'test/fixtures/heapSettings.ts', concurrency: 1, batchSize: 1, batchingWindowSeconds: 0 }], { workers: 1, ...options });
  await publishRaw(running.queueOf('heap'), [{ body: '{}', messageId: 'm1' }]);
  const line = await waitFor('the worker to print its heap settings', () => running!.lines.find((l) => l.includes('heap-settings ')), 30_000);
  return JSON.parse(line.slice(line.indexOf('heap-settings ') + 'heap-settings '.length)) as unknown;
}

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
