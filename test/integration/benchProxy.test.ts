import type { TLSSocket } from 'node:tls';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BenchProxy } from '../../bench/proxy/BenchProxy.js';
import { DelayLine } from '../../bench/proxy/DelayLine.js';
import { ADMIN_DB_URL, createTestDatabase, type TestDatabase } from '../helpers/services.js';

describe('Class: BenchProxy (the bench\'s TLS-terminating MySQL proxy)', () => {
  let proxy: BenchProxy;
  let db: TestDatabase;

  beforeAll(async () => {
    proxy = await BenchProxy.start(ADMIN_DB_URL, 0.5);
    db = await createTestDatabase({ schema: false });
  });

  afterAll(async () => {
    await proxy.close();
    await db.drop();
  });

  it('serves a client that verifies its certificate over TLS, and a transaction through it commits', async () => {
    const conn = await mysql.createConnection({ uri: proxy.urlFor(db.url) });
    try {
      const stream = (conn as unknown as { connection: { stream: TLSSocket } }).connection.stream;
      expect(stream.getProtocol()).toMatch(/^TLSv1\.[23]$/);
      await conn.query('CREATE TABLE t (id INT PRIMARY KEY, v INT)');
      await conn.query('BEGIN');
      await conn.query('INSERT INTO t VALUES (?, ?), (?, ?)', [1, 10, 2, 20]);
      await conn.query('COMMIT');
      const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT SUM(v) AS s FROM t');
      expect(Number(rows[0]?.s)).toBe(30);
    } finally {
      await conn.end();
    }
    const stats = await proxy.stats();
    expect(stats.delivered).toBeGreaterThan(10);
  });

  it('is refused by a client that does not trust its certificate', async () => {
    const url = new URL(proxy.urlFor(db.url));
    url.searchParams.set('ssl', JSON.stringify({}));
    await expect(mysql.createConnection({ uri: url.toString() })).rejects.toThrow(/self[- ]signed certificate/);
  });

  it('passes a client that asks for no TLS through unchanged', async () => {
    const url = new URL(db.url);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const conn = await mysql.createConnection({ uri: url.toString() });
    try {
      const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT DATABASE() AS d');
      expect(rows[0]?.d).toBe(db.name);
    } finally {
      await conn.end();
    }
  });

  it('authenticates a user with a password (the scramble and the shifted sequence numbers survive the proxy)', async () => {
    const user = `wbp_${db.name.slice(-8)}`;
    const admin = await mysql.createConnection({ uri: ADMIN_DB_URL });
    await admin.query('CREATE USER ?@? IDENTIFIED BY ?', [user, '%', 's3cret-pw']);
    await admin.query('GRANT SELECT ON ??.* TO ?@?', [db.name, user, '%']);
    try {
      const url = new URL(proxy.urlFor(db.url));
      url.username = user;
      url.password = 's3cret-pw';
      const conn = await mysql.createConnection({ uri: url.toString() });
      const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT CURRENT_USER() AS u');
      expect(String(rows[0]?.u)).toBe(`${user}@%`);
      await conn.end();
      url.password = 'wrong';
      await expect(mysql.createConnection({ uri: url.toString() })).rejects.toThrow(/Access denied/);
    } finally {
      await admin.query('DROP USER ?@?', [user, '%']);
      await admin.end();
    }
  });
});

describe('Class: DelayLine', () => {
  it('runs every callback once, in the order they were queued', async () => {
    const line = new DelayLine(0.25);
    const ran: number[] = [];
    await new Promise<void>((resolve) => {
      for (let i = 0; i < 50; i += 1) line.push(() => { ran.push(i); if (ran.length === 50) resolve(); });
    });
    await line.close();
    expect(ran).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(line.stats().delivered).toBe(50);
  });
});
