/**
 * defineHandler() options called in-process, the way Lambda calls the handler: `inbox`, `classify`, `deadLetter`,
 * `publisher`, and DeadLetterError when there is no dead-letter queue or it cannot be written.
 */
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defineHandler } from '../../runtime/defineHandler.js';
import type { DeadLetter, DeadLetterSink } from '../../runtime/deadLetter/types.js';
import { DeadLetterError } from '../../runtime/errors.js';
import type { OutgoingMessage, Publisher } from '../../runtime/outbox/Publisher.js';
import { closeProcessConnection } from '../../runtime/db/processConnection.js';
import { rmqEvent } from '../helpers/rmqEvent.js';
import { createTestDatabase, type TestDatabase } from '../helpers/services.js';

let db: TestDatabase;
const saved = { ...process.env };
const DLQ_VARS = ['WARREN_DLQ_URL', 'WARREN_DLQ_AMQP_URL', 'WARREN_DLQ_QUEUE', 'WARREN_PUBLISH_AMQP_URL'];

beforeAll(async () => {
  db = await createTestDatabase({ schema: false });
  await db.query('CREATE TABLE $db.hits (id VARCHAR(64) PRIMARY KEY, n INT NOT NULL)');
  await closeProcessConnection();
  process.env.DATABASE_URL = db.url;
  process.env.WARREN_LOG_LEVEL = 'error';
  for (const name of DLQ_VARS) delete process.env[name];
});
beforeEach(async () => { await db.query('DELETE FROM $db.hits'); });
afterAll(async () => {
  await closeProcessConnection();
  for (const name of ['DATABASE_URL', 'WARREN_LOG_LEVEL', ...DLQ_VARS]) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  await db.drop();
});

async function hits(): Promise<Record<string, number>> {
  const rows = await db.query<RowDataPacket[]>('SELECT id, n FROM $db.hits ORDER BY id');
  return Object.fromEntries(rows.map((r) => [String(r.id), Number(r.n)]));
}

/** A dead-letter sink in memory (or one that fails every write). */
function memorySink(failWith?: string): DeadLetterSink & { letters: DeadLetter[] } {
  const letters: DeadLetter[] = [];
  return {
    letters,
    destination: 'memory',
    async send(letter) {
      if (failWith !== undefined) throw new Error(failWith);
      letters.push(letter);
    },
    async close() {},
  };
}

const count = { async handle(message: { body: { id: string } }, { query }: { query: (sql: string, values?: unknown[]) => Promise<unknown> }) {
  await query('INSERT INTO hits (id, n) VALUES (?, 1) ON DUPLICATE KEY UPDATE n = n + 1', [message.body.id]);
} };

describe('Handler option: inbox', () => {
  it('applies a message delivered twice once with the inbox (the default) and twice with inbox: false', async () => {
    const withInbox = defineHandler<{ id: string }>({ name: 'opt-inbox-on', ...count });
    const without = defineHandler<{ id: string }>({ name: 'opt-inbox-off', inbox: false, ...count });
    const twice = (id: string) => rmqEvent('q.0', [{ id }, { id }], id, { ids: [`m-${id}`, `m-${id}`] });
    await expect(withInbox(twice('on'))).resolves.toMatchObject({ messages: 2, committed: 1, deduplicated: 1 });
    await expect(without(twice('off'))).resolves.toMatchObject({ messages: 2, committed: 2, deduplicated: 0 });
    expect(await hits()).toEqual({ off: 2, on: 1 });
  });
});

