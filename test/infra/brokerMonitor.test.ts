/**
 * The broker monitor's reading, against the local RabbitMQ: dead-letter depth per handler from `<queue>.dlq`, shard
 * queues without a consumer, and queues it cannot read; then the EMF lines the alarms watch.
 */
import amqp, { type ChannelModel } from 'amqplib';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBrokerMonitor, emfLines, monitoredHandlers, readBroker } from '../../lib/functions/brokerMonitor.js';
import { AMQP_URL } from '../helpers/services.js';

const suffix = randomBytes(4).toString('hex');
const orders = `warren-mon-orders-${suffix}`;
const audit = `warren-mon-audit-${suffix}`;
let connection: ChannelModel;

beforeAll(async () => {
  connection = await amqp.connect(AMQP_URL);
  const channel = await connection.createConfirmChannel();
  for (const q of [`${orders}.0`, `${orders}.1`, `${orders}.dlq`, `${audit}.0`, `${audit}.dlq`]) await channel.assertQueue(q, { durable: false, autoDelete: false });
  for (let i = 0; i < 3; i += 1) channel.sendToQueue(`${orders}.dlq`, Buffer.from(`lost ${i}`));
  await channel.waitForConfirms();
  await channel.consume(`${orders}.0`, () => undefined); // shard 0 has a consumer, shard 1 has none
  await channel.consume(`${audit}.0`, () => undefined);
});

afterAll(async () => {
  const channel = await connection.createChannel();
  for (const q of [`${orders}.0`, `${orders}.1`, `${orders}.dlq`, `${audit}.0`, `${audit}.dlq`]) await channel.deleteQueue(q).catch(() => undefined);
  await connection.close();
});

const handlers = [
  { handler: 'orders', vhost: '/', queue: orders, shards: 2 },
  { handler: 'audit', vhost: '/', queue: audit, shards: 1 },
];

describe('Function: readBroker()', () => {
  it('counts each handler\'s broker dead letters and names shards without a consumer', async () => {
    const result = await readBroker(handlers, () => amqp.connect(AMQP_URL));
    expect(result).toEqual({ deadLetters: { orders: 3, audit: 0 }, totalDeadLetters: 3, shardsWithoutConsumer: [`${orders}.1`], unreadable: [] });
  });

  it('reports queues that do not exist as unreadable instead of failing the run', async () => {
    const result = await readBroker([{ handler: 'ghost', vhost: '/', queue: `warren-mon-ghost-${suffix}`, shards: 1 }], () => amqp.connect(AMQP_URL));
    expect(result).toEqual({ deadLetters: {}, totalDeadLetters: 0, shardsWithoutConsumer: [], unreadable: [`warren-mon-ghost-${suffix}.dlq`, `warren-mon-ghost-${suffix}.0`] });
  });
});

describe('Function: emfLines()', () => {
  it('writes one line per handler with the Stack and Handler dimensions and one total line with the Stack dimension', () => {
    const lines = emfLines({ deadLetters: { orders: 3 }, totalDeadLetters: 3, shardsWithoutConsumer: ['orders.1'], unreadable: [] }, 'Shop', 1_700_000_000_000).map((l) => JSON.parse(l) as unknown);
    expect(lines).toEqual([
      { _aws: { Timestamp: 1_700_000_000_000, CloudWatchMetrics: [{ Namespace: 'Warren', Dimensions: [['Stack', 'Handler']], Metrics: [{ Name: 'BrokerDeadLetters', Unit: 'Count' }] }] }, Stack: 'Shop', Handler: 'orders', BrokerDeadLetters: 3 },
      {
        _aws: { Timestamp: 1_700_000_000_000, CloudWatchMetrics: [{ Namespace: 'Warren', Dimensions: [['Stack']], Metrics: [{ Name: 'BrokerDeadLetters', Unit: 'Count' }, { Name: 'ShardsWithoutConsumer', Unit: 'Count' }, { Name: 'UnreadableQueues', Unit: 'Count' }] }] },
        Stack: 'Shop', BrokerDeadLetters: 3, ShardsWithoutConsumer: 1, UnreadableQueues: 0,
      },
    ]);
  });
});

describe('Function: createBrokerMonitor()', () => {
  it('reads the queues from WARREN_MONITOR_QUEUES and the broker from WARREN_AMQP_ENDPOINT with the secret\'s user, tagging every line with WARREN_STACK_NAME', async () => {
    const saved = { ...process.env };
    process.env.WARREN_MONITOR_QUEUES = JSON.stringify(handlers);
    process.env.WARREN_STACK_NAME = 'Shop';
    process.env.WARREN_AMQP_ENDPOINT = 'amqp://127.0.0.1:5672';
    process.env.WARREN_AMQP_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:broker';
    const lines: string[] = [];
    try {
      const result = await createBrokerMonitor(async () => ({ username: 'guest', password: 'guest' }), (l) => lines.push(l))();
      expect(result.totalDeadLetters).toBe(3);
      expect(lines).toHaveLength(3);
      for (const line of lines) expect(JSON.parse(line)).toMatchObject({ Stack: 'Shop' });
    } finally {
      process.env = saved;
    }
  });

  it('rejects a malformed queue list, naming the variable', () => {
    expect(() => monitoredHandlers('[{"handler": 1}]')).toThrow('Invalid config at "WARREN_MONITOR_QUEUES": expected a JSON array of {"handler", "vhost", "queue", "shards"}');
  });
});
