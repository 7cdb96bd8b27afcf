import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import amqp, { type ChannelModel, type ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDeadLetters, replayDeadLetters } from '../../local/commands/deadLetters.js';
import { shardQueues } from '../../config/config.js';
import { QueueArgumentsMismatchError } from '../../topology/errors.js';
import { declareTopology } from '../../topology/topology.js';
import { AMQP_URL, deleteTopology, queueDepths, uniqueName, waitFor } from '../helpers/services.js';

const run = promisify(execFile);

/** Type and arguments of queues, as `rabbitmqctl list_queues` reports them. */
async function queueInfo(names: readonly string[]): Promise<Record<string, { type: string; arguments: Record<string, unknown> }>> {
  const { stdout } = await run('rabbitmqctl', ['list_queues', '-q', '-p', '/', 'name', 'type', 'arguments', '--formatter', 'json']);
  const rows = JSON.parse(stdout) as { name: string; type: string; arguments: unknown }[];
  const out: Record<string, { type: string; arguments: Record<string, unknown> }> = {};
  for (const row of rows.filter((r) => names.includes(r.name))) {
    const args: Record<string, unknown> = {};
    if (Array.isArray(row.arguments)) for (const [k, , v] of row.arguments as [string, string, unknown][]) args[k] = v;
    else Object.assign(args, row.arguments);
    out[row.name] = { type: row.type, arguments: args };
  }
  return out;
}

/** Consumes `count` messages from `queue` on a fresh channel (prefetch `count`), unacked. */
async function take(queue: string, count: number): Promise<{ messages: ConsumeMessage[]; channel: amqp.Channel }> {
  const channel = await connection.createChannel();
  await channel.prefetch(count);
  const messages: ConsumeMessage[] = [];
  await channel.consume(queue, (m) => { if (m !== null) messages.push(m); });
  await waitFor(`${count} messages from ${queue}`, () => messages.length >= count, 10_000, 20);
  return { messages, channel };
}

let connection: ChannelModel;
const created: string[] = [];

beforeAll(async () => { connection = await amqp.connect(AMQP_URL); });
afterAll(async () => {
  for (const q of created) await deleteTopology(q, 6);
  await connection.close();
});

async function publishKeys(exchange: string, keys: string[]): Promise<void> {
  const channel = await connection.createConfirmChannel();
  for (const key of keys) channel.publish(exchange, key, Buffer.from(key), { persistent: true });
  await channel.waitForConfirms();
  await channel.close();
}

describe('Function: declareTopology()', () => {
  it('declares the exchange and N shard queues, idempotently', async () => {
    const queue = uniqueName('topo');
    created.push(queue);
    const first = await declareTopology(connection, { queue, concurrency: 3 });
    const second = await declareTopology(connection, { queue, concurrency: 3 });
    expect(first.plan).toEqual({ exchange: queue, shards: [`${queue}.0`, `${queue}.1`, `${queue}.2`], deadLetterQueue: `${queue}.dlq` });
    expect(await queueDepths([`${queue}.dlq`])).toEqual([0]);
    expect(second.orphans).toEqual([]);
    expect(await queueDepths(first.plan.shards)).toEqual([0, 0, 0]);
  });

  it('sends every message of one key to the same shard and spreads many keys over all shards', async () => {
    const queue = uniqueName('topo');
    created.push(queue);
    const { plan } = await declareTopology(connection, { queue, concurrency: 4 });
    await publishKeys(queue, Array.from({ length: 50 }, () => 'customer-42'));
    const depths = await waitFor('50 messages routed', async () => {
      const d = await queueDepths(plan.shards);
      return d.reduce((a, b) => a + b, 0) === 50 ? d : undefined;
    }, 5_000);
    expect(depths.filter((d) => d === 50)).toHaveLength(1);
    expect(depths.filter((d) => d === 0)).toHaveLength(3);
    await publishKeys(queue, Array.from({ length: 400 }, (_, i) => `key-${i}`));
    const spread = await waitFor('450 routed', async () => {
      const d = await queueDepths(plan.shards);
      return d.reduce((a, b) => a + b, 0) === 450 ? d : undefined;
    }, 5_000);
    expect(spread.every((d) => d > 0)).toBe(true);
  });

  it('unbinds shard queues left over from a larger concurrency, so no new message reaches them', async () => {
    const queue = uniqueName('topo');
    created.push(queue);
    await declareTopology(connection, { queue, concurrency: 4 });
    const { orphans } = await declareTopology(connection, { queue, concurrency: 2 });
    expect(orphans).toEqual([`${queue}.2`, `${queue}.3`]);
    await publishKeys(queue, Array.from({ length: 200 }, (_, i) => `k${i}`));
    const depths = await waitFor('200 routed', async () => {
      const d = await queueDepths(shardQueues({ queue, concurrency: 4 }));
      return d[0]! + d[1]! === 200 ? d : undefined;
    }, 5_000);
    expect(depths.slice(2)).toEqual([0, 0]);
  });
});

