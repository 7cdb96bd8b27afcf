/**
 * Contender `naive`: the consumer the issue calls unacceptable. amqplib with prefetch W (so W messages in flight, the
 * same concurrency as Warren's W workers), and a NEW mysql2 connection for every message, running the example app's
 * SQL in a transaction. Ack after COMMIT; on any error ROLLBACK and nack with requeue.
 */
import amqp from 'amqplib';
import mysql from 'mysql2/promise';
import { parseOrder } from '../../examples/orders/functions/orders.js';
import { exampleTransaction } from '../exampleTransaction.js';
import { inTransaction } from '../orders.js';
import type { ConsumerFactory } from './Consumer.js';

export const startNaive: ConsumerFactory = async (spec) => {
  const problems: string[] = [];
  let acked = 0;
  let connects = 0;
  let retries = 0;
  const connection = await amqp.connect(spec.amqpUrl);
  const channel = await connection.createChannel();
  await channel.prefetch(spec.workers);
  await channel.consume(spec.queue, (msg) => {
    if (msg === null) return;
    void (async () => {
      try {
        const order = parseOrder(JSON.parse(msg.content.toString('utf8')));
        const db = await mysql.createConnection({ uri: spec.databaseUrl });
        connects += 1;
        try {
          await inTransaction(db, async (query) => { await exampleTransaction(query, order); });
        } finally {
          await db.end().catch(() => db.destroy());
        }
        channel.ack(msg);
        acked += 1;
      } catch (error) {
        retries += 1;
        if (problems.length < 20) problems.push((error as Error).message);
        channel.nack(msg, false, true);
      }
    })();
  });
  return {
    processed: () => acked,
    workerPids: () => [],
    async stop() {
      await channel.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
      return { clientConnects: connects, retries, problems };
    },
  };
};
