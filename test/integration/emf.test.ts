import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { defineHandler } from '../../runtime/defineHandler.js';
import { setEmfSink, type EmfDocument } from '../../runtime/emf.js';
import type { RmqEvent, RmqMessage } from '../../runtime/event.js';
import { closeProcessConnection } from '../../runtime/db/processConnection.js';
import { createTestDatabase, type TestDatabase } from '../helpers/services.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const fixture = JSON.parse(readFileSync(new URL('../fixtures/events/aws-docs-rmq.json', import.meta.url), 'utf8')) as RmqEvent;
const template = Object.values(fixture.rmqMessagesByQueue)[0]![0]!;

/** An `aws:rmq` event shaped like the AWS documentation's sample, with our bodies, ids and a traceparent header. */
function rmqEvent(queue: string, bodies: readonly unknown[], prefix: string | null): RmqEvent {
  const messages: RmqMessage[] = bodies.map((body, i) => ({
    ...template,
    basicProperties: {
      ...template.basicProperties,
      messageId: prefix === null ? null : `${prefix}-${i}`,
      correlationId: `corr-${prefix}`,
      headers: { traceparent: { bytes: [...Buffer.from(TRACEPARENT)] } },
    },
    data: Buffer.from(JSON.stringify(body)).toString('base64'),
  }));
  return { ...fixture, rmqMessagesByQueue: { [`${queue}::/`]: messages } };
}

let db: TestDatabase;
const emf: EmfDocument[] = [];
const logLines: string[] = [];
const handler = defineHandler<{ n: number; fail?: boolean }>({
  name: 'emf-test',
  attempts: 1,
  async handle(message, { query, log }) {
    if (message.body.fail === true) throw new Error('boom');
    await query('SELECT ?', [message.body.n]);
    log.info('handled');
  },
});

beforeAll(async () => {
  db = await createTestDatabase({ schema: false });
  await closeProcessConnection();
  process.env.DATABASE_URL = db.url; // read when the first invocation creates the process's connection
  setEmfSink((line) => emf.push(JSON.parse(line) as EmfDocument));
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => { logLines.push(String(chunk)); return true; });
});
afterEach(() => { delete process.env.AWS_LAMBDA_FUNCTION_NAME; });
afterAll(async () => {
  vi.restoreAllMocks();
  setEmfSink();
  await closeProcessConnection();
  await db.drop();
});

describe('Function: withInvocationMetrics() through defineHandler()', () => {
  it('writes one EMF line per invocation on Lambda: cold start first, then the warm connection serving more invocations', async () => {
    // Prepare
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'warren-orders';
    emf.length = 0;

    // Act
    const context = { callbackWaitsForEmptyEventLoop: true, awsRequestId: 'req-1' };
    await handler(rmqEvent('orders.0', [{ n: 1 }, { n: 2 }, { n: 3 }], 'a'), context);
    await handler(rmqEvent('orders.0', [{ n: 4 }, { n: 5 }], 'b'), { callbackWaitsForEmptyEventLoop: true, awsRequestId: 'req-2' });
    await expect(handler(rmqEvent('orders.0', [{ n: 6, fail: true }], 'c'), { callbackWaitsForEmptyEventLoop: true, awsRequestId: 'req-3' })).rejects.toThrow('boom');
    await handler(rmqEvent('orders.0', [{ n: 7 }, { n: 8 }], null), { callbackWaitsForEmptyEventLoop: true, awsRequestId: 'req-4' });

    // Assess
    expect(context.callbackWaitsForEmptyEventLoop).toBe(false); // the warm connection must not hold the invocation open
    expect(emf).toHaveLength(4);
    const [first, second, failed, unkeyed] = emf as [EmfDocument, EmfDocument, EmfDocument, EmfDocument];
    expect(first._aws).toEqual({
      Timestamp: expect.any(Number) as number,
      CloudWatchMetrics: [{
        Namespace: 'Warren',
        Dimensions: [['Handler', 'Queue']],
        Metrics: [
          ['Messages', 'Count'], ['Acked', 'Count'], ['Failed', 'Count'], ['Committed', 'Count'], ['Deduplicated', 'Count'],
          ['DeadLettered', 'Count'], ['Retries', 'Count'], ['Unkeyed', 'Count'], ['ProcessDuration', 'Milliseconds'], ['ColdStart', 'Count'],
          ['DbConnects', 'Count'], ['DbReconnects', 'Count'], ['DbConnectionOpen', 'Count'], ['DbConnectionInvocations', 'Count'],
          ['RepliesDropped', 'Count'],
        ].map(([Name, Unit]) => ({ Name, Unit })),
      }],
    });
    for (const { Name } of first._aws.CloudWatchMetrics[0].Metrics) expect(typeof first[Name]).toBe('number');
    expect(first).toMatchObject({
      Handler: 'emf-test', Queue: 'orders.0', Vhost: '/', requestId: 'req-1',
      Messages: 3, Acked: 3, Failed: 0, Committed: 3, Deduplicated: 0, DeadLettered: 0, Unkeyed: 0,
      ColdStart: 1, coldStart: true, DbConnects: 1, DbReconnects: 0, DbConnectionOpen: 1, DbConnectionInvocations: 1, dbTransactionsServed: 3,
    });
    expect(first.ProcessDuration).toBeGreaterThan(0);
    expect(second).toMatchObject({
      Messages: 2, Acked: 2, Committed: 2, ColdStart: 0, coldStart: false, DbConnects: 0, DbConnectionInvocations: 2, dbTransactionsServed: 5,
      dbThreadId: first.dbThreadId,
    });
    expect(failed).toMatchObject({ Messages: 1, Acked: 0, Failed: 1, ColdStart: 0, DbConnectionInvocations: 3, errorName: 'Error', requestId: 'req-3' });
    expect(unkeyed).toMatchObject({ Messages: 2, Acked: 2, Committed: 2, Unkeyed: 2, Deduplicated: 0 });
  });

  it('writes nothing when not running on Lambda', async () => {
    emf.length = 0;
    await handler(rmqEvent('orders.0', [{ n: 1 }], 'local'), { callbackWaitsForEmptyEventLoop: true });
    expect(emf).toEqual([]);
  });

  it('carries the W3C traceparent header of a message into its log lines', async () => {
    logLines.length = 0;
    await handler(rmqEvent('orders.0', [{ n: 7 }], 'tp'), { callbackWaitsForEmptyEventLoop: true });
    const lines = logLines.flatMap((chunk) => chunk.split('\n')).filter((l) => l.includes('"msg":"handled"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toMatchObject({ handler: 'emf-test', queue: 'orders.0', messageId: 'tp-0', correlationId: 'corr-tp', traceparent: TRACEPARENT, traceId: '4bf92f3577b34da6a3ce929d0e0e4736' });
  });
});
