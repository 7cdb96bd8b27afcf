/**
 * ctx.reply through defineHandler() as the Lambda runtime runs it (in-process `aws:rmq` events), against the real
 * RabbitMQ and MariaDB: the caller is an amqplib client with a named reply queue or direct reply-to.
 */
import amqp, { type ConsumeMessage, type GetMessage } from 'amqplib';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineHandler } from '../../runtime/defineHandler.js';
import { closeProcessConnection } from '../../runtime/db/processConnection.js';
import type { RmqEvent, RmqMessage } from '../../runtime/event.js';
import { AmqpPublisher } from '../../runtime/outbox/Publisher.js';
import { replyAddress } from '../../runtime/outbox/replies.js';
import { drainQueue, headerText } from '../helpers/amqp.js';
import { RecordingSink } from '../helpers/fakes.js';
import { AMQP_URL, createTestDatabase, uniqueName, waitFor, type TestDatabase } from '../helpers/services.js';

interface Req { sku: string; quantity: number; failOnce?: string; noReply?: boolean }

let db: TestDatabase;
let connection: amqp.ChannelModel;
let channel: amqp.Channel;
const queues: string[] = [];
const exchanges: string[] = [];
const sink = new RecordingSink();
const publisher = new AmqpPublisher(async () => AMQP_URL);
const failedOnce = new Set<string>();

/** Not idempotent on its own: each run adds the quantity to the sku's total. Replies with the new total. */
const handle = async (message: { body: Req; messageId: string | null }, query: (sql: string, values?: unknown[]) => Promise<{ rows: RowDataPacket[] }>, reply: (body: unknown) => Promise<void>) => {
  const { sku, quantity } = message.body;
  await query('INSERT INTO totals (sku, total) VALUES (?, ?) ON DUPLICATE KEY UPDATE total = total + VALUES(total)', [sku, quantity]);
  const { rows } = await query('SELECT total FROM totals WHERE sku = ?', [sku]);
  if (message.body.noReply !== true) await reply({ sku, total: Number(rows[0]?.total) });
  if (message.body.failOnce !== undefined && !failedOnce.has(message.body.failOnce)) {
    failedOnce.add(message.body.failOnce);
    throw new Error('transient failure after replying'); // unknown errors are transient: retried in the invocation
  }
};

const schema = {
  '~standard': {
    version: 1 as const,
    vendor: 'test',
    validate: (value: unknown) => (typeof value === 'object' && value !== null && typeof (value as Req).sku === 'string' && typeof (value as Req).quantity === 'number'
      ? { value: value as Req }
      : { issues: [{ message: 'expected { sku: string, quantity: number }', path: ['sku'] }] }),
  },
};

const perMessage = defineHandler<Req>({
  name: 'reply-test',
  schema,
  publisher,
  deadLetter: sink,
  retryBackoffBaseMs: 1,
  async handle(message, { query, reply }) {
    await handle(message, query, reply);
  },
});

const batched = defineHandler<Req>({
  name: 'reply-batch-test',
  schema,
  publisher,
  deadLetter: sink,
  async handleBatch(messages, ctx) {
    for (const m of messages) await handle(m, ctx.query, (body) => ctx.reply(m, body));
  },
});

/** Always fails transiently: Warren counts its failed deliveries and dead-letters it at the second. */
const poison = defineHandler<{ n: number }>({
  name: 'reply-poison-test',
  publisher,
  deadLetter: sink,
  attempts: 1,
  maxDeliveries: 2,
  async handle(_message, { reply }) {
    await reply({ never: 'sent' });
    throw new Error('the database of a partner is down');
  },
});

const strict = defineHandler<{ n: number }>({
  name: 'reply-strict-test',
  publisher,
  deadLetter: sink,
  async handle(_message, { reply }) {
    await reply({ ok: true });
  },
});

function request(body: unknown, options: { messageId?: string | null; replyTo?: string | null; correlationId?: string | null }): RmqMessage {
  return {
    basicProperties: {
      contentType: 'application/json', contentEncoding: null, headers: {}, deliveryMode: 2, priority: null,
      correlationId: options.correlationId ?? null, replyTo: options.replyTo ?? null, expiration: null,
      messageId: options.messageId === undefined ? uniqueName('m') : options.messageId, timestamp: null, type: null, userId: null, appId: null, clusterId: null, bodySize: 0,
    },
    redelivered: false,
    data: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)).toString('base64'),
  } as RmqMessage;
}

function event(messages: RmqMessage[]): RmqEvent {
  return { eventSource: 'aws:rmq', eventSourceArn: 'arn:aws:mq:us-east-1:000000000000:broker:test:b-1', rmqMessagesByQueue: { 'reply-test.0::/': messages } } as RmqEvent;
}

