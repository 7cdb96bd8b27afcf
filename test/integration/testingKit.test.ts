/**
 * warren/testing (testing/index.ts): handlers run in-process through defineHandler's own path against the kit's own
 * database, the broker replaced by a recorder. The fixture handlers (test/fixtures/testingKitHandlers.ts) count in a
 * way that is NOT idempotent on its own, so only the inbox keeps a redelivered message from counting twice.
 */
import type { RowDataPacket } from 'mysql2/promise';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineHandler } from '../../runtime/index.js';
import { processConnections } from '../../runtime/db/processConnection.js';
import { setEmfSink } from '../../runtime/emf.js';
import { createTestKit, TestKitError, TestRunError, type TestKit } from '../../testing/index.js';
import * as fixtures from '../fixtures/testingKitHandlers.js';
import { batchCounter, counter, envReader } from '../fixtures/testingKitHandlers.js';
import { setEnv } from '../helpers/env.js';
import { ADMIN_DB_URL } from '../helpers/services.js';

const MIGRATIONS = ['test/fixtures/testingKit.sql'];
let kit: TestKit;
let admin: mysql.Connection;

beforeAll(async () => {
  kit = await createTestKit({ databaseUrl: ADMIN_DB_URL, migrations: MIGRATIONS });
  admin = await mysql.createConnection({ uri: ADMIN_DB_URL });
});
afterAll(async () => {
  await kit.close();
  await admin.end();
});

async function counted(on: TestKit = kit): Promise<{ n: number; applied: string[] }> {
  const [row] = await on.query<{ n: number }>('SELECT n FROM counters WHERE id = 1');
  const applied = await on.query<{ item: string }>('SELECT item FROM applied ORDER BY seq');
  return { n: Number(row?.n), applied: applied.map((r) => r.item) };
}

async function reset(): Promise<void> {
  await kit.query('UPDATE counters SET n = 0');
  await kit.query('DELETE FROM applied');
}

