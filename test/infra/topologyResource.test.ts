/**
 * The code the topology custom resource runs, against the local RabbitMQ. Only Secrets Manager is replaced (it cannot
 * exist here): the secret reader hands back the local broker's user.
 */
import amqp, { type ChannelModel } from 'amqplib';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../config/config.js';
import type { SecretReader } from '../../runtime/amqp/brokerSecret.js';
import { connectWithRetry, ensureVhost } from '../../lib/functions/brokerConnect.js';
import { createTopologyHandler, declareAll, TOPOLOGY_PHYSICAL_ID } from '../../lib/functions/topologyResource.js';
import { topologyPlan } from '../../topology/topology.js';
import { frameworkSuccessBody, responseProblems } from '../helpers/cfnResponse.js';
import { WarrenError } from '../../runtime/errors.js';
import { startTcpProxy } from '../helpers/tcpProxy.js';
import { waitFor } from '../helpers/services.js';
import http from 'node:http';
import net from 'node:net';

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
    expect(result.PhysicalResourceId).toBe('warren-topology');
    const shards = [`warren-cr-orders-${suffix}.0`, `warren-cr-orders-${suffix}.1`, `warren-cr-orders-${suffix}.2`, `warren-cr-audit-${suffix}.0`];
    expect(result.Data).toEqual({ QueueCount: 4, OrphanCount: 0, QueuesSha256: createHash('sha256').update(shards.join(',')).digest('hex') });
    expect(secretsRead).toEqual(['arn:aws:secretsmanager:us-east-1:111122223333:secret:broker-AbCdEf']);
    for (const queue of shards) expect(await messageCount(queue)).toBe(0);

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
    expect(update.Data.OrphanCount).toBe(0);
    expect(await Promise.all([0, 1, 2].map((i) => messageCount(`warren-cr-orders-${suffix}.${i}`)))).toEqual(before);
  });

  it('reports the shard queues left over when an Update lowers the concurrency', async () => {
    const fewer = handlers.map((h) => (h.name === 'orders' ? { ...h, concurrency: 2 } : h));
    const result = await onEvent(event('Update', fewer));
    expect(result.Data).toMatchObject({ QueueCount: 3, OrphanCount: 1 });
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

describe('Function: topology custom resource connects right after the broker turns RUNNING', () => {
  const quick = { connectTimeoutMs: 500, baseDelayMs: 50, maxDelayMs: 200 };

  it('retries refused connections with backoff and declares once the broker accepts them', async () => {
    const proxy = await startTcpProxy(5672);
    proxy.pause(); // the listener closes every new connection, as a broker that is still starting
    const only = handlers.filter((h) => h.name === 'audit');
    // The broker "finishes starting" once three connections were refused: the retry loop has been seen at work.
    void waitFor('three refused connections', () => proxy.accepted >= 3, 20_000, 10).then(() => proxy.resume());
    try {
      const result = await declareAll(`amqp://127.0.0.1:${proxy.port}`, { username: 'guest', password: 'guest' }, only, { ...quick, retryForMs: 30_000 });
      expect(result.queues).toEqual([`warren-cr-audit-${suffix}.0`]);
      expect(proxy.accepted).toBeGreaterThan(1);
    } finally {
      await proxy.close();
    }
  });

  it('times out a connect that never answers and fails with the last error once the retry time is spent', async () => {
    const silent = net.createServer(() => undefined); // accepts, never speaks AMQP
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const act = declareAll(`amqp://127.0.0.1:${port}`, { username: 'guest', password: 'guest' }, handlers, { ...quick, retryForMs: 1_500 });
      await expect(act).rejects.toThrow(WarrenError);
      await expect(act).rejects.toThrow(new RegExp(`^Could not connect to amqp://127\\.0\\.0\\.1:${port} vhost "/" within 1500 ms \\(\\d+ attempts\\): `));
    } finally {
      silent.close();
    }
  });

  it('does not retry a refused login', async () => {
    let attempts = 0;
    const act = connectWithRetry(async () => { attempts += 1; throw new Error('Handshake terminated by server: 403 (ACCESS-REFUSED)'); }, 'broker', { ...quick, retryForMs: 5_000 });
    await expect(act).rejects.toThrow('403 (ACCESS-REFUSED)');
    expect(attempts).toBe(1);
  });
});

describe('Function: ensureVhost()', () => {
  it('creates the vhost and grants the broker user on it through the management API (PUT, basic auth)', async () => {
    const seen: { method: string; url: string; auth: string; body: unknown }[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization ?? '', body: JSON.parse(body) as unknown });
        res.writeHead(seen.length === 1 ? 201 : 204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      await ensureVhost(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`, { username: 'warren', password: 's3cret' }, 'jobs/eu');
      expect(seen).toEqual([
        { method: 'PUT', url: '/api/vhosts/jobs%2Feu', auth: `Basic ${Buffer.from('warren:s3cret').toString('base64')}`, body: { description: 'Warren' } },
        { method: 'PUT', url: '/api/permissions/jobs%2Feu/warren', auth: `Basic ${Buffer.from('warren:s3cret').toString('base64')}`, body: { configure: '.*', write: '.*', read: '.*' } },
      ]);
    } finally {
      server.close();
    }
  });

  it('fails with the HTTP status when the management API refuses, without retrying', async () => {
    let calls = 0;
    const server = http.createServer((_req, res) => { calls += 1; res.writeHead(401).end(); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      await expect(ensureVhost(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, { username: 'warren', password: 'x' }, 'jobs'))
        .rejects.toThrow('management API refused /api/vhosts/jobs (HTTP 401, 403): the broker user needs the administrator tag');
      expect(calls).toBe(1);
    } finally {
      server.close();
    }
  });
});

describe('Function: topology custom resource response size (CloudFormation caps the whole body at 4,096 bytes)', () => {
  // The declaration is replaced by the plan's own queue names: 1,000 quorum queues are too many for a shared test
  // broker, and the size of the response depends only on what onEvent returns for them.
  const planned: typeof declareAll = async (_endpoint, _credentials, hs) => ({ queues: hs.flatMap((h) => topologyPlan(h).shards), orphans: [] });
  const sized = createTopologyHandler(localSecret, {}, planned);
  const stackId = 'arn:aws:cloudformation:eu-central-1:111122223333:stack/warren-production-application/0f4c8f30-b1a2-11ef-9f3c-0a1b2c3d4e5f';

  async function bodyFor(hs: unknown, requestType: 'Create' | 'Update'): Promise<string> {
    const e = { ...event(requestType, hs), StackId: stackId, RequestId: '8b0c9f6e-1d3a-4c6e-9f1b-2a7d5e4c3b21' } as CloudFormationCustomResourceEvent;
    return frameworkSuccessBody(e, await sized(e));
  }

  it('stays under 4,096 bytes with 200 handlers whose names are 40 characters long', async () => {
    const many = resolveConfig({ handlers: Array.from({ length: 200 }, (_, i) => {
      const name = `consumer-with-a-long-descriptive-name-${String(i).padStart(3, '0')}`;
      return { name, entry: 'functions/orders.ts', queue: name, concurrency: 2 };
    }) }).handlers;
    expect(many[199]?.queue).toHaveLength(41);
    for (const requestType of ['Create', 'Update'] as const) {
      const body = await bodyFor(many, requestType);
      expect(responseProblems(body)).toEqual([]);
      expect(JSON.parse(body)).toMatchObject({ PhysicalResourceId: 'warren-topology', Data: { QueueCount: 400, OrphanCount: 0 } });
    }
  });

  it('stays under 4,096 bytes with one handler at concurrency 1,000', async () => {
    const one = resolveConfig({ handlers: [{ name: 'orders', entry: 'functions/orders.ts', queue: 'orders-placed-by-customers-in-the-web-shop', concurrency: 1000 }] }).handlers;
    const body = await bodyFor(one, 'Create');
    expect(responseProblems(body)).toEqual([]);
    expect(JSON.parse(body)).toMatchObject({ PhysicalResourceId: 'warren-topology', Data: { QueueCount: 1000 } });
  });
});
