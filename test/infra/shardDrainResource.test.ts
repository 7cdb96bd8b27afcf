/**
 * The AWS side of lowering `concurrency`, rehearsed against the local RabbitMQ with the code the stack's topology
 * function runs: the topology resource's Update with the lowered config unbinds the surplus shards, then (as
 * CloudFormation's cleanup phase does once their triggers are deleted) each surplus shard's drain resource is deleted,
 * which moves its backlog back through the exchange and deletes the queue. Only Secrets Manager is replaced (the secret
 * reader hands back the local broker's user); the management API is the local one.
 */
import amqp, { type ChannelModel } from 'amqplib';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../config/config.js';
import { createShardDrainHandler, SHARD_DRAIN_RESOURCE_TYPE } from '../../lib/functions/shardDrainResource.js';
import { queueState } from '../../topology/surplusShards.js';
import type { SecretReader } from '../../runtime/amqp/brokerSecret.js';
import { createTopologyHandler } from '../../lib/functions/topologyResource.js';
import { waitFor } from '../helpers/services.js';

const AMQP_URL = process.env.WARREN_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const CONSOLE_URL = process.env.WARREN_TEST_MANAGEMENT_URL ?? 'http://127.0.0.1:15672';
const queue = `warren-drain-${randomBytes(4).toString('hex')}`;
const config = (concurrency: number) => resolveConfig({ handlers: [{ name: 'orders', entry: 'functions/orders.ts', queue, concurrency }] }).handlers;
const localSecret: SecretReader = async () => ({ username: 'guest', password: 'guest' });
const topology = createTopologyHandler(localSecret);
const drain = createShardDrainHandler(localSecret, { consumerWaitMs: 20_000, pollMs: 100 });

const common = {
  ServiceToken: 'arn:aws:lambda:us-east-1:111122223333:function:provider',
  ResponseURL: 'https://example.invalid/response',
  StackId: 'arn:aws:cloudformation:us-east-1:111122223333:stack/Warren-Handlers1/1',
  RequestId: 'req',
};