describe('The handler test kit', () => {
  it('commits a handler\'s effects to the kit\'s own database and returns the batch summary', async () => {
    await reset();
    const run = await kit.run(counter, [{ body: { item: 'a' } }, { body: { item: 'b' } }], { name: 'commits' });
    expect(run.summary).toEqual({ messages: 2, committed: 2, deduplicated: 0, deadLettered: 0, retries: 0, unkeyed: 0, published: 2, repliesDropped: 0 });
    expect(await counted()).toEqual({ n: 2, applied: ['a', 'b'] });
    expect(run.messages.map((m) => [m.messageId, m.redelivered])).toEqual([['msg-1', false], ['msg-2', false]]);
  });

  it('applies a redelivered message once: the inbox drops it, nothing is published again', async () => {
    await reset();
    const first = await kit.run(counter, [{ body: { item: 'r1' }, messageId: 'r-1' }, { body: { item: 'r2' } }], { name: 'redelivery' });
    const again = await kit.run(counter, first.messages.map((m) => ({ ...m, redelivered: true })), { name: 'redelivery' });
    expect(again.summary).toMatchObject({ messages: 2, committed: 0, deduplicated: 2, published: 0 });
    expect(again.published).toEqual([]);
    const sameIdNewDelivery = await kit.run(counter, [{ body: { item: 'r1' }, messageId: 'r-1' }], { name: 'redelivery' });
    expect(sameIdNewDelivery.summary).toMatchObject({ committed: 0, deduplicated: 1 });
    expect(await counted()).toEqual({ n: 2, applied: ['r1', 'r2'] });
    expect(await kit.query('SELECT message_key FROM warren_inbox WHERE handler = ? ORDER BY message_key', ['redelivery'])).toEqual([{ message_key: 'msg-3' }, { message_key: 'r-1' }]);
  });

  it('records what a handler published and replied, decoded, with their exchange, routing key and properties', async () => {
    await reset();
    const run = await kit.run(counter, [
      { body: { item: 'p' }, messageId: 'p-1', properties: { correlationId: 'corr-p' }, headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } },
      { body: { item: 'q' }, messageId: 'q-1', properties: { replyTo: 'amq.rabbitmq.reply-to.caller' } },
    ], { name: 'publishes' });
    expect(run.published.map(({ exchange, routingKey, body, messageId, correlationId, headers }) => ({ exchange, routingKey, body, messageId, correlationId, headers }))).toEqual([
      { exchange: 'counted', routingKey: 'item.counted', body: { item: 'p', n: 1 }, messageId: 'p-1/0', correlationId: 'corr-p', headers: { source: 'counter', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } },
      { exchange: 'counted', routingKey: 'item.counted', body: { item: 'q', n: 2 }, messageId: 'q-1/0', correlationId: 'q-1', headers: { source: 'counter' } },
    ]);
    expect(run.published[0]!.properties).toMatchObject({ contentType: 'application/json', persistent: true, appId: 'warren:publishes', messageId: 'p-1/0' });
    expect(run.published[0]!.data.toString()).toBe('{"item":"p","n":1}');
    expect(run.replies.map(({ exchange, routingKey, body, messageId, correlationId, error }) => ({ exchange, routingKey, body, messageId, correlationId, error }))).toEqual([
      { exchange: '', routingKey: 'amq.rabbitmq.reply-to.caller', body: { item: 'q', n: 2 }, messageId: 'q-1/reply', correlationId: 'q-1', error: null },
    ]);
    expect(run.summary).toMatchObject({ committed: 2, published: 3 });
    expect(await kit.query('SELECT COUNT(*) AS unsent FROM warren_outbox WHERE sent_at IS NULL')).toEqual([{ unsent: 0 }]);
  });

  it('runs neither Lambda\'s crash guard nor its metrics, marks outbox rows sent before returning, and uses its own database whatever the process says', async () => {
    const restore = setEnv({ AWS_LAMBDA_FUNCTION_NAME: 'would-be-lambda', WARREN_OUTBOX_MARK_DELAY_MS: '500', DATABASE_URL: 'mysql://nobody@127.0.0.1:1/elsewhere' });
    const emf: string[] = [];
    setEmfSink((line) => emf.push(line));
    const fresh = await createTestKit({ databaseUrl: ADMIN_DB_URL, migrations: MIGRATIONS });
    try {
      const run = await fresh.run(envReader, [{ body: { item: 'e' } }], { name: 'paths', env: { EVENTS_EXCHANGE: 'own.events' } });
      expect(run.published.map((m) => [m.exchange, m.body])).toEqual([['own.events', { item: 'e', lambda: null }]]);
      expect(emf).toEqual([]);
      expect(await fresh.query('SELECT COUNT(*) AS unsent FROM warren_outbox WHERE sent_at IS NULL')).toEqual([{ unsent: 0 }]);
      expect(await counted(fresh)).toEqual({ n: 1, applied: ['e'] });
    } finally {
      await fresh.close();
      setEmfSink();
      restore();
    }
  });

  it('publishes nothing for a message whose handler failed: a permanent failure is dead-lettered, a transient one fails the run', async () => {
    await reset();
    const refused = await kit.run(counter, [{ body: { item: 'x', fail: 'permanent' }, messageId: 'x-1' }, { body: { item: 'ok' }, messageId: 'ok-1' }], { name: 'failing' });
    expect(refused.summary).toMatchObject({ messages: 2, committed: 1, deadLettered: 1, published: 1 });
    expect(refused.published.map((m) => m.messageId)).toEqual(['ok-1/0']);
    expect(refused.deadLettered.map(({ messageId, reason, errorName, kind, deliveries }) => ({ messageId, reason, errorName, kind, deliveries }))).toEqual([
      { messageId: 'x-1', reason: 'refusing x', errorName: 'PermanentError', kind: 'permanent', deliveries: 1 },
    ]);

    const failed = await kit.run(counter, [{ body: { item: 'y' }, messageId: 'y-1' }, { body: { item: 'z', fail: 'transient' }, messageId: 'z-1' }], { name: 'failing' }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(TestRunError);
    const { run, message, cause } = failed as TestRunError;
    expect((cause as Error).message).toBe('transient failure of z');
    expect(message).toBe('The invocation of handler "failing" failed, so the broker would deliver its batch again: Error: transient failure of z. To see the redelivery, run the same messages again with `redelivered: true` (error.run.messages holds them with their ids).');
    // y committed before z failed and announced its work; z's publish rolled back with its transaction.
    expect(run.published.map((m) => m.messageId)).toEqual(['y-1/0']);
    expect(run.deadLettered).toEqual([]);
    expect(await counted()).toEqual({ n: 2, applied: ['ok', 'y'] });
    expect(await kit.query('SELECT message_key, failures FROM warren_deliveries WHERE handler = ?', ['failing'])).toEqual([{ message_key: 'z-1', failures: 1 }]);
  });

  it('dead-letters a poison message and a body that is not JSON with their reasons, and answers a request with Warren\'s error reply', async () => {
    await reset();
    const run = await kit.run(counter, [
      { body: { item: '' }, messageId: 'bad-1' },
      { body: 'not json', messageId: 'bad-2' },
      { body: { item: 7 }, messageId: 'bad-3', properties: { replyTo: 'callers' } },
      { body: { item: 'good' }, messageId: 'good-1' },
    ], { name: 'poison' });
    expect(run.summary).toMatchObject({ messages: 4, committed: 1, deadLettered: 3 });
    expect(run.deadLettered.map(({ messageId, body, reason, errorName, kind }) => ({ messageId, body, reason, errorName, kind }))).toEqual([
      { messageId: 'bad-1', body: { item: '' }, reason: 'Message body failed validation: item: Too small: expected string to have >=1 characters', errorName: 'SchemaValidationError', kind: 'permanent' },
      { messageId: 'bad-2', body: 'not json', reason: 'Cannot decode the body of message bad-2 on poison.0: it is not JSON (Unexpected token \'o\', "not json" is not valid JSON)', errorName: 'DecodeError', kind: 'permanent' },
      { messageId: 'bad-3', body: { item: 7 }, reason: 'Message body failed validation: item: Invalid input: expected string, received number', errorName: 'SchemaValidationError', kind: 'permanent' },
    ]);
    expect(run.deadLettered[0]!.letter).toMatchObject({ handler: 'poison', sourceQueue: 'poison.0', vhost: '/', messageKey: 'bad-1' });
    expect(run.replies.map(({ routingKey, body, messageId, error }) => ({ routingKey, body, messageId, error }))).toEqual([
      { routingKey: 'callers', body: { error: 'Message body failed validation: item: Invalid input: expected string, received number' }, messageId: 'bad-3/error-reply', error: 'Message body failed validation: item: Invalid input: expected string, received number' },
    ]);
    expect(await counted()).toEqual({ n: 1, applied: ['good'] });
    // Redelivered, the dead letters are known to the inbox: no second letter.
    const again = await kit.run(counter, run.messages.slice(0, 2).map((m) => ({ ...m, redelivered: true })), { name: 'poison' });
    expect(again.summary).toMatchObject({ deadLettered: 0, deduplicated: 2 });
    expect(again.deadLettered).toEqual([]);
  });

  it('runs a batch handler\'s messages in one transaction, and one by one when one of them is poison', async () => {
    await reset();
    const whole = await kit.run(batchCounter, [{ body: { item: 'b1' } }, { body: { item: 'b2' } }, { body: { item: 'b3' } }], { name: 'batch' });
    expect(whole.summary).toMatchObject({ messages: 3, committed: 3, deadLettered: 0, published: 3 });
    // One transaction for the batch: every event carries the count after all three.
    expect(whole.published.map((m) => m.body)).toEqual([{ item: 'b1', n: 3 }, { item: 'b2', n: 3 }, { item: 'b3', n: 3 }]);
    const split = await kit.run(batchCounter, [{ body: { item: 'b4' } }, { body: { item: 'b5', poison: true } }, { body: { item: 'b6' } }], { name: 'batch' });
    expect(split.summary).toMatchObject({ messages: 3, committed: 2, deadLettered: 1 });
    expect(split.deadLettered.map((d) => d.reason)).toEqual(['poison b5']);
    expect(split.published.map((m) => m.body)).toEqual([{ item: 'b4', n: 4 }, { item: 'b6', n: 5 }]);
    const again = await kit.run(batchCounter, [...whole.messages, ...split.messages].map((m) => ({ ...m, redelivered: true })), { name: 'batch' });
    expect(again.summary).toMatchObject({ messages: 6, committed: 0, deduplicated: 6, published: 0 });
    expect(await counted()).toEqual({ n: 5, applied: ['b1', 'b2', 'b3', 'b4', 'b6'] });
  });

  it('gives each kit a database of its own and drops it, with the handler\'s connection, on close', async () => {
    const other = await createTestKit({ databaseUrl: ADMIN_DB_URL, migrations: MIGRATIONS, databasePrefix: 'warren_kit_iso' });
    expect(other.database).toMatch(/^warren_kit_iso_[0-9a-f]{8}$/);
    expect(other.database).not.toBe(kit.database);
    await other.run(counter, [{ body: { item: 'elsewhere' }, messageId: 'e-1' }], { name: 'isolation' });
    expect(await counted(other)).toEqual({ n: 1, applied: ['elsewhere'] });
    expect((await counted()).applied).not.toContain('elsewhere');
    expect(processConnections().map((m) => m.url)).toContain(other.url);
    await other.close();
    await other.close(); // idempotent
    const [schemas] = await admin.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [other.database]);
    const [threads] = await admin.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ?', [other.database]);
    expect([Number(schemas[0]?.n), Number(threads[0]?.n)]).toEqual([0, 0]);
    expect(processConnections().map((m) => m.url)).not.toContain(other.url);
    expect(processConnections().map((m) => m.url)).toContain(kit.url);
    await expect(other.run(counter, [{ body: { item: 'late' } }])).rejects.toThrow(new TestKitError(`kit.run(): this kit is closed (its database ${other.database} is dropped); create a new one with createTestKit()`));
  });

  it('refuses what defineHandler did not return, naming what to pass instead', async () => {
    const wrong = (value: unknown) => kit.run(value as typeof counter, [{ body: {} }]);
    await expect(wrong(undefined)).rejects.toThrow('kit.run(handler, messages): expected a function defineHandler() returned; received undefined: is the export\'s name right (e.g. `handler` of `export const handler = defineHandler({...})`)?');
    await expect(wrong(fixtures)).rejects.toThrow('kit.run(handler, messages): expected a function defineHandler() returned; received a module object; pass one of its handlers (batchCounter, counter, envReader), e.g. kit.run(module.batchCounter, ...)');
    await expect(wrong({ async handle() {} })).rejects.toThrow('kit.run(handler, messages): expected a function defineHandler() returned; received defineHandler()\'s options; pass what defineHandler() returns');
    await expect(wrong(async function handle() {})).rejects.toThrow('kit.run(handler, messages): expected a function defineHandler() returned; received a function defineHandler() did not return (handle); wrap it: defineHandler({ handle }) and pass the result');
    await expect(kit.run(defineHandler({ async handle() {} }), [])).rejects.toThrow('kit.run(handler, messages): expected a non-empty array of messages such as [{ body: { orderId: \'o1\' } }]');
    await expect(kit.run(defineHandler({ async handle() {} }), [{ messageId: 'm' } as never])).rejects.toThrow('kit.run(handler, messages): messages[0] has no body; give each message one, e.g. { body: { orderId: \'o1\' } } (a string or Buffer is sent as is, anything else as JSON)');
  });

  it('names the server without its password, and the fix, when it cannot connect or a migration fails', async () => {
    const unreachable = await createTestKit({ databaseUrl: 'mysql://root:s3cret@127.0.0.1:1/test' }).catch((error: unknown) => error);
    expect(unreachable).toBeInstanceOf(TestKitError);
    expect((unreachable as Error).message).toBe('createTestKit could not connect to MySQL at mysql://root:***@127.0.0.1:1/ (connect ECONNREFUSED 127.0.0.1:1): start MySQL or MariaDB there, or point createTestKit({ databaseUrl }) or DATABASE_URL at a server where the user may create databases');
    expect((unreachable as Error).message).not.toContain('s3cret');
    const missing = await createTestKit({ databaseUrl: ADMIN_DB_URL, migrations: ['test/fixtures/no-such-file.sql'], databasePrefix: 'warren_kit_bad' }).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(TestKitError);
    expect((missing as Error).message.replace(/warren_kit_bad_[0-9a-f]{8}/, 'warren_kit_bad_<hex>')).toBe(`createTestKit: migration test/fixtures/no-such-file.sql (${process.cwd()}/test/fixtures/no-such-file.sql) failed on ${ADMIN_DB_URL}/warren_kit_bad_<hex> (ENOENT: no such file or directory, open '${process.cwd()}/test/fixtures/no-such-file.sql'); no such file: paths are relative to createTestKit({ root }), by default the current directory (${process.cwd()})`);
    const [left] = await admin.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'warren\\_kit\\_bad\\_%'");
    expect(Number(left[0]?.n)).toBe(0);
  });
});
