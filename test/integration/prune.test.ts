/**
 * runtime/db/prune.ts, the pruning the local runner and the AWS pruning function share, against MariaDB: old inbox
 * rows and old sent outbox rows go in DELETEs of at most `batchSize` rows; recent rows and unsent outbox rows stay;
 * a deadline stops it between batches and the next run finishes the work.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnectionManager, type Database } from '../../runtime/db/ConnectionManager.js';
import { pruneWarrenTables } from '../../runtime/db/prune.js';
import { createLogger } from '../../runtime/logger.js';
import { ensureWarrenTables } from '../../runtime/db/warrenTables.js';
import { createTestDatabase, type TestDatabase } from '../helpers/services.js';

let db: TestDatabase;
let manager: ConnectionManager;
/** Every statement the prune ran, with its LIMIT and the rows it deleted. */
let statements: { sql: string; limit: unknown; deleted: number }[];
let recorded: Database;

beforeEach(async () => {
  db = await createTestDatabase({ schema: false });
  manager = new ConnectionManager({ url: db.url, logger: createLogger({}, { level: 'error' }) });
  await ensureWarrenTables(manager);
  statements = [];
  recorded = {
    transaction: manager.transaction.bind(manager),
    autocommit: async (sql, values) => {
      const result = await manager.autocommit(sql, values);
      statements.push({ sql, limit: values?.at(-1), deleted: result.affectedRows });
      return result;
    },
  } as Database;
  // 12 old inbox rows and 3 recent ones; 7 old sent outbox rows, 2 recent sent ones, 2 old unsent ones.
  const inbox = (key: string, age: string) => `('h', '${key}', NOW(3) - INTERVAL ${age})`;
  await db.query(`INSERT INTO $db.warren_inbox (handler, message_key, processed_at) VALUES ${[
    ...Array.from({ length: 12 }, (_, i) => inbox(`old-${i}`, '8 DAY')),
    ...Array.from({ length: 3 }, (_, i) => inbox(`new-${i}`, '1 HOUR')),
  ].join(', ')}`);
  // Replies kept with the inbox: 2 old ones and 1 recent one.
  await db.query("INSERT INTO $db.warren_replies (handler, message_key, body, properties, created_at) VALUES ('h', 'old-0', '', '{}', NOW(3) - INTERVAL 8 DAY), ('h', 'old-1', '', '{}', NOW(3) - INTERVAL 8 DAY), ('h', 'new-0', '', '{}', NOW(3) - INTERVAL 1 HOUR)");
  const outbox = (id: string, sent: string) => `('h', 'q.0', 'ev', 'k', '${id}', '{}', '{}', NOW(3) - INTERVAL 9 DAY, ${sent})`;
  await db.query(`INSERT INTO $db.warren_outbox (handler, source_queue, exchange, routing_key, message_id, body, properties, created_at, sent_at) VALUES ${[
    ...Array.from({ length: 7 }, (_, i) => outbox(`old-sent-${i}`, 'NOW(3) - INTERVAL 8 DAY')),
    outbox('new-sent-0', 'NOW(3)'), outbox('new-sent-1', 'NOW(3)'),
    outbox('old-unsent-0', 'NULL'), outbox('old-unsent-1', 'NULL'),
  ].join(', ')}`);
});
afterEach(async () => {
  await manager.close();
  await db.drop();
});

async function left(): Promise<{ inbox: string[]; outbox: string[] }> {
  const inbox = await db.query<{ k: string }[]>('SELECT message_key AS k FROM $db.warren_inbox ORDER BY k');
  const outbox = await db.query<{ k: string }[]>('SELECT message_id AS k FROM $db.warren_outbox ORDER BY k');
  return { inbox: inbox.map((r) => r.k), outbox: outbox.map((r) => r.k) };
}

