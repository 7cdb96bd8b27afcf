/**
 * The event a handler gets in a worker is the trigger-shaped event the runner built, under both worker models: a
 * process gets it through JSON over its IPC pipe, a thread through a structured clone over its MessagePort.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_BROKER_ARN } from '../../runtime/toRmqEvent.js';
import { publishRaw } from '../helpers/amqp.js';
import { startTestRunner, type TestRunner } from '../helpers/runner.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../helpers/services.js';
import { EVENT_LINE_PREFIX } from '../fixtures/eventRecorder.js';

let db: TestDatabase;
let running: TestRunner | undefined;

beforeEach(async () => { db = await createTestDatabase(); });
afterEach(async () => {
  await running?.cleanup();
  running = undefined;
  await db.drop();
});

describe.each(['process', 'thread'] as const)('The event a handler gets, with %s workers', (workerModel) => {
  it('is the aws:rmq event: base64 body, bytes headers, numbers as numbers, nulls for absent properties', async () => {
    running = await startTestRunner(db, [{ name: 'recorder', entry: 'test/fixtures/eventRecorder.ts', concurrency: 1, batchSize: 10, batchingWindowSeconds: 0 }], { workers: 1, workerModel });
    await publishRaw(running.queueOf('recorder'), [{ body: '{"orderId":"é-1"}', messageId: 'm-1', key: 'k', headers: { tenant: 'acme', attempt: 2 } }]);
    const line = await waitFor('the recorded event', () => running!.lines.find((l) => l.includes(EVENT_LINE_PREFIX)), 30_000);
    const event = JSON.parse(line.slice(line.indexOf(EVENT_LINE_PREFIX) + EVENT_LINE_PREFIX.length)) as Record<string, unknown>;
    const queue = `${running.queueOf('recorder')}.0`;
    expect(event).toEqual({
      eventSource: 'aws:rmq',
      eventSourceArn: LOCAL_BROKER_ARN,
      rmqMessagesByQueue: {
        [`${queue}::/`]: [{
          basicProperties: {
            contentType: null, contentEncoding: null,
            headers: { tenant: { bytes: [97, 99, 109, 101] }, attempt: 2 },
            deliveryMode: 2, priority: null, correlationId: null, replyTo: null, expiration: null, messageId: 'm-1',
            timestamp: null, type: null, userId: null, appId: null, clusterId: null, bodySize: 18,
          },
          redelivered: false,
          data: Buffer.from('{"orderId":"é-1"}').toString('base64'),
        }],
      },
    });
  });
});
