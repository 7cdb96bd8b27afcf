/**
 * Contenders `single`, `single-cpu` and `single-many`: what a Node developer writes by hand. One process, one amqplib channel with a
 * prefetch, a mysql2 pool of W connections; each message runs the example app's SQL in its own transaction on a pooled
 * connection, acked after COMMIT, nacked with requeue on error. The CPU-heavy variant does its `cpuWork` before taking
 * a connection (the kindest place for a pool).
 */
import amqp from 'amqplib';
import mysql from 'mysql2/promise';
import { parseOrder } from '../../examples/orders/functions/orders.js';
import { cpuWork } from '../handlers/cpuWork.js';
import { exampleTransaction } from '../exampleTransaction.js';
import { inTransaction } from '../orders.js';
import { shardQueues } from '../protocol.js';
import type { ConsumerFactory } from './Consumer.js';

export const startSingle: ConsumerFactory = async (spec) => {
  const problems: string[] = [];
  let acked = 0;
  let connects = 0;
  let retries = 0;
  const pool = mysql.createPool({ uri: spec.databaseUrl, connectionLimit: spec.workers });
  pool.pool.on('connection', () => { connects += 1; });
  const connection = await amqp.connect(spec.amqpUrl);
  const channel = await connection.createChannel();
  await channel.prefetch(spec.prefetch ?? 50);
  const cpuRows = spec.cpuRows;
  // Deliveries that arrive while the consumers are still being registered wait here: with 200 queues (`single-many`) the
  // first queues used to drain the whole backlog before the factory returned, and the bench's clock (which starts when
  // it returns) measured nothing (it printed -27,019 msg/s). The runner too starts work once its consumers are attached.
  let held: amqp.ConsumeMessage[] | undefined = [];
  const onMessage = (msg: amqp.ConsumeMessage | null): void => {
    if (msg === null) return;
    if (held !== undefined) { held.push(msg); return; }
    handle(msg);
  };
  const handle = (msg: amqp.ConsumeMessage): void => {
    void (async () => {
      try {
        const order = parseOrder(JSON.parse(msg.content.toString('utf8')));
        if (cpuRows !== undefined) cpuWork(order.orderId, cpuRows);
        const db = await pool.getConnection();
        try {
          await inTransaction(db, async (query) => { await exampleTransaction(query, order); });
        } finally {
          db.release();
        }
        channel.ack(msg);
        acked += 1;
      } catch (error) {
        retries += 1;
        if (problems.length < 20) problems.push((error as Error).message);
        channel.nack(msg, false, true);
      }
    })();
  };
  // `single-many`: every handler's shard queue on the one channel (prefetch per consumer), else the one queue.
  const queues = spec.handlers === undefined ? [spec.queue] : shardQueues(spec).queues;
  for (const queue of queues) await channel.consume(queue, onMessage);
  const waiting = held;
  held = undefined;
  waiting.forEach(handle);
  return {
    processed: () => acked,
    workerPids: () => [],
    async stop() {
      await channel.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
      return { clientConnects: connects, retries, problems };
    },
  };
};