describe('Function: pruneWarrenTables()', () => {
  it('deletes old inbox rows and old sent outbox rows in DELETEs of at most batchSize rows, keeping recent and unsent ones', async () => {
    const result = await pruneWarrenTables(recorded, { olderThanSeconds: 7 * 86_400, batchSize: 5 });
    expect(result).toEqual({ deleted: { warren_inbox: 12, warren_replies: 2, warren_outbox: 7 }, batches: 6, complete: true });
    expect(statements.map((s) => [s.sql, s.limit, s.deleted])).toEqual([
      ['DELETE FROM warren_inbox WHERE processed_at < ? LIMIT ?', 5, 5],
      ['DELETE FROM warren_inbox WHERE processed_at < ? LIMIT ?', 5, 5],
      ['DELETE FROM warren_inbox WHERE processed_at < ? LIMIT ?', 5, 2],
      ['DELETE FROM warren_replies WHERE created_at < ? LIMIT ?', 5, 2],
      ['DELETE FROM warren_outbox WHERE sent_at IS NOT NULL AND sent_at < ? LIMIT ?', 5, 5],
      ['DELETE FROM warren_outbox WHERE sent_at IS NOT NULL AND sent_at < ? LIMIT ?', 5, 2],
    ]);
    expect(await left()).toEqual({ inbox: ['new-0', 'new-1', 'new-2'], outbox: ['new-sent-0', 'new-sent-1', 'old-unsent-0', 'old-unsent-1'] });
    expect(await db.query<{ k: string }[]>('SELECT message_key AS k FROM $db.warren_replies ORDER BY k')).toEqual([{ k: 'new-0' }]);
  });

  it('starts no DELETE once the deadline has passed, reports it incomplete, and the next run finishes the work', async () => {
    const first = await pruneWarrenTables(recorded, { olderThanSeconds: 7 * 86_400, batchSize: 5, deadline: Date.now() - 1 });
    expect(first).toEqual({ deleted: { warren_inbox: 0, warren_replies: 0, warren_outbox: 0 }, batches: 0, complete: false });
    // A deadline that passes after the second batch: the clock jumps an hour when a DELETE has run twice.
    let ran = 0;
    const counting = { ...recorded, autocommit: async (sql: string, values?: readonly unknown[]) => { ran += 1; return recorded.autocommit(sql, values); } } as Database;
    const second = await pruneWarrenTables(counting, { olderThanSeconds: 7 * 86_400, batchSize: 5, now: () => Date.now() + (ran >= 2 ? 3_600_000 : 0), deadline: Date.now() + 60_000 });
    expect(second).toEqual({ deleted: { warren_inbox: 10, warren_replies: 0, warren_outbox: 0 }, batches: 2, complete: false });
    const third = await pruneWarrenTables(recorded, { olderThanSeconds: 7 * 86_400, batchSize: 5 });
    expect(third).toMatchObject({ deleted: { warren_inbox: 2, warren_replies: 2, warren_outbox: 7 }, complete: true });
    expect(await left()).toEqual({ inbox: ['new-0', 'new-1', 'new-2'], outbox: ['new-sent-0', 'new-sent-1', 'old-unsent-0', 'old-unsent-1'] });
  });

  it('prunes one handler\'s inbox rows and replies only when a handler is named, and leaves the outbox alone', async () => {
    await db.query("INSERT INTO $db.warren_inbox (handler, message_key, processed_at) VALUES ('other', 'old-x', NOW(3) - INTERVAL 8 DAY)");
    await db.query("INSERT INTO $db.warren_replies (handler, message_key, body, properties, created_at) VALUES ('other', 'old-x', '', '{}', NOW(3) - INTERVAL 8 DAY)");
    const result = await pruneWarrenTables(recorded, { olderThanSeconds: 7 * 86_400, handler: 'other' });
    expect(result).toEqual({ deleted: { warren_inbox: 1, warren_replies: 1, warren_outbox: 0 }, batches: 2, complete: true });
    expect((await left()).inbox).toHaveLength(15);
  });
});
