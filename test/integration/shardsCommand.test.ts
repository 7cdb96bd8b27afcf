/** `npm run shards -- status|drain` (local/commands/shardsCommand.ts) against the real broker. */
import amqp, { type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardsCommand } from '../../local/commands/shardsCommand.js';
import { resolveConfig } from '../../config/config.js';
import { declareTopology } from '../../topology/topology.js';
import { AMQP_URL, deleteTopology, queueDepths, uniqueName } from '../helpers/services.js';

let connection: ChannelModel;
const created: string[] = [];
beforeAll(async () => { connection = await amqp.connect(AMQP_URL); });
afterAll(async () => {
  for (const q of created) await deleteTopology(q, 4);
  await connection.close();
});

const configFor = (queue: string, concurrency: number) => resolveConfig({ handlers: [{ name: 'orders', entry: 'test/fixtures/orders.ts', queue, concurrency }] });

async function run(queue: string, concurrency: number, action: string): Promise<string> {
  let text = '';
  expect(await shardsCommand(AMQP_URL, configFor(queue, concurrency), 'test.config.ts', action, [], (t) => { text += t; })).toBe(0);
  return text;
}

async function publish(exchange: string, count: number): Promise<void> {
  const channel = await connection.createConfirmChannel();
  for (let i = 0; i < count; i += 1) channel.publish(exchange, `key-${i}`, Buffer.from('{}'), { persistent: true, messageId: `m-${i}` });
  await channel.waitForConfirms();
  await channel.close();
}

describe('Command: shards status and drain', () => {
  it('shows surplus shards holding messages with no consumer, and drain moves them onto the kept shards and deletes them', async () => {
    const queue = uniqueName('t_shards');
    created.push(queue);
    await declareTopology(connection, { queue, concurrency: 4 });
    await publish(queue, 200);
    const [, , d2, d3] = await queueDepths([0, 1, 2, 3].map((i) => `${queue}.${i}`));
    expect(d2! + d3!).toBeGreaterThan(0);

    const status = await run(queue, 2, 'status');
    expect(status).toContain(`orders: exchange "${queue}", concurrency 2, vhost "/"`);
    expect(status).toMatch(new RegExp(`${queue}\\.2 +${d2} +0  surplus with NO consumer: npm run shards -- drain --handler orders`));
    expect(status).toMatch(new RegExp(`${queue}\\.3 +${d3} +0  surplus with NO consumer`));
    expect(status).toContain('200 ready message(s) in shard queues without a consumer');

    const drained = await run(queue, 2, 'drain');
    expect(drained).toBe(`${queue}.2: moved ${d2} message(s) back through exchange "${queue}", deleted\n${queue}.3: moved ${d3} message(s) back through exchange "${queue}", deleted\n`);
    const [k0, k1] = await queueDepths([`${queue}.0`, `${queue}.1`]);
    expect(k0! + k1!).toBe(200);
    expect(await run(queue, 2, 'status')).not.toContain('surplus');
    expect(await run(queue, 2, 'drain')).toBe('orders: no surplus shard\n');
  });

  it('leaves a queue named like a surplus shard alone when it is not one of Warren\'s shard queues', async () => {
    const queue = uniqueName('t_shards');
    created.push(queue);
    await declareTopology(connection, { queue, concurrency: 1 });
    const channel = await connection.createChannel();
    await channel.assertQueue(`${queue}.1`, { durable: true }); // a classic queue someone else made
    channel.sendToQueue(`${queue}.1`, Buffer.from('theirs'));
    await channel.close();
    expect(await run(queue, 1, 'drain')).toBe(`${queue}.1: skipped, not a Warren shard queue of this handler (other arguments): left alone\n`);
    expect(await queueDepths([`${queue}.1`])).toEqual([1]);
  });

  it('rejects an unknown action and an unknown handler, naming them', async () => {
    await expect(shardsCommand(AMQP_URL, configFor('x', 1), 'warren.config.ts', 'move', [], () => undefined)).rejects.toThrow('shards expects "status" or "drain", received "move"');
    await expect(shardsCommand(AMQP_URL, configFor('x', 1), 'warren.config.ts', 'status', ['nope'], () => undefined)).rejects.toThrow('--handler nope: no such handler in warren.config.ts (have: orders)');
  });
});