async function replyQueue(): Promise<string> {
  const q = uniqueName('replies');
  await channel.assertQueue(q, { durable: false });
  queues.push(q);
  return q;
}

async function takeAll(queue: string, expected: number): Promise<GetMessage[]> {
  const got: GetMessage[] = [];
  await waitFor(`${expected} message(s) on ${queue}`, async () => { got.push(...(await drainQueue(queue))); return got.length >= expected; }, 10_000);
  return got;
}

const json = (m: { content: Buffer }) => JSON.parse(m.content.toString('utf8')) as unknown;

beforeAll(async () => {
  db = await createTestDatabase({ schema: false });
  await db.query('CREATE TABLE $db.totals (sku VARCHAR(64) PRIMARY KEY, total INT NOT NULL)');
  await closeProcessConnection();
  process.env.DATABASE_URL = db.url;
  connection = await amqp.connect(AMQP_URL);
  channel = await connection.createChannel();
});
afterAll(async () => {
  for (const q of queues) await channel.deleteQueue(q).catch(() => undefined);
  for (const e of exchanges) await channel.deleteExchange(e).catch(() => undefined);
  await connection.close().catch(() => undefined);
  await publisher.close();
  await closeProcessConnection();
  await db.drop();
});

describe('ctx.reply on the Lambda runtime (defineHandler, real RabbitMQ and MariaDB)', () => {
  it('answers a request on its named reply queue with its correlation id, once per message, after the commit', async () => {
    const q = await replyQueue();
    const summary = await perMessage(event([
      request({ sku: 'a', quantity: 2 }, { messageId: 'r1', replyTo: q, correlationId: 'c1' }),
      request({ sku: 'a', quantity: 3 }, { messageId: 'r2', replyTo: q }),
    ]));
    expect(summary).toMatchObject({ committed: 2, published: 2, repliesDropped: 0 });
    const replies = await takeAll(q, 2);
    expect(replies.map(json)).toEqual([{ sku: 'a', total: 2 }, { sku: 'a', total: 5 }]);
    expect(replies.map((m) => [m.fields.exchange, m.properties.correlationId, m.properties.messageId, m.properties.contentType]))
      .toEqual([['', 'c1', 'r1/reply', 'application/json'], ['', 'r2', 'r2/reply', 'application/json']]);
  });

  it('answers a retried request (same message id, new reply queue, new correlation id) with the kept reply and does not apply it again', async () => {
    const first = await replyQueue();
    const second = await replyQueue();
    await perMessage(event([request({ sku: 'retry', quantity: 7 }, { messageId: 'retry-1', replyTo: first, correlationId: 'try-1' })]));
    const again = await perMessage(event([request({ sku: 'retry', quantity: 7 }, { messageId: 'retry-1', replyTo: second, correlationId: 'try-2' })]));
    expect(again).toMatchObject({ committed: 0, deduplicated: 1, published: 1 });
    const [original] = await takeAll(first, 1);
    const [repeated] = await takeAll(second, 1);
    expect(json(original!)).toEqual({ sku: 'retry', total: 7 });
    expect(json(repeated!)).toEqual({ sku: 'retry', total: 7 });
    expect(repeated!.properties.correlationId).toBe('try-2');
    const rows = await db.query<RowDataPacket[]>("SELECT total FROM $db.totals WHERE sku = 'retry'");
    expect(Number(rows[0]?.total)).toBe(7);
  });

  it('sends nothing from a transaction that rolled back: the retried attempt\'s reply is the only one', async () => {
    const q = await replyQueue();
    const summary = await perMessage(event([
      request({ sku: 'rb', quantity: 1, failOnce: uniqueName('f') }, { messageId: 'rb-1', replyTo: q }),
      request({ sku: 'rb', quantity: 10 }, { messageId: 'rb-2', replyTo: q }),
    ]));
    expect(summary).toMatchObject({ committed: 2, retries: 1 });
    const replies = await takeAll(q, 2);
    expect(replies.map(json)).toEqual([{ sku: 'rb', total: 1 }, { sku: 'rb', total: 11 }]);
    expect(await drainQueue(q)).toEqual([]);
  });

  it('answers an invalid request with an error reply (warren-error header, JSON body) and a retry of it with the same error', async () => {
    const q = await replyQueue();
    const q2 = await replyQueue();
    await perMessage(event([request({ quantity: 1 }, { messageId: 'bad-1', replyTo: q, correlationId: 'bad-c' })]));
    await perMessage(event([request({ quantity: 1 }, { messageId: 'bad-1', replyTo: q2, correlationId: 'bad-c2' })]));
    const [reply] = await takeAll(q, 1);
    const [again] = await takeAll(q2, 1);
    const reason = 'Message body failed validation: sku: expected { sku: string, quantity: number }';
    expect(json(reply!)).toEqual({ error: reason });
    expect(headerText(reply!, 'warren-error')).toBe(reason);
    expect([reply!.properties.correlationId, reply!.properties.contentType, reply!.properties.messageId]).toEqual(['bad-c', 'application/json', 'bad-1/error-reply']);
    expect([json(again!), again!.properties.correlationId]).toEqual([{ error: reason }, 'bad-c2']);
    expect(sink.letters.filter((l) => l.messageKey === 'bad-1')).toHaveLength(1);
  });

  it('replies nothing to a request that fails transiently, and an error reply once Warren dead-letters it as poison', async () => {
    const q = await replyQueue();
    const poisoned = request({ n: 1 }, { messageId: 'poison-1', replyTo: q, correlationId: 'p-c' });
    await expect(poison(event([poisoned]))).rejects.toThrow('the database of a partner is down');
    expect(await drainQueue(q)).toEqual([]); // the failed delivery answers nothing: the broker redelivers it
    const summary = await poison(event([{ ...poisoned, redelivered: true }]));
    expect(summary).toMatchObject({ deadLettered: 1, committed: 0 });
    const [reply] = await takeAll(q, 1);
    expect([headerText(reply!, 'warren-error'), json(reply!), reply!.properties.correlationId]).toEqual(['the database of a partner is down', { error: 'the database of a partner is down' }, 'p-c']);
    expect(await drainQueue(q)).toEqual([]);
  });

  it('keeps replies as long as the inbox rows: the inbox prune deletes them with the same age rule', async () => {
    await db.query("INSERT INTO $db.warren_inbox (handler, message_key, processed_at) VALUES ('prune-h', 'old', NOW() - INTERVAL 8 DAY), ('prune-h', 'new', NOW())");
    await db.query("INSERT INTO $db.warren_replies (handler, message_key, body, properties, created_at) VALUES ('prune-h', 'old', '{}', '{}', NOW() - INTERVAL 8 DAY), ('prune-h', 'new', '{}', '{}', NOW())");
    const { pruneInbox } = await import('../../runtime/inbox.js');
    const { processConnection } = await import('../../runtime/db/processConnection.js');
    expect(await pruneInbox(processConnection(), 7 * 86_400, 'prune-h')).toBe(1);
    const kept = await db.query<RowDataPacket[]>("SELECT message_key FROM $db.warren_replies WHERE handler = 'prune-h'");
    expect(kept.map((r) => r.message_key)).toEqual(['new']);
  });

  it('dead-letters a message without reply_to that the handler tries to answer, naming the fix', async () => {
    const summary = await strict(event([request({ n: 1 }, { messageId: 'no-reply-to' })]));
    expect(summary).toMatchObject({ deadLettered: 1, committed: 0 });
    expect(sink.letters.find((l) => l.messageKey === 'no-reply-to')?.error).toMatchObject({
      name: 'ReplyNotAllowedError',
      message: expect.stringContaining('it has no reply_to property') as string,
    });
  });

  it('drops a reply whose caller is gone (deleted reply queue, closed direct reply-to consumer) and keeps going; counts the one RabbitMQ returns', async () => {
    const gone = uniqueName('gone');
    const caller = await amqp.connect(AMQP_URL);
    const callerChannel = await caller.createChannel();
    await callerChannel.consume('amq.rabbitmq.reply-to', () => undefined, { noAck: true });
    // The broker hands the responder the generated name: ask ourselves through a throwaway queue to learn it.
    const probe = await replyQueue();
    callerChannel.sendToQueue(probe, Buffer.from('{}'), { replyTo: 'amq.rabbitmq.reply-to' });
    const [seen] = await takeAll(probe, 1);
    const directName = seen!.properties.replyTo as string;
    expect(directName.startsWith('amq.rabbitmq.reply-to.')).toBe(true);
    await caller.close();
    const live = await replyQueue();
    const summary = await perMessage(event([
      request({ sku: 'gone', quantity: 1 }, { replyTo: gone }),
      request({ sku: 'gone', quantity: 1 }, { replyTo: directName }),
      request({ sku: 'gone', quantity: 1 }, { replyTo: live }),
    ]));
    // The deleted queue's reply comes back (mandatory) and is counted; the direct one is dropped by the broker unseen.
    expect(summary).toMatchObject({ committed: 3, published: 3, repliesDropped: 1 });
    const [reply] = await takeAll(live, 1);
    expect(json(reply!)).toEqual({ sku: 'gone', total: 3 });
    const unsent = await db.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM $db.warren_outbox WHERE sent_at IS NULL');
    expect(Number(unsent[0]?.n)).toBe(0);
  });

  it('answers per message in batch mode, and a request repeated in the batch with the first one\'s reply', async () => {
    const q = await replyQueue();
    const q2 = await replyQueue();
    const summary = await batched(event([
      request({ sku: 'batch', quantity: 1 }, { messageId: 'b1', replyTo: q, correlationId: 'x1' }),
      request({ sku: 'batch', quantity: 2 }, { messageId: 'b2', replyTo: q, correlationId: 'x2' }),
      request({ sku: 'batch', quantity: 1 }, { messageId: 'b1', replyTo: q2, correlationId: 'x1-again' }),
    ]));
    expect(summary).toMatchObject({ committed: 2, deduplicated: 1 });
    const replies = await takeAll(q, 2);
    expect(replies.map((m) => [json(m), m.properties.correlationId])).toEqual([[{ sku: 'batch', total: 1 }, 'x1'], [{ sku: 'batch', total: 3 }, 'x2']]);
    const [again] = await takeAll(q2, 1);
    expect([json(again!), again!.properties.correlationId]).toEqual([{ sku: 'batch', total: 1 }, 'x1-again']);
  });

  it('answers a handler through its exchange with a routing key when reply_to is an /exchanges/ address', async () => {
    const exchange = uniqueName('asker');
    exchanges.push(exchange);
    await channel.assertExchange(exchange, 'direct', { durable: false });
    const q = await replyQueue();
    await channel.bindQueue(q, exchange, 'order-42');
    const address = replyAddress(exchange, 'order-42');
    expect(address).toBe(`/exchanges/${exchange}/order-42`);
    await perMessage(event([request({ sku: 'h2h', quantity: 4 }, { messageId: 'h2h-1', replyTo: address, correlationId: 'ask-1' })]));
    const [reply] = await takeAll(q, 1);
    expect([reply!.fields.exchange, reply!.fields.routingKey, reply!.properties.correlationId, json(reply!)]).toEqual([exchange, 'order-42', 'ask-1', { sku: 'h2h', total: 4 }]);
  });

  it('replies to a direct reply-to caller that waits', async () => {
    const caller = await amqp.connect(AMQP_URL);
    try {
      const callerChannel = await caller.createChannel();
      const got: ConsumeMessage[] = [];
      await callerChannel.consume('amq.rabbitmq.reply-to', (m) => { if (m !== null) got.push(m); }, { noAck: true });
      const probe = await replyQueue();
      callerChannel.sendToQueue(probe, Buffer.from(JSON.stringify({ sku: 'direct', quantity: 5 })), { replyTo: 'amq.rabbitmq.reply-to', messageId: 'direct-1' });
      const [seen] = await takeAll(probe, 1);
      const summary = await perMessage(event([request({ sku: 'direct', quantity: 5 }, { messageId: 'direct-1', replyTo: seen!.properties.replyTo as string })]));
      expect(summary).toMatchObject({ committed: 1, published: 1, repliesDropped: 0 });
      await waitFor('the direct reply', () => got.length === 1, 10_000);
      expect([json(got[0]!), got[0]!.properties.correlationId]).toEqual([{ sku: 'direct', total: 5 }, 'direct-1']);
    } finally {
      await caller.close();
    }
  });
});