describe('Function: declareTopology(): queue arguments', () => {
  it('declares shard queues as quorum queues with the delivery limit, broker dead-lettering to <queue>.dlq and a single active consumer', async () => {
    const queue = uniqueName('topo');
    created.push(queue);
    await declareTopology(connection, { queue, concurrency: 2, deliveryLimit: 7 });
    const info = await queueInfo([`${queue}.0`, `${queue}.1`, `${queue}.dlq`]);
    const shardArgs = {
      'x-queue-type': 'quorum', 'x-delivery-limit': 7, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': `${queue}.dlq`,
      'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish', 'x-single-active-consumer': true,
    };
    expect(info[`${queue}.0`]).toEqual({ type: 'quorum', arguments: shardArgs });
    expect(info[`${queue}.1`]).toEqual({ type: 'quorum', arguments: shardArgs });
    expect(info[`${queue}.dlq`]).toEqual({ type: 'quorum', arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 1_000_000 } });
  });

  it('refuses a classic shard queue left by an older Warren with an error that names the queue, the argument and the fix', async () => {
    const queue = uniqueName('topo');
    created.push(queue);
    const setup = await connection.createChannel();
    await setup.assertQueue(`${queue}.0`, { durable: true });
    await setup.close();
    const error = await declareTopology(connection, { queue, concurrency: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueArgumentsMismatchError);
    const mismatch = error as QueueArgumentsMismatchError;
    expect(mismatch.queue).toBe(`${queue}.0`);
    expect(mismatch.vhost).toBe('/');
    expect(mismatch.argument).toBe('x-dead-letter-exchange');
    expect(mismatch.has).toBe('not set');
    expect(mismatch.wants).toBe('"" (longstr)');
    expect(mismatch.message).toContain('"x-queue-type":"quorum"');
    expect(mismatch.message).toContain(`rabbitmqctl delete_queue -p '/' '${queue}.0' --if-empty`);
    // the connection survives the refused declaration (only its channel closed): declaring again works once it is gone
    const cleanup = await connection.createChannel();
    await cleanup.deleteQueue(`${queue}.0`);
    await cleanup.close();
    await expect(declareTopology(connection, { queue, concurrency: 1 })).resolves.toMatchObject({ orphans: [] });
  });

  it('refuses a shard queue declared with another delivery limit, naming both values', async () => {
    const queue = uniqueName('topo');
    created.push(queue);
    await declareTopology(connection, { queue, concurrency: 1, deliveryLimit: 50 });
    const error = await declareTopology(connection, { queue, concurrency: 1, deliveryLimit: 10 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueArgumentsMismatchError);
    expect((error as QueueArgumentsMismatchError).argument).toBe('x-delivery-limit');
    expect((error as QueueArgumentsMismatchError).has).toBe('50');
    expect((error as QueueArgumentsMismatchError).wants).toBe('10');
  });

  it('returns a requeued run of messages to the head of the shard queue in their order', async () => {
    const queue = uniqueName('topo');
    created.push(queue);
    await declareTopology(connection, { queue, concurrency: 1 });
    const sent = Array.from({ length: 30 }, (_, i) => `m${String(i).padStart(2, '0')}`);
    const publisher = await connection.createConfirmChannel();
    for (const body of sent) publisher.publish(queue, 'same-key', Buffer.from(body), { persistent: true });
    await publisher.waitForConfirms();
    await publisher.close();
    const first = await take(`${queue}.0`, 10);
    expect(first.messages).toHaveLength(10);
    first.channel.nack(first.messages[9]!, true, true); // the runner's requeue: everything up to the last one received
    await first.channel.close(); // and whatever else it held (none here)
    const again = await take(`${queue}.0`, 30);
    expect(again.messages.map((m) => m.content.toString())).toEqual(sent);
    expect(again.messages.slice(0, 10).every((m) => m.fields.redelivered)).toBe(true);
    await again.channel.close();
  });

  it('dead-letters a message returned more often than the delivery limit into <queue>.dlq, where dlq list shows it and replay sends it back through the exchange', async () => {
    const queue = uniqueName('topo');
    created.push(queue);
    await declareTopology(connection, { queue, concurrency: 1, deliveryLimit: 2 });
    const publisher = await connection.createConfirmChannel();
    publisher.publish(queue, 'customer-7', Buffer.from('{"n":1}'), { persistent: true, messageId: 'poison-1' });
    await publisher.waitForConfirms();
    await publisher.close();
    // three deliveries, each returned unacked (the way a worker that crashes on it returns it): the third return is one too many
    for (let i = 0; i < 3; i += 1) {
      const { messages, channel } = await take(`${queue}.0`, 1);
      expect(messages[0]!.properties.headers?.['x-delivery-count'] ?? 0).toBe(i);
      await channel.close();
    }
    const letters = await waitFor('the letter in the dead-letter queue', async () => {
      const list = await listDeadLetters(AMQP_URL, `${queue}.dlq`);
      return list.length === 1 ? list : undefined;
    }, 10_000);
    expect(await queueDepths([`${queue}.0`])).toEqual([0]);
    expect(letters[0]).toMatchObject({
      messageId: 'poison-1', messageKey: 'customer-7', sourceQueue: `${queue}.0`, errorClass: 'BrokerDeadLetter', kind: 'broker',
      replayTo: { exchange: queue, routingKey: 'customer-7' },
    });
    expect(letters[0]!.reason).toMatch(/^delivery_limit: returned to its shard queue more often than/);
    expect(await listDeadLetters(AMQP_URL, `${queue}.dlq`)).toHaveLength(1); // listing leaves it there
    const replayed = await replayDeadLetters(AMQP_URL, `${queue}.dlq`);
    expect(replayed.map((e) => e.messageId)).toEqual(['poison-1']);
    const back = await take(`${queue}.0`, 1);
    expect(back.messages[0]!.properties.messageId).toBe('poison-1');
    expect(back.messages[0]!.properties.headers?.['x-death']).toBeUndefined();
    expect(back.messages[0]!.properties.headers?.['x-warren-replayed-at']).toEqual(expect.any(String));
    back.channel.ack(back.messages[0]!);
    await back.channel.close();
    expect(await queueDepths([`${queue}.dlq`])).toEqual([0]);
  });
});
