import { GetQueueUrlCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SqsSink } from '../../runtime/deadLetter/SqsSink.js';
import type { DeadLetter } from '../../runtime/deadLetter/types.js';
import { sqsDeadLetterQueueName } from '../../local/broker/sqsDeadLetterQueue.js';
import { listSqsDeadLetters, replaySqsDeadLetters } from '../../local/commands/sqsDeadLetters.js';
import { publishRaw } from '../helpers/amqp.js';
import { setEnv } from '../helpers/env.js';
import { startTestRunner, type TestRunner } from '../helpers/runner.js';
import { AMQP_URL, createTestDatabase, waitFor, type TestDatabase } from '../helpers/services.js';

type Server = Awaited<ReturnType<typeof startFauxqs>>;
let server: Server;
let client: SQSClient;
let restoreEnv: () => void;

beforeAll(async () => {
  server = await startFauxqs({ port: 0, logger: false });
  restoreEnv = setEnv({ AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_ENDPOINT_URL_SQS: server.address });
  client = new SQSClient({ endpoint: server.address });
});
afterAll(async () => {
  client.destroy();
  await server.stop();
  restoreEnv();
});

async function receive(queueUrl: string) {
  const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], WaitTimeSeconds: 1 }));
  return Messages;
}

const letter = (data: Buffer): DeadLetter => ({
  handler: 'orders',
  sourceQueue: 'orders.2',
  vhost: '/',
  messageKey: 'm-1',
  data,
  properties: { contentType: 'application/json', contentEncoding: null, headers: { tenant: { bytes: [97] } }, deliveryMode: 2, priority: null, correlationId: 'c-1', replyTo: null, expiration: null, messageId: 'm-1', timestamp: null, type: null, userId: null, appId: null, clusterId: null, bodySize: data.length },
  error: { name: 'SchemaValidationError', message: 'quantity: Too small', kind: 'permanent' },
  deliveries: 1,
  deadLetteredAt: '2026-11-26T00:00:00.000Z',
});

describe('Class: SqsSink (against an SQS-compatible server over HTTP)', () => {
  it('sends the body and the reason, source queue, deliveries and original properties as attributes', async () => {
    const { queueUrl } = server.createQueue('sink-text-dlq');
    const sink = new SqsSink(queueUrl);
    await sink.send(letter(Buffer.from('{"orderId":"x","quantity":0}')));
    await sink.close();
    const [message] = await receive(queueUrl);
    expect(message?.Body).toBe('{"orderId":"x","quantity":0}');
    const attrs = message?.MessageAttributes ?? {};
    const { 'warren.properties': properties, ...rest } = attrs;
    expect(Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, [v.DataType, v.StringValue]]))).toEqual({
      'warren.handler': ['String', 'orders'],
      'warren.errorClass': ['String', 'SchemaValidationError'],
      'warren.errorMessage': ['String', 'quantity: Too small'],
      'warren.errorKind': ['String', 'permanent'],
      'warren.sourceQueue': ['String', 'orders.2::/'],
      'warren.deliveries': ['Number', '1'],
      'warren.messageKey': ['String', 'm-1'],
      'warren.bodyEncoding': ['String', 'utf8'],
      'warren.deadLetteredAt': ['String', '2026-11-26T00:00:00.000Z'],
    });
    expect(JSON.parse(properties?.StringValue ?? '{}')).toMatchObject({ messageId: 'm-1', correlationId: 'c-1' });
  });

  it('sends a body SQS cannot carry as text in base64 and says so', async () => {
    const { queueUrl } = server.createQueue('sink-binary-dlq');
    const sink = new SqsSink(queueUrl);
    const data = Buffer.from([0, 1, 2, 255]);
    await sink.send(letter(data));
    await sink.close();
    const [message] = await receive(queueUrl);
    expect(message?.MessageAttributes?.['warren.bodyEncoding']?.StringValue).toBe('base64');
    expect(Buffer.from(message?.Body ?? '', 'base64').equals(data)).toBe(true);
  });
});

describe('Runner with runner.deadLetter = "sqs"', () => {
  let db: TestDatabase;
  let running: TestRunner | undefined;
  afterEach(async () => {
    await running?.cleanup();
    await db.drop();
  });

  it('creates <queue>-dlq on the SQS endpoint and dead-letters a poison message there', async () => {
    db = await createTestDatabase();
    running = await startTestRunner(db, [{ name: 'orders', entry: 'test/fixtures/orders.ts', batchSize: 10, batchingWindowSeconds: 0 }], { deadLetter: 'sqs' });
    const exchange = running.queueOf('orders');
    await publishRaw(exchange, [
      { body: JSON.stringify({ orderId: 'ok-1', sku: 's', quantity: 1 }), messageId: 'ok-1' },
      { body: JSON.stringify({ orderId: 'bad-1', sku: 's', quantity: 0 }), messageId: 'bad-1' },
    ]);
    await waitFor('2 acked', () => running!.runner.snapshot().acked >= 2, 20_000);
    const { QueueUrl: queueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: sqsDeadLetterQueueName(exchange) }));
    const messages = await waitFor('a dead letter in SQS', async () => {
      const got = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageAttributeNames: ['All'], WaitTimeSeconds: 1 }));
      return (got.Messages ?? []).length > 0 ? got.Messages : undefined;
    }, 10_000);
    expect(messages).toHaveLength(1);
    expect(messages?.[0]?.MessageAttributes?.['warren.errorClass']?.StringValue).toBe('SchemaValidationError');
    expect(messages?.[0]?.MessageAttributes?.['warren.errorMessage']?.StringValue).toContain('quantity');
    expect(messages?.[0]?.MessageAttributes?.['warren.deadLetteredAt']?.StringValue).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(running.runner.snapshot()).toMatchObject({ committed: 1, deadLettered: 1 });
  });

  it('lists SQS dead letters without removing them, and a replayed letter that fails again is dead-lettered again', async () => {
    db = await createTestDatabase();
    running = await startTestRunner(db, [{ name: 'orders', entry: 'test/fixtures/orders.ts', batchSize: 10, batchingWindowSeconds: 0 }], { deadLetter: 'sqs' });
    const exchange = running.queueOf('orders');
    // dead-lettered by the schema: no sku
    await publishRaw(exchange, [{ body: JSON.stringify({ orderId: 'fix-1', quantity: 1 }), messageId: 'fix-1' }]);
    await waitFor('dead-lettered', () => running!.runner.snapshot().deadLettered === 1, 20_000);
    const { QueueUrl: queueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: sqsDeadLetterQueueName(exchange) }));
    const listed = await listSqsDeadLetters(queueUrl!);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ messageId: 'fix-1', errorClass: 'SchemaValidationError', sourceQueue: `${exchange}.0`, kind: 'permanent' });
    expect(await listSqsDeadLetters(queueUrl!)).toHaveLength(1); // still there
    // replaying it sends it back to its shard queue; the handler still refuses it, so it comes back here, once
    const replayed = await replaySqsDeadLetters(queueUrl!, AMQP_URL);
    expect(replayed.map((e) => e.messageId)).toEqual(['fix-1']);
    await waitFor('the replay handled', () => running!.runner.snapshot().acked >= 2, 20_000);
    expect(await listSqsDeadLetters(queueUrl!)).toHaveLength(1);
    expect(running.runner.snapshot().deadLettered).toBe(2);
  });
});
