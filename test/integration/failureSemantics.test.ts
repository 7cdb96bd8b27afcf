import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RowDataPacket } from 'mysql2/promise';
import { listDeadLetters, replayDeadLetters } from '../../local/commands/deadLetters.js';
import { invalidSamples, sample } from '../../examples/orders/functions/samples.js';
import { ConnectionManager } from '../../runtime/db/ConnectionManager.js';
import { pruneInbox } from '../../runtime/inbox.js';
import { pruneOutbox } from '../../runtime/outbox/outbox.js';
import { createLogger } from '../../runtime/logger.js';
import { ensureWarrenTables } from '../../runtime/db/warrenTables.js';
import { drainQueue, headerText, publishRaw } from '../helpers/amqp.js';
import { startTestRunner, type TestRunner } from '../helpers/runner.js';
import { AMQP_URL, createTestDatabase, queueDepths, waitFor, type TestDatabase } from '../helpers/services.js';

let db: TestDatabase;
let running: TestRunner | undefined;

beforeEach(async () => {
  db = await createTestDatabase();
  await db.query('CREATE TABLE $db.hits (id VARCHAR(64) PRIMARY KEY, n INT NOT NULL)');
  await db.query('CREATE TABLE $db.allowed_skus (sku VARCHAR(64) PRIMARY KEY)');
  await db.query('CREATE TABLE $db.locked_row (id INT PRIMARY KEY, n INT NOT NULL)');
  await db.query('INSERT INTO $db.locked_row VALUES (1, 0)');
});
afterEach(async () => {
  await running?.cleanup();
  running = undefined;
  await db.drop();
});

async function hits(): Promise<Map<string, number>> {
  const rows = await db.query<RowDataPacket[]>('SELECT id, n FROM $db.hits');
  return new Map(rows.map((r) => [String(r.id), Number(r.n)]));
}

const order = (id: string, sku = 'plain') => JSON.stringify({ id, sku, quantity: 1 });

async function start(exportName: string, options: { concurrency?: number; batchSize?: number; window?: number; env?: Record<string, string> } = {}): Promise<TestRunner> {
  running = await startTestRunner(db, [{
    name: 'semantics', entry: 'test/fixtures/semantics.ts', export: exportName,
    concurrency: options.concurrency ?? 1, batchSize: options.batchSize ?? 100, batchingWindowSeconds: options.window ?? 0,
  }], { workerEnv: options.env ?? {} });
  return running;
}

