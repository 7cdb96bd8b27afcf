import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RowDataPacket } from 'mysql2/promise';
import { ConnectionManager } from '../../runtime/ConnectionManager.js';
import { ConnectionLostError, DatabaseUnavailableError, TransactionClosedError } from '../../runtime/errors.js';
import { createLogger } from '../../runtime/logger.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../helpers/services.js';
import { startTcpProxy } from '../helpers/tcpProxy.js';

let db: TestDatabase;
const lines: string[] = [];
const logger = createLogger({}, { sink: (line) => lines.push(line) });
const managers: ConnectionManager[] = [];

function manager(options: ConstructorParameters<typeof ConnectionManager>[0] = {}): ConnectionManager {
  const m = new ConnectionManager({ url: db.url, logger, ...options });
  managers.push(m);
  return m;
}

async function countRows(table: string): Promise<number> {
  const rows = await db.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM $db.${table}`);
  return Number(rows[0]?.n);
}

beforeAll(async () => {
  db = await createTestDatabase();
  await db.query('CREATE TABLE $db.t (id INT PRIMARY KEY)');
});
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()));
  await db.query('DELETE FROM $db.t');
  lines.length = 0;
});
afterAll(async () => db.drop());

describe('Class: ConnectionManager', () => {
  it('opens one connection lazily and reuses it for every transaction', async () => {
    const m = manager();
    expect(m.stats.connects).toBe(0);
    expect(await db.threadIds()).toEqual([]);
    for (let i = 0; i < 50; i += 1) await m.transaction((q) => q('INSERT INTO t (id) VALUES (?)', [i]));
    expect(m.stats).toMatchObject({ connects: 1, connected: true, served: 50 });
    expect(await db.threadIds()).toEqual([m.stats.threadId]);
    expect(await countRows('t')).toBe(50);
  });

  it('commits on success and rolls back when the function throws', async () => {
    const m = manager();
    await m.transaction((q) => q('INSERT INTO t (id) VALUES (1)'));
    await expect(m.transaction(async (q) => { await q('INSERT INTO t (id) VALUES (2)'); throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await countRows('t')).toBe(1);
    expect(m.stats.connects).toBe(1);
  });

  it('returns rows for a SELECT and counts for a write', async () => {
    const m = manager();
    const write = await m.transaction((q) => q('INSERT INTO t (id) VALUES (?), (?)', [7, 8]));
    expect(write.affectedRows).toBe(2);
    const read = await m.transaction((q) => q<{ id: number }>('SELECT id FROM t ORDER BY id'));
    expect(read.rows.map((r) => r.id)).toEqual([7, 8]);
  });

  it('replaces a connection KILLed server-side between transactions, and the next transaction succeeds', async () => {
    const m = manager();
    await m.transaction((q) => q('INSERT INTO t (id) VALUES (1)'));
    const first = m.stats.threadId;
    await db.query(`KILL ${Number(first)}`);
    await new Promise((r) => setTimeout(r, 50));
    await m.transaction((q) => q('INSERT INTO t (id) VALUES (2)'));
    expect(m.stats.connects).toBe(2);
    expect(m.stats.threadId).not.toBe(first);
    expect(await countRows('t')).toBe(2);
  });

  it('retries only BEGIN when the connection died unnoticed (the kill raced the next transaction)', async () => {
    const m = manager();
    await m.transaction((q) => q('INSERT INTO t (id) VALUES (1)'));
    // KILL and start the next transaction at once: the client may not have seen the close yet.
    await Promise.all([db.query(`KILL ${Number(m.stats.threadId)}`), new Promise((r) => setTimeout(r, 5))]);
    await m.transaction((q) => q('INSERT INTO t (id) VALUES (2)'));
    expect(await countRows('t')).toBe(2);
  });

  it('fails the transaction with ConnectionLostError when the connection is KILLed inside it, and never re-runs a statement', async () => {
    const m = manager();
    let calls = 0;
    const attempt = m.transaction(async (q) => {
      calls += 1;
      await q('INSERT INTO t (id) VALUES (1)');
      await db.query(`KILL ${Number(m.stats.threadId)}`);
      await q('INSERT INTO t (id) VALUES (2)');
    });
    await expect(attempt).rejects.toBeInstanceOf(ConnectionLostError);
    expect(calls).toBe(1);
    expect(await countRows('t')).toBe(0); // never half-committed
    expect(lines.some((l) => /"level":"warn","msg":"mysql connection (died inside a transaction|error|closed by the server)"/.test(l))).toBe(true);
    await m.transaction((q) => q('INSERT INTO t (id) VALUES (3)'));
    expect(await countRows('t')).toBe(1);
    expect(m.stats.connects).toBe(2);
  });

  it('refuses to commit when the handler swallowed the connection error', async () => {
    const m = manager();
    const attempt = m.transaction(async (q) => {
      await q('INSERT INTO t (id) VALUES (1)');
      await db.query(`KILL ${Number(m.stats.threadId)}`);
      await q('INSERT INTO t (id) VALUES (2)').catch(() => undefined);
    });
    await expect(attempt).rejects.toThrow(/handler caught the error/);
    expect(await countRows('t')).toBe(0);
  });

  it('keeps an idle connection that answers its ping', async () => {
    const m = manager({ pingAfterIdleMs: 0 });
    await m.transaction((q) => q('INSERT INTO t (id) VALUES (1)'));
    const first = m.stats.threadId;
    await m.transaction((q) => q('INSERT INTO t (id) VALUES (2)'));
    expect(m.stats.threadId).toBe(first);
    expect(m.stats.connects).toBe(1);
  });

  it('replaces an idle connection whose ping gets no answer (a half-open link, as after a long freeze)', async () => {
    const proxy = await startTcpProxy(3306);
    try {
      const m = manager({ url: `mysql://root@127.0.0.1:${proxy.port}/${db.name}`, pingAfterIdleMs: 50, connectTimeoutMs: 300 });
      await m.transaction((q) => q('INSERT INTO t (id) VALUES (1)'));
      const first = m.stats.threadId;
      proxy.freezeAll();
      await new Promise((r) => setTimeout(r, 100));
      await m.transaction((q) => q('INSERT INTO t (id) VALUES (2)'));
      expect(m.stats.connects).toBe(2);
      expect(m.stats.threadId).not.toBe(first);
      expect(await countRows('t')).toBe(2);
      expect(lines.some((l) => l.includes('idle connection failed its ping'))).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('fails a transaction whose link goes silent mid-statement after the statement timeout, with nothing committed', async () => {
    const proxy = await startTcpProxy(3306);
    try {
      const m = manager({ url: `mysql://root@127.0.0.1:${proxy.port}/${db.name}`, statementTimeoutMs: 300 });
      const attempt = m.transaction(async (q) => {
        await q('INSERT INTO t (id) VALUES (1)');
        proxy.freezeAll();
        await q('INSERT INTO t (id) VALUES (2)');
      });
      await expect(attempt).rejects.toBeInstanceOf(ConnectionLostError);
      await m.transaction((q) => q('INSERT INTO t (id) VALUES (3)'));
      await waitFor('the frozen server thread to roll back', async () => (await countRows('t')) === 1, 5_000);
      expect(m.stats.connects).toBe(2);
    } finally {
      await proxy.close();
    }
  });

  it('rejects use of the query function after its transaction ended', async () => {
    const m = manager();
    let leaked: ((sql: string) => Promise<unknown>) | undefined;
    await m.transaction(async (q) => { leaked = q; });
    await expect(leaked?.('SELECT 1')).rejects.toBeInstanceOf(TransactionClosedError);
  });

  it('retries connecting with backoff when the server answers "Too many connections"', async () => {
    const proxy = await startTcpProxy(3306);
    try {
      proxy.refuseWithTooManyConnections(3);
      const m = manager({ url: `mysql://root@127.0.0.1:${proxy.port}/${db.name}`, connectBackoffBaseMs: 10, connectBackoffMaxMs: 50 });
      await m.transaction((q) => q('INSERT INTO t (id) VALUES (1)'));
      expect(proxy.accepted).toBe(4);
      expect(lines.filter((l) => l.includes('mysql connect failed; retrying') && l.includes('ER_CON_COUNT_ERROR'))).toHaveLength(3);
    } finally {
      await proxy.close();
    }
  });

  it('gives up with DatabaseUnavailableError after the configured attempts', async () => {
    const proxy = await startTcpProxy(3306);
    try {
      proxy.refuseWithTooManyConnections(100);
      const m = manager({ url: `mysql://root@127.0.0.1:${proxy.port}/${db.name}`, connectAttempts: 3, connectBackoffBaseMs: 1, connectBackoffMaxMs: 5 });
      await expect(m.transaction((q) => q('SELECT 1'))).rejects.toBeInstanceOf(DatabaseUnavailableError);
      expect(proxy.accepted).toBe(3);
    } finally {
      await proxy.close();
    }
  });

  it('closes idempotently and leaves no connection on the server', async () => {
    const m = manager();
    await m.transaction((q) => q('SELECT 1'));
    await m.close();
    await m.close();
    await expect(m.transaction((q) => q('SELECT 1'))).rejects.toThrow(/closed/);
    await new Promise((r) => setTimeout(r, 100));
    expect(await db.threadIds()).toEqual([]);
  });

  it('never logs the password of the connection string', async () => {
    const m = manager({ url: `mysql://root:s3cret-pw@127.0.0.1:1/${db.name}`, connectAttempts: 2, connectBackoffBaseMs: 1 });
    await expect(m.transaction((q) => q('SELECT 1'))).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(lines.join('\n')).not.toContain('s3cret-pw');
  });
});
