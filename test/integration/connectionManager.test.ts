import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RowDataPacket } from 'mysql2/promise';
import { ConnectionManager } from '../../runtime/db/ConnectionManager.js';
import { ConnectionLostError, DatabaseUnavailableError, TransactionClosedError } from '../../runtime/errors.js';
import { createLogger } from '../../runtime/logger.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../helpers/services.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js';

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

/** How many times the client sent `what` on one connection, from a proxy's record of it. */
const times = (text: string | undefined, what: string): number => (text ?? '').split(what).length - 1;

/** KILLs `m`'s connection server-side while `proxy` keeps the client side open: the client learns of it only when it writes. */
async function killUnnoticed(m: ConnectionManager, proxy: TcpProxy): Promise<void> {
  const first = Number(m.stats.threadId);
  proxy.holdServerCloses();
  await db.query(`KILL ${first}`);
  await waitFor('the server thread gone', async () => !(await db.threadIds()).includes(first), 10_000, 20);
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
    await waitFor('the manager saw the close', () => lines.some((l) => /mysql connection (error|closed by the server)/.test(l)), 10_000, 10);
    await m.transaction((q) => q('INSERT INTO t (id) VALUES (2)'));
    expect(m.stats.connects).toBe(2);
    expect(m.stats.threadId).not.toBe(first);
    expect(await countRows('t')).toBe(2);
  });

  it('retries only BEGIN when the connection died unnoticed, and never a statement of the transaction', async () => {
    // a proxy that keeps the client side open after the server closed: the client cannot notice before it writes
    const proxy = await startTcpProxy(3306);
    try {
      const m = manager({ url: `mysql://root@127.0.0.1:${proxy.port}/${db.name}` });
      await m.transaction((q) => q('INSERT INTO t (id) VALUES (1)'));
      await killUnnoticed(m, proxy);
      await m.transaction((q) => q('INSERT INTO t (id) VALUES (2)'));
      expect(await countRows('t')).toBe(2);
      expect(m.stats.connects).toBe(2);
      // what the client sent on each connection: BEGIN went to the dead one, then BEGIN and the INSERT to the new one
      const [dead, fresh, ...more] = proxy.clientStreams();
      expect(more).toEqual([]);
      expect([times(dead, 'BEGIN'), times(dead, 'INSERT INTO t (id) VALUES (1)'), times(dead, 'INSERT INTO t (id) VALUES (2)')]).toEqual([2, 1, 0]);
      expect([times(fresh, 'BEGIN'), times(fresh, 'INSERT INTO t (id) VALUES (2)'), times(fresh, 'COMMIT')]).toEqual([1, 1, 1]);
      expect(lines.some((l) => /mysql connection (found dead at BEGIN|closed by the server|error)/.test(l))).toBe(true);
    } finally {
      await proxy.close();
    }
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

  it('pings a connection idle for longer than pingAfterIdleMs before using it, and keeps it when it answers', async () => {
    const COM_PING = '\x01\x00\x00\x00\x0e'; // a MySQL packet: length 1, sequence 0, command 0x0e
    const proxy = await startTcpProxy(3306);
    try {
      const pinging = manager({ url: `mysql://root@127.0.0.1:${proxy.port}/${db.name}`, pingAfterIdleMs: 50 });
      await pinging.transaction((q) => q('INSERT INTO t (id) VALUES (1)'));
      const first = pinging.stats.threadId;
      await new Promise((r) => setTimeout(r, 120)); // idle for longer than 50 ms (a lower bound: load only adds)
      await pinging.transaction((q) => q('INSERT INTO t (id) VALUES (2)'));
      expect(pinging.stats).toMatchObject({ threadId: first, connects: 1 });
      // without the idle time no ping is sent
      const busy = manager({ url: `mysql://root@127.0.0.1:${proxy.port}/${db.name}`, pingAfterIdleMs: 60_000 });
      await busy.transaction((q) => q('INSERT INTO t (id) VALUES (3)'));
      await busy.transaction((q) => q('INSERT INTO t (id) VALUES (4)'));
      const [pinged, notPinged] = proxy.clientStreams();
      expect((pinged ?? '').split(COM_PING).length - 1).toBe(1);
      expect((notPinged ?? '').split(COM_PING).length - 1).toBe(0);
    } finally {
      await proxy.close();
    }
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

  it('bounds each statement, not the transaction: statements answering within the timeout pass however long the sum', async () => {
    const m = manager({ statementTimeoutMs: 400 });
    const started = Date.now();
    await m.transaction(async (q) => {
      for (let i = 1; i <= 5; i += 1) {
        await q('DO SLEEP(0.15)');
        await q('INSERT INTO t (id) VALUES (?)', [i]);
      }
    });
    expect(Date.now() - started).toBeGreaterThan(700); // five sleeps of 150 ms: longer than one timeout
    expect({ rows: await countRows('t'), connects: m.stats.connects }).toEqual({ rows: 5, connects: 1 });
  });

  it('fails a statement that takes longer than the timeout, names the setting in the log, and the next transaction gets a new connection', async () => {
    const m = manager({ statementTimeoutMs: 300 });
    await expect(m.transaction(async (q) => {
      await q('INSERT INTO t (id) VALUES (1)');
      await q('DO SLEEP(2)');
    })).rejects.toBeInstanceOf(ConnectionLostError);
    await m.transaction((q) => q('INSERT INTO t (id) VALUES (2)'));
    await waitFor('the abandoned server thread to roll back', async () => (await countRows('t')) === 1, 5_000);
    expect(m.stats.connects).toBe(2);
    expect(lines.some((l) => l.includes('no answer to a statement within 300 ms (statementTimeoutMs)'))).toBe(true);
  });

  it('fails a COMMIT that gets no answer (the link froze after the last statement) as outcome unknown, and never hangs', async () => {
    const proxy = await startTcpProxy(3306);
    try {
      const m = manager({ url: `mysql://root@127.0.0.1:${proxy.port}/${db.name}`, statementTimeoutMs: 300 });
      const attempt = m.transaction(async (q) => {
        await q('INSERT INTO t (id) VALUES (1)');
        proxy.freezeAll();
      });
      const error = await attempt.then(() => undefined, (e: unknown) => e);
      expect({ lost: error instanceof ConnectionLostError, unknown: (error as ConnectionLostError).commitOutcomeUnknown }).toEqual({ lost: true, unknown: true });
      await m.transaction((q) => q('INSERT INTO t (id) VALUES (2)'));
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
    const thread = Number(m.stats.threadId);
    expect(await db.threadIds()).toContain(thread);
    await m.close();
    await m.close();
    await expect(m.transaction((q) => q('SELECT 1'))).rejects.toThrow(/closed/);
    await waitFor('its server thread gone', async () => !(await db.threadIds()).includes(thread), 10_000, 20);
  });

  it('never logs the password of the connection string', async () => {
    const m = manager({ url: `mysql://root:s3cret-pw@127.0.0.1:1/${db.name}`, connectAttempts: 2, connectBackoffBaseMs: 1 });
    await expect(m.transaction((q) => q('SELECT 1'))).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(lines.join('\n')).not.toContain('s3cret-pw');
  });
});

/**
 * With `implicitTransactions` (the local runner's workers) the session runs with autocommit = 0 and a transaction sends
 * no BEGIN; its guarantees stay BEGIN ... COMMIT's: nothing visible or kept before COMMIT, a dead connection replaced
 * only before the transaction's first answer, and an autocommit() statement's COMMIT never commits a transaction's
 * statements.
 */
describe('Class: ConnectionManager with implicitTransactions', () => {
  const implicit = (options: ConstructorParameters<typeof ConnectionManager>[0] = {}) => manager({ implicitTransactions: true, ...options });
  const ids = async (): Promise<number[]> => (await db.query<RowDataPacket[]>('SELECT id FROM $db.t ORDER BY id')).map((r) => Number(r.id));

  it('sends no BEGIN, yet keeps a transaction invisible until its COMMIT and rolls it back whole when it throws', async () => {
    const proxy = await startTcpProxy(3306);
    try {
      const m = implicit({ url: `mysql://root@127.0.0.1:${proxy.port}/${db.name}` });
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
    const m = implicit();
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
      const m = implicit({ url: `mysql://root@127.0.0.1:${proxy.port}/${db.name}` });
      await m.transaction((q) => q('INSERT INTO t (id) VALUES (1)'));
      await killUnnoticed(m, proxy);
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
    const m = implicit();
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
    const m = implicit();
    await expect(m.transaction(async (q) => {
      await q('INSERT INTO t (id) VALUES (20)');
      await m.autocommit('INSERT INTO t (id) VALUES (21)');
      throw new Error('rolled back');
    })).rejects.toThrow('rolled back');
    expect(await ids()).toEqual([]);
  });

  it('is off by default: a manager without it runs BEGIN and the session autocommits', async () => {
    const m = manager();
    const { rows } = await m.autocommit<{ autocommit: number }>('SELECT @@autocommit AS autocommit');
    expect(Number(rows[0]?.autocommit)).toBe(1);
    const implicitOne = implicit();
    const inside = await implicitOne.transaction(async (q) => (await q<{ autocommit: number }>('SELECT @@autocommit AS autocommit')).rows[0]?.autocommit);
    expect(Number(inside)).toBe(0);
  });
});