describe('Exactly-once effects (inbox)', () => {
  it('applies a message delivered twice once, and acks the duplicate without running the handler', async () => {
    const r = await start('counting');
    const exchange = r.queueOf('semantics');
    await publishRaw(exchange, [{ body: order('a'), messageId: 'm-a' }, { body: order('b'), messageId: 'm-b' }]);
    await waitFor('2 acked', () => r.runner.snapshot().acked >= 2);
    await publishRaw(exchange, [{ body: order('a'), messageId: 'm-a' }]);
    await waitFor('3 acked', () => r.runner.snapshot().acked >= 3);
    expect(await hits()).toEqual(new Map([['a', 1], ['b', 1]]));
    expect(r.runner.snapshot()).toMatchObject({ committed: 2, deduplicated: 1, deadLettered: 0 });
  });

  it('applies a message delivered concurrently to two workers once (the second waits on the inbox row, then skips)', async () => {
    const r = await start('counting', { concurrency: 2, env: { WARREN_TEST_DELAY_MS: '300' } });
    const queue = r.queueOf('semantics');
    const copies = Array.from({ length: 10 }, (_, i) => [
      { body: order(`c${i}`), messageId: `m-c${i}`, queue: `${queue}.0` },
      { body: order(`c${i}`), messageId: `m-c${i}`, queue: `${queue}.1` },
    ]).flat();
    await publishRaw(queue, copies);
    await waitFor('20 acked', () => r.runner.snapshot().acked >= 20, 30_000);
    const counted = await hits();
    expect(counted.size).toBe(10);
    expect([...counted.values()].every((n) => n === 1)).toBe(true);
    expect(r.runner.snapshot()).toMatchObject({ committed: 10, deduplicated: 10 });
  });

  it('keys a message without message_id by its body hash when onMissingKey is "hash-body" (the example app)', async () => {
    running = await startTestRunner(db, [{ name: 'orders', entry: 'test/fixtures/orders.ts', batchSize: 10, batchingWindowSeconds: 0 }]);
    const body = JSON.stringify({ orderId: 'no-id-1', sku: 's', quantity: 2 });
    await publishRaw(running.queueOf('orders'), [{ body, key: 'no-id-1' }, { body, key: 'no-id-1' }]);
    await waitFor('2 acked', () => running!.runner.snapshot().acked >= 2);
    expect(running.runner.snapshot()).toMatchObject({ committed: 1, deduplicated: 1 });
  });

  it('processes a message without message_id at-least-once by default: a second copy runs again, and the shard warns once how to get exactly-once', async () => {
    const r = await start('counting');
    await publishRaw(r.queueOf('semantics'), [{ body: order('nokey'), key: 'x' }, { body: order('nokey'), key: 'x' }]);
    await waitFor('2 acked', () => r.runner.snapshot().acked >= 2);
    expect(await hits()).toEqual(new Map([['nokey', 2]]));
    expect(r.runner.snapshot()).toMatchObject({ committed: 2, deduplicated: 0, deadLettered: 0 });
    const warnings = r.lines.filter((l) => l.includes('a message without a key was processed at-least-once'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('publish with a message_id property or give the handler a `key` function');
    const inbox = await db.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM $db.warren_inbox');
    expect(Number(inbox[0]?.n)).toBe(0);
  });

  it('dead-letters a message without message_id when onMissingKey is "dead-letter"', async () => {
    const r = await start('countingStrictKeys');
    await publishRaw(r.queueOf('semantics'), [{ body: order('nokey'), key: 'x' }]);
    await waitFor('acked', () => r.runner.snapshot().acked >= 1);
    const [letter] = await drainQueue(`${r.queueOf('semantics')}.dlq`);
    expect(headerText(letter!, 'x-warren-error-class')).toBe('MissingMessageKeyError');
    expect(headerText(letter!, 'x-warren-error-message')).toContain('publish it with a message_id property');
    expect(await hits()).toEqual(new Map());
  });

  it('prunes inbox rows older than the window and keeps the recent ones', async () => {
    const manager = new ConnectionManager({ url: db.url, logger: createLogger({}, { level: 'error' }) });
    try {
      await ensureWarrenTables(manager);
      await manager.autocommit("INSERT INTO warren_inbox (handler, message_key, processed_at) VALUES ('h', 'old', NOW() - INTERVAL 8 DAY), ('h', 'new', NOW())");
      expect(await pruneInbox(manager, 7 * 86_400)).toBe(1);
      const { rows } = await manager.autocommit<{ message_key: string }>('SELECT message_key FROM warren_inbox');
      expect(rows.map((r) => r.message_key)).toEqual(['new']);
    } finally {
      await manager.close();
    }
  });

  it('prunes sent outbox rows older than the window and keeps recent and unsent ones', async () => {
    const manager = new ConnectionManager({ url: db.url, logger: createLogger({}, { level: 'error' }) });
    try {
      await ensureWarrenTables(manager);
      const row = (id: string, sent: string) => `('h', 'q.0', 'ev', 'k', '${id}', '{}', '{}', NOW() - INTERVAL 9 DAY, ${sent})`;
      await manager.autocommit(`INSERT INTO warren_outbox (handler, source_queue, exchange, routing_key, message_id, body, properties, created_at, sent_at) VALUES
        ${row('old-sent', 'NOW() - INTERVAL 8 DAY')}, ${row('new-sent', 'NOW()')}, ${row('old-unsent', 'NULL')}`);
      expect(await pruneOutbox(manager, 7 * 86_400)).toBe(1);
      const { rows } = await manager.autocommit<{ message_id: string }>('SELECT message_id FROM warren_outbox ORDER BY id');
      expect(rows.map((r) => r.message_id)).toEqual(['new-sent', 'old-unsent']);
    } finally {
      await manager.close();
    }
  });
});

describe('Poison messages (dead-letter queue)', () => {
  it('commits 97 of a batch of 100 and dead-letters bad JSON, a schema failure and a permanent error with their reasons', async () => {
    const r = await start('counting', { batchSize: 100, window: 1 });
    const exchange = r.queueOf('semantics');
    const messages = Array.from({ length: 100 }, (_, i) => ({ body: order(`p${i}`), messageId: `m-p${i}`, key: 'one-shard' }));
    messages[10] = { body: '{"id": "p10", not json', messageId: 'm-p10', key: 'one-shard' };
    messages[50] = { body: JSON.stringify({ id: 'p50', quantity: -3 }), messageId: 'm-p50', key: 'one-shard' };
    messages[90] = { body: order('p90', 'poison'), messageId: 'm-p90', key: 'one-shard' };
    await publishRaw(exchange, messages);
    await waitFor('100 acked', () => r.runner.snapshot().acked >= 100, 30_000);
    expect((await hits()).size).toBe(97);
    const snapshot = r.runner.snapshot();
    expect(snapshot).toMatchObject({ committed: 97, deadLettered: 3, failedBatches: 0, received: 100 });
    const letters = await listDeadLetters(AMQP_URL, `${exchange}.dlq`);
    const byId = new Map(letters.map((l) => [l.messageId, l]));
    expect(letters).toHaveLength(3);
    expect(byId.get('m-p10')).toMatchObject({ errorClass: 'DecodeError', kind: 'permanent', sourceQueue: `${exchange}.0` });
    expect(byId.get('m-p10')?.reason).toContain('it is not JSON');
    expect(byId.get('m-p50')).toMatchObject({ errorClass: 'SchemaValidationError', kind: 'permanent' });
    expect(byId.get('m-p50')?.reason).toMatch(/^Message body failed validation: quantity: /);
    expect(byId.get('m-p90')).toMatchObject({ errorClass: 'PermanentError', reason: 'sku "poison" is discontinued', deliveries: 1 });
    // nothing comes back: a marker published after them is the next and last thing the shard receives
    await publishRaw(exchange, [{ body: order('marker'), messageId: 'm-marker', key: 'one-shard' }]);
    await waitFor('the marker acked', () => r.runner.snapshot().acked >= 101, 30_000);
    expect(r.runner.snapshot()).toMatchObject({ received: 101, committed: 98, deadLettered: 3 });
    expect(await queueDepths([`${exchange}.0`])).toEqual([0]);
    expect(r.lines.filter((l) => l.includes('message dead-lettered'))).toHaveLength(3);
  });

  it('sends the example app\'s invalid samples (not JSON, a missing field, a bad quantity) to orders.dlq while valid ones commit and the shards drain', async () => {
    running = await startTestRunner(db, [{ name: 'orders', entry: 'test/fixtures/orders.ts', concurrency: 2, batchSize: 10, batchingWindowSeconds: 0 }]);
    const exchange = running.queueOf('orders');
    const bad = invalidSamples.map((make, i) => make(i, 'inv'));
    const good = Array.from({ length: 20 }, (_, i) => sample(i, 'inv'));
    await publishRaw(exchange, [...bad, ...good].map((m) => ({ body: m.raw ?? JSON.stringify(m.body), messageId: m.key, key: m.key })));
    await waitFor('23 acked', () => running!.runner.snapshot().acked >= 23, 20_000);
    const letters = await listDeadLetters(AMQP_URL, `${exchange}.dlq`);
    expect(letters.map((l) => l.errorClass).sort()).toEqual(['DecodeError', 'SchemaValidationError', 'SchemaValidationError']);
    const reasons = letters.map((l) => l.reason).join('\n');
    for (const part of ['it is not JSON', 'failed validation: sku: ', 'failed validation: quantity: ']) expect(reasons).toContain(part);
    expect(running.runner.snapshot()).toMatchObject({ committed: 20, deadLettered: 3, failedBatches: 0 });
    expect(await queueDepths([`${exchange}.0`, `${exchange}.1`])).toEqual([0, 0]);
  });

  it('replays a dead letter after the cause is fixed, and it is processed exactly once', async () => {
    const r = await start('counting');
    const exchange = r.queueOf('semantics');
    await publishRaw(exchange, [{ body: order('r1', 'poison'), messageId: 'm-r1' }, { body: order('r2'), messageId: 'm-r2' }]);
    await waitFor('2 acked', () => r.runner.snapshot().acked >= 2);
    expect(r.runner.snapshot().deadLettered).toBe(1);
    await db.query("INSERT INTO $db.allowed_skus VALUES ('poison')");
    const replayed = await replayDeadLetters(AMQP_URL, `${exchange}.dlq`, (e) => e.messageId === 'm-r1');
    expect(replayed.map((e) => e.messageId)).toEqual(['m-r1']);
    await waitFor('replay committed', async () => (await hits()).get('r1') === 1, 10_000);
    // the same replayed copy arriving again is a duplicate
    await publishRaw(exchange, [{ body: order('r1', 'poison'), messageId: 'm-r1', headers: { 'x-warren-replayed-at': new Date().toISOString() } }]);
    await waitFor('4 acked', () => r.runner.snapshot().acked >= 4);
    expect(await hits()).toEqual(new Map([['r1', 1], ['r2', 1]]));
    expect(await listDeadLetters(AMQP_URL, `${exchange}.dlq`)).toEqual([]);
    expect(r.runner.snapshot()).toMatchObject({ committed: 2, deduplicated: 1, deadLettered: 1 });
  });
});

describe('Transient errors', () => {
  it('retries the victim of a real InnoDB deadlock (two shards locking two rows in opposite order) and commits each message once', async () => {
    await db.query('CREATE TABLE $db.pair (id CHAR(1) PRIMARY KEY, n INT NOT NULL)');
    await db.query("INSERT INTO $db.pair VALUES ('a', 0), ('b', 0)");
    const r = await start('lockPair', { concurrency: 2 });
    const queue = r.queueOf('semantics');
    await publishRaw(queue, [
      { body: JSON.stringify({ id: 'ab', first: 'a' }), messageId: 'm-ab', queue: `${queue}.0` },
      { body: JSON.stringify({ id: 'ba', first: 'b' }), messageId: 'm-ba', queue: `${queue}.1` },
    ]);
    await waitFor('2 acked', () => r.runner.snapshot().acked >= 2, 30_000);
    expect(await hits()).toEqual(new Map([['ab', 1], ['ba', 1]]));
    const pair = await db.query<RowDataPacket[]>('SELECT id, n FROM $db.pair ORDER BY id');
    expect(pair.map((row) => [row.id, Number(row.n)])).toEqual([['a', 2], ['b', 2]]);
    expect(r.runner.snapshot()).toMatchObject({ committed: 2, deduplicated: 0, deadLettered: 0, failedBatches: 0 });
    // the server really reported a deadlock, to exactly one of the two, which was retried
    const retries = r.lines.filter((l) => l.includes('transient failure; retrying the message'));
    expect(retries).toHaveLength(1);
    const first = JSON.parse(retries[0]!.replace(/^[^{]*/, '')) as Record<string, unknown>;
    expect(first).toMatchObject({ handler: 'semantics', attempt: 1, errorCode: 'ER_LOCK_DEADLOCK' });
    expect(['m-ab', 'm-ba']).toContain(first.messageId);
    expect(typeof first.durationMs).toBe('number');
    expect(await drainQueue(`${queue}.dlq`)).toHaveLength(0);
  });

  it('retries a real lock wait timeout until the row lock is released, then commits once', async () => {
    const r = await start('lockWaiter');
    await db.query('BEGIN');
    await db.query('SELECT n FROM $db.locked_row WHERE id = 1 FOR UPDATE');
    await publishRaw(r.queueOf('semantics'), [{ body: JSON.stringify({ id: 'l1' }), messageId: 'm-l1' }]);
    await waitFor('a lock wait timeout', () => r.lines.some((l) => l.includes('transient failure; retrying the message') && l.includes('ER_LOCK_WAIT_TIMEOUT')), 15_000);
    await db.query('COMMIT');
    await waitFor('acked', () => r.runner.snapshot().acked >= 1, 15_000);
    expect(await hits()).toEqual(new Map([['l1', 1]]));
    const rows = await db.query<RowDataPacket[]>('SELECT n FROM $db.locked_row WHERE id = 1');
    expect(Number(rows[0]?.n)).toBe(1);
    expect(r.runner.snapshot()).toMatchObject({ committed: 1, deduplicated: 0, deadLettered: 0 });
    const timeouts = r.lines.filter((l) => l.includes('transient failure; retrying the message') && l.includes('"errorCode":"ER_LOCK_WAIT_TIMEOUT"'));
    expect(timeouts.length).toBeGreaterThanOrEqual(1);
  });

  it('dead-letters a message that always fails transiently after the configured deliveries, while the queue keeps flowing', async () => {
    const r = await start('counting', { batchSize: 10, env: { WARREN_TEST_ATTEMPTS: '2', WARREN_TEST_MAX_DELIVERIES: '3' } });
    const exchange = r.queueOf('semantics');
    await publishRaw(exchange, [
      { body: order('bad', 'always-fails'), messageId: 'm-bad', key: 'k' },
      ...Array.from({ length: 30 }, (_, i) => ({ body: order(`g${i}`), messageId: `m-g${i}`, key: 'k' })),
    ]);
    await waitFor('all settled', () => r.runner.snapshot().committed === 30 && r.runner.snapshot().deadLettered === 1, 60_000);
    expect((await hits()).size).toBe(30);
    const letters = await listDeadLetters(AMQP_URL, `${exchange}.dlq`);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ messageId: 'm-bad', kind: 'transient', deliveries: 3 });
    expect(letters[0]?.reason).toContain('Lock wait timeout exceeded');
    expect(r.runner.snapshot().failedBatches).toBe(2);
    expect(await queueDepths([`${exchange}.0`])).toEqual([0]);
  });
});
