/**
 * What a broker user may do with the permissions a replying handler gets, measured on the local RabbitMQ (docs/request-
 * and-reply.md, "Broker permissions", cites these results). A user with write on `amq.default` can publish into any
 * queue of the vhost by name; a user with write on a dedicated reply exchange reaches only the queues bound to it, and
 * cannot answer direct reply-to through it. The vhost, queues, exchange and users are this file's own, removed at the end.
 */
import amqp from 'amqplib';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerAppPermissions } from '../../topology/brokerPermissions.js';
import { resolveConfig } from '../../config/config.js';
import { AMQP_URL, waitFor } from '../helpers/services.js';

const MANAGEMENT = process.env.WARREN_TEST_MANAGEMENT_URL ?? 'http://127.0.0.1:15672';
const ADMIN = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
const suffix = randomBytes(4).toString('hex');
const vhost = `warren-replyperm-${suffix}`;
const replier = { username: `wreply_${suffix}`, password: `pw-${randomBytes(8).toString('hex')}` };
const narrow = { username: `wreplyx_${suffix}`, password: `pw-${randomBytes(8).toString('hex')}` };
const host = new URL(AMQP_URL).host;
const urlFor = (user: { username: string; password: string }) => `amqp://${user.username}:${user.password}@${host}/${encodeURIComponent(vhost)}`;
const adminUrl = `${AMQP_URL}/${encodeURIComponent(vhost)}`;

async function management(method: string, path: string, body?: unknown): Promise<number> {
  const response = await fetch(`${MANAGEMENT}${path}`, { method, headers: { authorization: ADMIN, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return response.status;
}

/** Publishes one message as `user`; resolves 'confirmed', 'returned' (mandatory, no queue) or the channel error's text. */
async function tryPublish(user: { username: string; password: string }, exchange: string, routingKey: string): Promise<string> {
  const connection = await amqp.connect(urlFor(user));
  try {
    const channel = await connection.createConfirmChannel();
    let outcome = 'confirmed';
    channel.on('return', () => { outcome = 'returned'; });
    const closed = new Promise<string>((resolve) => channel.on('error', (error: Error) => resolve(error.message.includes('ACCESS_REFUSED') ? 'ACCESS_REFUSED' : error.message)));
    channel.publish(exchange, routingKey, Buffer.from('{}'), { mandatory: true });
    return await Promise.race([channel.waitForConfirms().then(() => outcome), closed]);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

async function depth(queue: string): Promise<number> {
  const connection = await amqp.connect(adminUrl);
  try {
    return (await (await connection.createChannel()).checkQueue(queue)).messageCount;
  } finally {
    await connection.close();
  }
}

const config = resolveConfig({ handlers: [{ name: 'orders', entry: 'functions/orders.ts', queue: 'orders', vhost, replies: true }] });

beforeAll(async () => {
  expect(await management('PUT', `/api/vhosts/${encodeURIComponent(vhost)}`)).toBeLessThan(300);
  await management('PUT', `/api/permissions/${encodeURIComponent(vhost)}/guest`, { configure: '.*', write: '.*', read: '.*' });
  const [permissions] = brokerAppPermissions(config.handlers);
  for (const [user, write] of [[replier, permissions!.write], [narrow, '^warren\\.replies$']] as const) {
    await management('PUT', `/api/users/${user.username}`, { password: user.password, tags: '' });
    await management('PUT', `/api/permissions/${encodeURIComponent(vhost)}/${user.username}`, { configure: '^$', write, read: '^$' });
  }
  const connection = await amqp.connect(adminUrl);
  const channel = await connection.createChannel();
  for (const q of ['orders.0', 'orders.dlq', 'caller-replies']) await channel.assertQueue(q, { durable: false });
  await channel.assertExchange('warren.replies', 'direct', { durable: false });
  await channel.bindQueue('caller-replies', 'warren.replies', 'caller-replies');
  await connection.close();
}, 30_000);
afterAll(async () => {
  for (const user of [replier, narrow]) await management('DELETE', `/api/users/${user.username}`);
  await management('DELETE', `/api/vhosts/${encodeURIComponent(vhost)}`);
});

describe('Broker permissions of a replying handler (measured on the local RabbitMQ)', () => {
  it('gives the replies: true user write on amq.default, which reaches any queue of the vhost by name: shards and dead letters too', async () => {
    expect(brokerAppPermissions(config.handlers)[0]!.write).toBe('^(?:amq\\.default)$');
    expect(await tryPublish(replier, '', 'caller-replies')).toBe('confirmed');
    expect(await tryPublish(replier, '', 'orders.0')).toBe('confirmed');
    expect(await tryPublish(replier, '', 'orders.dlq')).toBe('confirmed');
    await waitFor('the three messages queued', async () => (await depth('caller-replies')) === 1 && (await depth('orders.0')) === 1 && (await depth('orders.dlq')) === 1, 10_000);
    expect(await tryPublish(replier, 'warren.replies', 'caller-replies')).toBe('ACCESS_REFUSED');
  });

  it('confines a user with write on a dedicated reply exchange to the queues bound to it, and cannot reach direct reply-to that way', async () => {
    expect(await tryPublish(narrow, 'warren.replies', 'caller-replies')).toBe('confirmed');
    expect(await tryPublish(narrow, 'warren.replies', 'orders.0')).toBe('returned');
    expect(await tryPublish(narrow, 'warren.replies', 'amq.rabbitmq.reply-to.g1h2AA1yZXBseUA5MjQ4ODg0AAADEQAAAABrFmEF.66FIqxWVFephPR99Jgm51A==')).toBe('returned');
    expect(await tryPublish(narrow, '', 'orders.0')).toBe('ACCESS_REFUSED');
    await waitFor('one more reply queued, nothing in the shard', async () => (await depth('caller-replies')) === 2 && (await depth('orders.0')) === 1, 10_000);
  });
});
