/**
 * The code the topology custom resource runs, against the local RabbitMQ. Only Secrets Manager is replaced (it cannot
 * exist here): the secret reader hands back the local broker's user.
 */
import amqp, { type ChannelModel } from 'amqplib';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../runtime/config.js';
import { createTopologyHandler, TOPOLOGY_PHYSICAL_ID, type SecretReader } from '../../runtime/topologyResource.js';

const AMQP_URL = process.env.WARREN_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const suffix = randomBytes(4).toString('hex');
const handlers = resolveConfig({
  handlers: [
    { name: 'orders', entry: 'functions/orders.ts', queue: `warren-cr-orders-${suffix}`, concurrency: 3 },
    { name: 'audit', entry: 'functions/orders.ts', queue: `warren-cr-audit-${suffix}`, concurrency: 1 },
  ],
}).handlers;

const secretsRead: string[] = [];
const localSecret: SecretReader = async (arn) => {
  secretsRead.push(arn);
  return { username: 'guest', password: 'guest' };
};
const onEvent = createTopologyHandler(localSecret);

function event(requestType: 'Create' | 'Update' | 'Delete', hs: unknown = handlers): CloudFormationCustomResourceEvent {
  const common = {
    ServiceToken: 'arn:aws:lambda:us-east-1:111122223333:function:provider',
    ResponseURL: 'https://example.invalid/response',
    StackId: 'arn:aws:cloudformation:us-east-1:111122223333:stack/Warren/1',
    RequestId: `req-${requestType}`,
    LogicalResourceId: 'Topology',
    ResourceType: 'Custom::WarrenTopology',
    ResourceProperties: {
      ServiceToken: 'arn:aws:lambda:us-east-1:111122223333:function:provider',
      BrokerEndpoint: 'amqp://127.0.0.1:5672',
      SecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:broker-AbCdEf',
      Handlers: JSON.stringify(hs),
    },
  };
  if (requestType === 'Create') return { ...common, RequestType: 'Create' };
  if (requestType === 'Update') return { ...common, RequestType: 'Update', PhysicalResourceId: TOPOLOGY_PHYSICAL_ID, OldResourceProperties: common.ResourceProperties };
  return { ...common, RequestType: 'Delete', PhysicalResourceId: TOPOLOGY_PHYSICAL_ID };
}

let connection: ChannelModel;

/** Message count of a queue, or null when it does not exist. */
async function messageCount(queue: string): Promise<number | null> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    return (await channel.checkQueue(queue)).messageCount;
  } catch {
    return null;
  } finally {
    await channel.close().catch(() => undefined);
  }
}

beforeAll(async () => {
  connection = await amqp.connect(AMQP_URL);
});

afterAll(async () => {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  for (const h of handlers) {
    for (let i = 0; i < h.concurrency; i += 1) await channel.deleteQueue(`${h.queue}.${i}`).catch(() => undefined);
    await channel.deleteQueue(`${h.queue}.dlq`).catch(() => undefined);
    await channel.deleteExchange(h.queue).catch(() => undefined);
  }
  await channel.close().catch(() => undefined);
  await connection.close();
});

describe('Function: topology custom resource onEvent', () => {
  it('declares the consistent-hash exchange and every shard queue on Create, reading the broker secret', async () => {
    const result = await onEvent(event('Create'));
    expect(result.PhysicalResourceId).toBe(TOPOLOGY_PHYSICAL_ID);
    expect(result.Data.Queues.split(',')).toEqual([
      `warren-cr-orders-${suffix}.0`, `warren-cr-orders-${suffix}.1`, `warren-cr-orders-${suffix}.2`, `warren-cr-audit-${suffix}.0`,
    ]);
    expect(secretsRead).toEqual(['arn:aws:secretsmanager:us-east-1:111122223333:secret:broker-AbCdEf']);
    for (const queue of result.Data.Queues.split(',')) expect(await messageCount(queue)).toBe(0);

    // The bindings route by key: 60 keys spread over the three orders shards.
    const channel = await connection.createConfirmChannel();
    for (let i = 0; i < 60; i += 1) channel.publish(`warren-cr-orders-${suffix}`, `key-${i}`, Buffer.from('{}'));
    await channel.waitForConfirms();
    await channel.close();
    const counts = await Promise.all([0, 1, 2].map((i) => messageCount(`warren-cr-orders-${suffix}.${i}`)));
    expect(counts.reduce((a, b) => (a ?? 0) + (b ?? 0), 0)).toBe(60);
    expect(counts.filter((c) => (c ?? 0) > 0).length).toBeGreaterThanOrEqual(2);
  });

  it('is idempotent: a second Create and an Update change nothing and keep queued messages', async () => {
    const before = await Promise.all([0, 1, 2].map((i) => messageCount(`warren-cr-orders-${suffix}.${i}`)));
    const again = await onEvent(event('Create'));
    const update = await onEvent(event('Update'));
    expect(again).toEqual(update);
    expect(update.Data.Orphans).toBe('');
    expect(await Promise.all([0, 1, 2].map((i) => messageCount(`warren-cr-orders-${suffix}.${i}`)))).toEqual(before);
  });

  it('reports the shard queues left over when an Update lowers the concurrency', async () => {
    const fewer = handlers.map((h) => (h.name === 'orders' ? { ...h, concurrency: 2 } : h));
    const result = await onEvent(event('Update', fewer));
    expect(result.Data.Orphans).toBe(`warren-cr-orders-${suffix}.2`);
    await onEvent(event('Update')); // back to 3
  });

  it('leaves the queues and their messages on the broker on Delete', async () => {
    const before = await messageCount(`warren-cr-orders-${suffix}.0`);
    const result = await onEvent(event('Delete'));
    expect(result.PhysicalResourceId).toBe(TOPOLOGY_PHYSICAL_ID);
    expect(await messageCount(`warren-cr-orders-${suffix}.0`)).toBe(before);
  });

  it('rejects handler configs that fail validation, naming the field', async () => {
    await expect(onEvent(event('Create', [{ name: 'Bad Name', entry: 'x.ts' }]))).rejects.toThrow('Invalid config at "handlers[0].name"');
  });
});