function topologyEvent(requestType: 'Create' | 'Update', concurrency: number): CloudFormationCustomResourceEvent {
  const ResourceProperties = { ServiceToken: common.ServiceToken, BrokerEndpoint: 'amqp://127.0.0.1:5672', SecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:broker', Handlers: JSON.stringify(config(concurrency)) };
  const base = { ...common, LogicalResourceId: 'Topology', ResourceType: 'Custom::WarrenTopology', ResourceProperties };
  return requestType === 'Create' ? { ...base, RequestType: 'Create' } : { ...base, RequestType: 'Update', PhysicalResourceId: 'warren-topology', OldResourceProperties: ResourceProperties };
}

/** What CloudFormation sends when it deletes shard `i`'s drain resource (after deleting its trigger). */
function drainDelete(i: number): CloudFormationCustomResourceEvent {
  return {
    ...common, RequestType: 'Delete', LogicalResourceId: `HandlerordersShard${i}Drain`, ResourceType: SHARD_DRAIN_RESOURCE_TYPE, PhysicalResourceId: `${queue}.${i}`,
    ResourceProperties: { ServiceToken: common.ServiceToken, BrokerEndpoint: 'amqp://127.0.0.1:5672', ConsoleUrl: CONSOLE_URL, SecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:broker', Exchange: queue, Queue: `${queue}.${i}`, Vhost: '/' },
  };
}

let connection: ChannelModel;
beforeAll(async () => { connection = await amqp.connect(AMQP_URL); });
afterAll(async () => {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  for (let i = 0; i < 6; i += 1) await channel.deleteQueue(`${queue}.${i}`).catch(() => undefined);
  await channel.deleteQueue(`${queue}.dlq`).catch(() => undefined);
  await channel.deleteExchange(queue).catch(() => undefined);
  await connection.close();
});

/** Takes (and acks) everything in `name` (a consumer: quorum queues with a single active consumer refuse basic.get): message id -> routing key. */
async function takeAll(name: string): Promise<Map<string, string>> {
  const expected = (await queueState(connection, name))!.messages;
  const channel = await connection.createChannel();
  const out = new Map<string, string>();
  await channel.consume(name, (msg) => { if (msg !== null) out.set(String(msg.properties.messageId), msg.fields.routingKey); }, { noAck: true });
  await waitFor(`${expected} messages from ${name}`, () => out.size >= expected, 10_000, 20);
  await channel.close();
  return out;
}

describe('Function: shard drain custom resource, after the topology resource lowered concurrency 4 -> 2', () => {
  it('moves every message of the surplus shards back through the exchange once, each key onto one kept shard, and deletes the surplus queues', async () => {
    await topology(topologyEvent('Create', 4));
    const publisher = await connection.createConfirmChannel();
    const ids: string[] = [];
    for (let i = 0; i < 400; i += 1) {
      const id = `m-${i}`;
      ids.push(id);
      publisher.publish(queue, `key-${i % 40}`, Buffer.from(JSON.stringify({ i })), { persistent: true, messageId: id, headers: { 'x-origin': 'test' } });
    }
    await publisher.waitForConfirms();
    await publisher.close();
    const before = await Promise.all([0, 1, 2, 3].map(async (i) => (await queueState(connection, `${queue}.${i}`))!.messages));
    expect(before.every((n) => n > 0)).toBe(true); // a backlog on every shard, the surplus ones included
    expect(before.reduce((a, b) => a + b, 0)).toBe(400);

    // The old trigger of shard 3 still holds 5 messages unacked when CloudFormation deletes it; its poller lets go 1 s later.
    const poller = await connection.createChannel();
    await poller.prefetch(5);
    let held = 0;
    await poller.consume(`${queue}.3`, () => { held += 1; });
    setTimeout(() => { void poller.close(); }, 1_000);

    const updated = await topology(topologyEvent('Update', 2));
    expect(updated.Data.OrphanCount).toBe(2);
    const results = [await drain(drainDelete(2)), await drain(drainDelete(3))];
    expect(held).toBe(5);
    expect(results.map((r) => r.Data)).toEqual([
      { Moved: String(before[2]), Deleted: 'true', Left: '' },
      { Moved: String(before[3]), Deleted: 'true', Left: '' },
    ]);
    expect(await queueState(connection, `${queue}.2`)).toBeNull();
    expect(await queueState(connection, `${queue}.3`)).toBeNull();

    const kept = [await takeAll(`${queue}.0`), await takeAll(`${queue}.1`)];
    expect(kept[0]!.size + kept[1]!.size).toBe(400);
    expect(new Set([...kept[0]!.keys(), ...kept[1]!.keys()])).toEqual(new Set(ids)); // each message once
    const keysOn = kept.map((m) => new Set(m.values()));
    expect([...keysOn[0]!].filter((k) => keysOn[1]!.has(k))).toEqual([]); // every key on one kept shard
  });

  it('leaves a shard that is still bound alone (stack deletion, or a handler moving between nested stacks)', async () => {
    const publisher = await connection.createConfirmChannel();
    for (let i = 0; i < 20; i += 1) publisher.publish(queue, `key-${i}`, Buffer.from('{}'), { persistent: true, messageId: `b-${i}` });
    await publisher.waitForConfirms();
    await publisher.close();
    const before = await queueState(connection, `${queue}.0`);
    // the broker settings from the function's environment, as the stack sets them (not resource properties)
    const event = drainDelete(0);
    const { BrokerEndpoint, ConsoleUrl, SecretArn, ...rest } = event.ResourceProperties;
    Object.assign(process.env, { WARREN_BROKER_ENDPOINT: BrokerEndpoint, WARREN_BROKER_CONSOLE_URL: ConsoleUrl, WARREN_BROKER_SECRET_ARN: SecretArn });
    const result = await drain({ ...event, ResourceProperties: rest as typeof event.ResourceProperties }).finally(() => {
      for (const name of ['WARREN_BROKER_ENDPOINT', 'WARREN_BROKER_CONSOLE_URL', 'WARREN_BROKER_SECRET_ARN']) delete process.env[name];
    });
    expect(result).toEqual({ PhysicalResourceId: `${queue}.0`, Data: { Moved: '0', Deleted: 'false', Left: '' } });
    expect(await queueState(connection, `${queue}.0`)).toEqual(before);
  });

  it('does nothing on Create and Update', async () => {
    const create = { ...drainDelete(2), RequestType: 'Create' } as CloudFormationCustomResourceEvent;
    expect(await drain(create)).toEqual({ PhysicalResourceId: `${queue}.2`, Data: { Moved: '0', Deleted: 'false', Left: '' } });
    expect(await queueState(connection, `${queue}.2`)).toBeNull();
  });
});
