/**
 * The AWS side of lowering `concurrency`, rehearsed against the local RabbitMQ with the code the stack's topology
 * function runs: the topology resource's Update with the lowered config unbinds the surplus shards, then (as
 * CloudFormation's cleanup phase does once their triggers are deleted) the group's old drain resource is deleted,
 * with the OLD list of shards, through the Provider framework's asynchronous completion (onEvent, then isComplete
 * until complete: test/helpers/asyncResource.ts). It moves each surplus shard's backlog back through the exchange,
 * deletes the queue and takes it out of the application user's read permission. Only Secrets Manager is replaced (the
 * secret reader hands back the local broker's user); the management API is the local one.
 */
import amqp, { type ChannelModel } from 'amqplib';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../config/config.js';
import { createShardDrainHandler, SHARD_DRAIN_RESOURCE_TYPE } from '../../lib/functions/shardDrainResource.js';
import { exactly } from '../../topology/brokerPermissions.js';
import { runToCompletion } from '../helpers/asyncResource.js';
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
const drain = createShardDrainHandler(localSecret);
const appUser = `warren-drain-app-${randomBytes(4).toString('hex')}`;
const MANAGEMENT_AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

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

/** What CloudFormation sends when it deletes the group's old drain resource (after deleting the triggers that depended on it). */
function drainDelete(concurrency: number, withBroker = true): CloudFormationCustomResourceEvent {
  const broker = withBroker ? { BrokerEndpoint: 'amqp://127.0.0.1:5672', ConsoleUrl: CONSOLE_URL, SecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:broker' } : {};
  return {
    ...common, RequestType: 'Delete', LogicalResourceId: 'ShardDrain0A1B2C3D', ResourceType: SHARD_DRAIN_RESOURCE_TYPE, PhysicalResourceId: 'warren-shard-drain',
    ResourceProperties: { ServiceToken: common.ServiceToken, ...broker, Shards: JSON.stringify([{ vhost: '/', exchange: queue, concurrency }]), AppUser: appUser },
  };
}

async function management(method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${CONSOLE_URL}${path}`, { method, headers: { authorization: MANAGEMENT_AUTH, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) as unknown };
}
const permissionPath = `/api/permissions/%2F/${encodeURIComponent(appUser)}`;
const readOf = async () => ((await management('GET', permissionPath)).body as { read: string }).read;

let connection: ChannelModel;
beforeAll(async () => {
  connection = await amqp.connect(AMQP_URL);
  // The application user, with read on the four shards, as the broker-user resource leaves it after the lowering Update.
  await management('PUT', `/api/users/${encodeURIComponent(appUser)}`, { password: 'drain-test', tags: '' });
  await management('PUT', permissionPath, { configure: '^$', write: '^$', read: exactly([0, 1, 2, 3].map((i) => `${queue}.${i}`)) });
});
afterAll(async () => {
  await management('DELETE', `/api/users/${encodeURIComponent(appUser)}`);
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

describe('Function: shard drain custom resource (one per nested stack), after the topology resource lowered concurrency 4 -> 2', () => {
  it('moves every message of the surplus shards back through the exchange once, each key onto one kept shard, deletes the surplus queues and only then drops their read permission', async () => {
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

    // The old trigger of shard 3 still holds 5 messages unacked when CloudFormation deletes it; its poller lets go after
    // the first isComplete call, which must neither move shard 3 nor take away its read permission.
    const poller = await connection.createChannel();
    await poller.prefetch(5);
    let held = 0;
    await poller.consume(`${queue}.3`, () => { held += 1; });
    await waitFor('the poller holding 5', () => held === 5);

    const updated = await topology(topologyEvent('Update', 2));
    expect(updated.Data.OrphanCount).toBe(2);
    const readDuring: string[] = [];
    const outcome = await runToCompletion(drain, drainDelete(4), {
      beforeCall: async (call) => {
        readDuring.push(await readOf());
        if (call === 2) await poller.close();
      },
    });
    expect(outcome).toMatchObject({ status: 'SUCCESS', physicalId: 'warren-shard-drain', data: { Moved: String(before[3]), Deleted: '1', Left: '' } });
    expect(outcome.calls).toBeGreaterThanOrEqual(2);
    // shard 3's read permission stayed while its poller was on it, and went once it had left (with the queue)
    expect(readDuring[1]).toBe(`^(?:${queue.replace(/-/g, '\\-')}\\.0|${queue.replace(/-/g, '\\-')}\\.1|${queue.replace(/-/g, '\\-')}\\.3)$`);
    expect(await readOf()).toBe(`^(?:${queue.replace(/-/g, '\\-')}\\.0|${queue.replace(/-/g, '\\-')}\\.1)$`);
    expect(await queueState(connection, `${queue}.2`)).toBeNull();
    expect(await queueState(connection, `${queue}.3`)).toBeNull();

    const kept = [await takeAll(`${queue}.0`), await takeAll(`${queue}.1`)];
    expect(kept[0]!.size + kept[1]!.size).toBe(400);
    expect(new Set([...kept[0]!.keys(), ...kept[1]!.keys()])).toEqual(new Set(ids)); // each message once
    const keysOn = kept.map((m) => new Set(m.values()));
    expect([...keysOn[0]!].filter((k) => keysOn[1]!.has(k))).toEqual([]); // every key on one kept shard
  });

  it('spreads a backlog larger than one call can move over several isComplete calls, each message moved once', async () => {
    await topology(topologyEvent('Update', 3));
    const publisher = await connection.createConfirmChannel();
    for (let i = 0; i < 600; i += 1) publisher.publish('', `${queue}.2`, Buffer.from('{}'), { persistent: true, messageId: `big-${i}` });
    await publisher.waitForConfirms();
    await publisher.close();
    await topology(topologyEvent('Update', 2));
    // A call budget of 1 ms: each isComplete call moves one round (100 messages) and stops, as a call near its time limit does.
    const outcome = await runToCompletion(createShardDrainHandler(localSecret, { callBudgetMs: 1 }), drainDelete(3), { intervalMs: 10 });
    expect(outcome).toMatchObject({ status: 'SUCCESS', data: { Left: '' } });
    expect(outcome.calls).toBeGreaterThanOrEqual(6);
    expect(await queueState(connection, `${queue}.2`)).toBeNull();
    const kept = [await takeAll(`${queue}.0`), await takeAll(`${queue}.1`)];
    expect(kept[0]!.size + kept[1]!.size).toBe(600);
    expect(new Set([...kept[0]!.keys(), ...kept[1]!.keys()]).size).toBe(600);
  });

  it('leaves shards that are still bound alone (stack deletion, or a handler moving between nested stacks), reading the broker settings from the environment', async () => {
    const publisher = await connection.createConfirmChannel();
    for (let i = 0; i < 20; i += 1) publisher.publish(queue, `key-${i}`, Buffer.from('{}'), { persistent: true, messageId: `b-${i}` });
    await publisher.waitForConfirms();
    await publisher.close();
    const before = await queueState(connection, `${queue}.0`);
    const readBefore = await readOf();
    Object.assign(process.env, { WARREN_BROKER_ENDPOINT: 'amqp://127.0.0.1:5672', WARREN_BROKER_CONSOLE_URL: CONSOLE_URL, WARREN_BROKER_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:broker' });
    const outcome = await runToCompletion(drain, drainDelete(2, false)).finally(() => {
      for (const name of ['WARREN_BROKER_ENDPOINT', 'WARREN_BROKER_CONSOLE_URL', 'WARREN_BROKER_SECRET_ARN']) delete process.env[name];
    });
    expect(outcome).toEqual({ status: 'SUCCESS', physicalId: 'warren-shard-drain', data: { Moved: '0', Deleted: '0', Left: '' }, calls: 1 });
    expect(await queueState(connection, `${queue}.0`)).toEqual(before);
    expect(await readOf()).toBe(readBefore);
  });

  it('never fails a Delete: a Secrets Manager error is tried again at the next call, and after giveUpMs it completes, reporting the error', async () => {
    let asked = 0;
    const failing = createShardDrainHandler(async () => { asked += 1; throw new Error('ThrottlingException: Rate exceeded'); }, { giveUpMs: 300 });
    const outcome = await runToCompletion(failing, drainDelete(4), { intervalMs: 100 });
    expect(outcome).toMatchObject({ status: 'SUCCESS', data: { Moved: '0', Deleted: '0', Left: 'error' } });
    expect(asked).toBeGreaterThanOrEqual(2);
  });

  it('does nothing on Create and Update (and the first isComplete call completes)', async () => {
    const create = { ...drainDelete(4), RequestType: 'Create' } as CloudFormationCustomResourceEvent;
    expect(await runToCompletion(drain, create)).toEqual({ status: 'SUCCESS', physicalId: 'warren-shard-drain', data: { Moved: '0', Deleted: '0', Left: '' }, calls: 1 });
  });
});
