/**
 * ConnectionManager with `implicitTransactions` (the local runner's workers): the session runs with autocommit = 0, a
 * transaction sends no BEGIN, and its guarantees are those of BEGIN ... COMMIT: nothing is visible or kept before COMMIT,
 * a dead connection is replaced only before the transaction's first answer, and an autocommit() statement's COMMIT never
 * commits a transaction's statements.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RowDataPacket } from 'mysql2/promise';
import { ConnectionManager } from '../../runtime/db/ConnectionManager.js';
import { ConnectionLostError } from '../../runtime/errors.js';
import { createLogger } from '../../runtime/logger.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../helpers/services.js';
import { startTcpProxy } from '../helpers/tcpProxy.js';

let db: TestDatabase;
const lines: string[] = [];
const logger = createLogger({}, { sink: (line) => lines.push(line) });
const managers: ConnectionManager[] = [];

function manager(options: ConstructorParameters<typeof ConnectionManager>[0] = {}): ConnectionManager {
  const m = new ConnectionManager({ url: db.url, logger, implicitTransactions: true, ...options });
  managers.push(m);
  return m;
}

async function ids(): Promise<number[]> {
  const rows = await db.query<RowDataPacket[]>('SELECT id FROM $db.t ORDER BY id');
  return rows.map((r) => Number(r.id));
}

const times = (text: string | undefined, what: string): number => (text ?? '').split(what).length - 1;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.query('CREATE TABLE $db.t (id INT PRIMARY KEY) ENGINE=InnoDB');
});
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()));
  await db.query('DELETE FROM $db.t');
  lines.length = 0;
});
afterAll(async () => db.drop());

describe('ConnectionManager with implicitTransactions', () => {
  it('sends no BEGIN, yet keeps a transaction invisible until its COMMIT and rolls it back whole when it throws', async () => {
    const proxy = await startTcpProxy(3306);
    try {
      const m = manager({ url: `mysql://root@127.0.0.1:${proxy.port}/${db.name}` });
      const seenInside = await m.transaction(async (q) => {
        await q('INSERT INTO t (id) VALUES (1)');
        await q('INSERT INTO t (id) VALUES (2)');
        return ids(); // another connection, while this transaction is open
      });
      expect(seenInside).toEqual([]);
      await expect(m.transaction(async (q) => {
        await q('INSERT INTO t (id) VALUES (3)');
        throw new Error('handler failed');
      })).rejects.toThrow('handler failed');
      expect(await ids()).toEqual([1, 2]);
      const [stream, ...more] = proxy.clientStreams();
      expect(more).toEqual([]);
      expect([times(stream, 'BEGIN'), times(stream, 'SET autocommit = 0'), times(stream, 'COMMIT'), times(stream, 'ROLLBACK')]).toEqual([0, 1, 1, 1]);
    } finally {
      await proxy.close();
    }
  });

  it('leaves nothing of a transaction whose connection is KILLed after its first statement: the server rolls it back', async () => {
    const m = manager();
    await m.transaction((q) => q('INSERT INTO t (id) VALUES (1)'));
    const error = await m.transaction(async (q) => {
      await q('INSERT INTO t (id) VALUES (2)');
      await db.query(`KILL ${Number(m.stats.threadId)}`);
      await q('INSERT INTO t (id) VALUES (3)');
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionLostError);
    expect(await ids()).toEqual([1]);
    await m.transaction((q) => q('INSERT INTO t (id) VALUES (4)'));
    expect(await ids()).toEqual([1, 4]);
  });

  it('runs the first statement once more on a fresh connection when the connection died unnoticed, and never a later one', async () => {
    const proxy = await startTcpProxy(3306);
    try {
      const m = manager({ url: `mysql://root@127.0.0.1:${proxy.port}/${db.name}` });
      await m.transaction((q) => q('INSERT INTO t (id) VALUES (1)'));
      const first = Number(m.stats.threadId);
      proxy.holdServerCloses();
      await db.query(`KILL ${first}`);
      await waitFor('the server thread gone', async () => !(await db.threadIds()).includes(first), 10_000, 20);
      await m.transaction(async (q) => {
        await q('INSERT INTO t (id) VALUES (2)');
        await q('INSERT INTO t (id) VALUES (3)');
      });
      expect(await ids()).toEqual([1, 2, 3]);
      expect(m.stats.connects).toBe(2);
      const [dead, fresh, ...more] = proxy.clientStreams();
      expect(more).toEqual([]);
      expect([times(dead, 'VALUES (2)'), times(dead, 'VALUES (3)')]).toEqual([1, 0]);
      expect([times(fresh, 'SET autocommit = 0'), times(fresh, 'VALUES (2)'), times(fresh, 'VALUES (3)'), times(fresh, 'COMMIT'), times(fresh, 'BEGIN')]).toEqual([1, 1, 1, 1, 0]);
      expect(lines.some((l) => /mysql connection (found dead at the first statement of a transaction|closed by the server|error)/.test(l))).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('commits each autocommit() statement on its own, and its COMMIT never commits a transaction that started meanwhile', async () => {
    const m = manager();
    await m.autocommit('SELECT 1'); // connected
    const standalone = m.autocommit('INSERT INTO t (id) VALUES (10)');
    const failing = m.transaction(async (q) => {
      await q('INSERT INTO t (id) VALUES (11)');
      throw new Error('rolled back');
    });
    await standalone;
    await expect(failing).rejects.toThrow('rolled back');
    await Promise.all([m.autocommit('INSERT INTO t (id) VALUES (12)'), m.autocommit('INSERT INTO t (id) VALUES (13)')]);
    expect(await ids()).toEqual([10, 12, 13]);
  });

  it('runs an autocommit() called inside a transaction as part of it, as with BEGIN', async () => {
    const m = manager();
    await expect(m.transaction(async (q) => {
      await q('INSERT INTO t (id) VALUES (20)');
      await m.autocommit('INSERT INTO t (id) VALUES (21)');
      throw new Error('rolled back');
    })).rejects.toThrow('rolled back');
    expect(await ids()).toEqual([]);
  });

  it('is off by default: a manager without it runs BEGIN and the session autocommits', async () => {
    const m = new ConnectionManager({ url: db.url, logger });
    managers.push(m);
    const { rows } = await m.autocommit<{ autocommit: number }>('SELECT @@autocommit AS autocommit');
    expect(Number(rows[0]?.autocommit)).toBe(1);
    const implicit = manager();
    const inside = await implicit.transaction(async (q) => (await q<{ autocommit: number }>('SELECT @@autocommit AS autocommit')).rows[0]?.autocommit);
    expect(Number(inside)).toBe(0);
  });
});