describe('warren_replies on a database created before replies existed', () => {
  it('is added by the migrations next to the existing tables, whose rows stay', async () => {
    const old = await createTestDatabase({ schema: false });
    try {
      const { WARREN_TABLES_SQL } = await import('../../runtime/db/warrenTables.js');
      for (const sql of WARREN_TABLES_SQL.slice(0, 3)) await old.query(sql.replace(/CREATE TABLE IF NOT EXISTS (\w+)/, 'CREATE TABLE IF NOT EXISTS $db.$1'));
      await old.query("INSERT INTO $db.warren_inbox (handler, message_key) VALUES ('orders', 'kept')");
      const { migrate } = await import('../../local/commands/migrate.js');
      const { createLogger } = await import('../../runtime/logger.js');
      await migrate(old.url, [], process.cwd(), createLogger({}, { level: 'error' }));
      const tables = await old.query<RowDataPacket[]>('SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME', [old.name]);
      expect(tables.map((r) => r.t)).toEqual(['warren_deliveries', 'warren_inbox', 'warren_outbox', 'warren_replies']);
      const inbox = await old.query<RowDataPacket[]>('SELECT message_key FROM $db.warren_inbox');
      expect(inbox.map((r) => r.message_key)).toEqual(['kept']);
    } finally {
      await old.drop();
    }
  });
});