describe('Handler options: classify and deadLetter', () => {
  it('dead-letters an error the handler classifies as permanent into its own sink, with the reason and the time', async () => {
    const sink = memorySink();
    const handler = defineHandler<{ id: string }>({
      name: 'opt-classify',
      deadLetter: sink,
      classify: (error) => (error instanceof RangeError ? 'permanent' : undefined),
      async handle(message) { throw new RangeError(`quantity of ${message.body.id} out of range`); },
    });
    await expect(handler(rmqEvent('q.3', [{ id: 'c1' }], 'c'))).resolves.toMatchObject({ messages: 1, committed: 0, deadLettered: 1 });
    expect(sink.letters).toHaveLength(1);
    const [letter] = sink.letters;
    expect(letter).toMatchObject({
      handler: 'opt-classify', sourceQueue: 'q.3', vhost: '/', messageKey: 'c-0', deliveries: 1,
      error: { name: 'RangeError', message: 'quantity of c1 out of range', kind: 'permanent' },
    });
    expect(letter?.deadLetteredAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(letter?.data.toString()).toBe('{"id":"c1"}');
  });

  it('treats the same error as transient without classify: the invocation fails and nothing is dead-lettered', async () => {
    const sink = memorySink();
    const handler = defineHandler<{ id: string }>({
      name: 'opt-no-classify', deadLetter: sink, attempts: 2, retryBackoffBaseMs: 1,
      async handle(message) { throw new RangeError(`quantity of ${message.body.id} out of range`); },
    });
    await expect(handler(rmqEvent('q.3', [{ id: 'c2' }], 'c2'))).rejects.toThrow('quantity of c2 out of range');
    expect(sink.letters).toEqual([]);
  });
});

describe('DeadLetterError', () => {
  const refuse = { attempts: 1, async handle(): Promise<void> { throw new (await import('../../runtime/errors.js')).PermanentError('refused'); } };

  it('fails the invocation when no dead-letter queue is configured, so the batch is redelivered instead of lost', async () => {
    const handler = defineHandler({ name: 'opt-no-dlq', ...refuse });
    const error = await handler(rmqEvent('q.0', [{ id: 'd1' }], 'd1')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadLetterError);
    expect((error as Error).message).toBe('No dead-letter queue is configured for handler "opt-no-dlq", so a permanent failure (refused) cannot be set aside; set WARREN_DLQ_URL (SQS) or WARREN_DLQ_AMQP_URL and WARREN_DLQ_QUEUE');
    const inbox = await db.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM $db.warren_inbox WHERE handler = 'opt-no-dlq'");
    expect(Number(inbox[0]?.n)).toBe(0); // not marked: the redelivery will try again
  });

  it('fails the invocation when the dead-letter queue cannot be written, and a later delivery dead-letters it once', async () => {
    const broken = defineHandler({ name: 'opt-dlq-down', deadLetter: memorySink('queue not found'), ...refuse });
    const event = rmqEvent('q.0', [{ id: 'd2' }], 'd2');
    const error = await broken(event).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadLetterError);
    expect((error as Error).message).toBe('Could not write to the dead-letter queue (memory): queue not found');
    const sink = memorySink();
    const healed = defineHandler({ name: 'opt-dlq-down', deadLetter: sink, ...refuse });
    await expect(healed(event)).resolves.toMatchObject({ deadLettered: 1 });
    await expect(healed(event)).resolves.toMatchObject({ deadLettered: 0, deduplicated: 1 });
    expect(sink.letters.map((l) => l.messageKey)).toEqual(['d2-0']);
  });
});

describe('Handler option: publisher', () => {
  it('hands the committed outbox rows to the given publisher, in order, with the message id <key>/<n>, and marks them sent', async () => {
    const sent: OutgoingMessage[] = [];
    const publisher: Publisher = { destination: 'memory', async publish(messages) { sent.push(...messages); }, async close() {} };
    const handler = defineHandler<{ id: string }>({
      name: 'opt-publisher',
      publisher,
      async handle(message, { query, publish }) {
        await query('INSERT INTO hits (id, n) VALUES (?, 1)', [message.body.id]);
        await publish('ev.x', 'first', { of: message.body.id });
        await publish('ev.x', 'second', { of: message.body.id });
      },
    });
    await expect(handler(rmqEvent('q.0', [{ id: 'p1' }], 'p'))).resolves.toMatchObject({ committed: 1, published: 2 });
    expect(sent.map((m) => [m.exchange, m.routingKey, m.body.toString(), m.properties.messageId, m.properties.correlationId])).toEqual([
      ['ev.x', 'first', '{"of":"p1"}', 'p-0/0', 'corr-p'],
      ['ev.x', 'second', '{"of":"p1"}', 'p-0/1', 'corr-p'],
    ]);
    const unsent = await db.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM $db.warren_outbox WHERE handler = 'opt-publisher' AND sent_at IS NULL");
    expect(Number(unsent[0]?.n)).toBe(0);
  });
});
