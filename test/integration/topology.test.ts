import amqp, { type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardQueues } from '../../runtime/config.js';
import { declareTopology } from '../../runtime/topology.js';
import { AMQP_URL, deleteTopology, queueDepths, uniqueName, waitFor } from '../helpers/services.js';

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
