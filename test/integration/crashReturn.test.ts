/**
 * Which AMQP call gives a batch back to RabbitMQ when its worker crashes on it. RabbitMQ 4.3 counts only
 * `basic.reject` and a client crash toward a quorum queue's delivery limit, not `basic.nack` (RabbitMQ "Quorum Queues",
 * blog "RabbitMQ 4.3 release", "unlimited returns"); 3.10 (here) counts both. So the broker's backstop against a
 * message that keeps crashing its worker holds on 4.3 only if the runner returns that batch with `basic.reject`. The
 * runner's AMQP connection goes through a TCP proxy that records what it sends; the frames are read from it.
 *
 * What this shows: the frames the runner sends (tested here, against RabbitMQ 3.10). What rests on RabbitMQ's docs:
 * that 4.3 counts those frames (no 4.3 broker here).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listDeadLetters } from '../../local/commands/deadLetters.js';
import { publishRaw } from '../helpers/amqp.js';
import { clientMethodFrames, type MethodFrame } from '../helpers/amqpFrames.js';
import { createAppliedLog } from '../helpers/appliedLog.js';
import { startTestRunner, type TestRunner } from '../helpers/runner.js';
import { AMQP_URL, createTestDatabase, queueDepths, waitFor, type TestDatabase } from '../helpers/services.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js';

let db: TestDatabase;
let tap: TcpProxy;
let running: TestRunner | undefined;

beforeEach(async () => {
  db = await createTestDatabase({ schema: false });
  await createAppliedLog(db);
  const broker = new URL(AMQP_URL);
  tap = await startTcpProxy(Number(broker.port || 5672), broker.hostname);
});
afterEach(async () => {
  await running?.cleanup();
  running = undefined;
  await tap.close();
  await db.drop();
});

describe('Runner: returning a batch whose worker crashed', () => {
  it('returns the crashed batch with basic.reject (requeue), which RabbitMQ 4.3 counts, never with basic.nack, until the broker dead-letters it', async () => {
    const url = new URL(AMQP_URL);
    url.port = String(tap.port);
    running = await startTestRunner(db, [{ name: 'crashy', entry: 'test/fixtures/appliedLog.ts', export: 'crashy', batchSize: 1, batchingWindowSeconds: 0, deliveryLimit: 2 }], { amqpUrl: url.toString().replace(/\/$/, '') });
    const queue = running.queueOf('crashy');
    // The poison message alone: no buffered tail behind it, so every return is the crashed batch's.
    await publishRaw(queue, [{ body: JSON.stringify({ id: 'poison', crash: true }), messageId: 'poison', key: 'k' }]);
    await waitFor('the poison message in the dead-letter queue', async () => {
      const list = await listDeadLetters(AMQP_URL, `${queue}.dlq`);
      return list.some((e) => e.messageId === 'poison') && (await queueDepths([`${queue}.0`]))[0] === 0 && running!.runner.snapshot().inFlight === 0 ? true : undefined;
    }, 90_000, 250);
    expect(running.runner.snapshot().workerRestarts).toBeGreaterThanOrEqual(3);

    const frames: MethodFrame[] = tap.clientStreams().flatMap((s) => clientMethodFrames(Buffer.from(s, 'latin1')));
    const returns = frames.filter((f) => f.method === 'basic.reject' || f.method === 'basic.nack');
    // deliveryLimit 2: delivered 3 times, returned 3 times (the third return is past the limit: dead-lettered).
    expect(returns.map((f) => `${f.method} requeue=${String(f.requeue)}`)).toEqual([
      'basic.reject requeue=true', 'basic.reject requeue=true', 'basic.reject requeue=true',
    ]);
    expect(frames.filter((f) => f.method === 'basic.ack')).toEqual([]);
  });
});
