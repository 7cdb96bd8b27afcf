/**
 * The bench's side of MariaDB: one admin connection for the whole run (opened before any count is taken), a fresh
 * database per contender, the server's `Connections` counter, the example app's invariant, and commit times.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import mysql from 'mysql2/promise';
import { expectedTotals, PHASE_PREFIX, type Phase } from './orders.js';
import { WARREN_TABLES_SQL } from '../runtime/db/warrenTables.js';

export const ADMIN_URL = process.env.WARREN_BENCH_ADMIN_URL ?? 'mysql://root@127.0.0.1:3306';
const SCHEMA = new URL('../examples/orders/functions/schema.sql', import.meta.url);

/** Thrown when a contender left the tables in a state the example app must never reach. */
export class InvariantError extends Error {
  public override readonly name = 'InvariantError';
  public constructor(contender: string, public readonly problems: readonly string[]) {
    super(`${contender} broke the example app's invariant: ${problems.join('; ')}`);
  }
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** The global counters read around each contender (see `serverCounters.ts`). */
export const STATUS_COUNTERS = [
  'Questions', 'Com_begin', 'Com_commit', 'Com_rollback', 'Com_insert', 'Com_update', 'Com_delete', 'Com_select',
  'Innodb_data_fsyncs', 'Innodb_log_writes',
] as const;
/** InnoDB's count of read-write transactions committed (explicit COMMIT or an autocommit write). */
export const COMMIT_METRIC = 'trx_rw_commits';
export type StatusCounter = (typeof STATUS_COUNTERS)[number] | typeof COMMIT_METRIC;

export class BenchDatabase {
  /** Statements this admin connection has sent, so they can be taken out of the server's `Questions`. */
  public statementsRun = 0;

  private constructor(private readonly admin: mysql.Connection) {}

  private query<T extends mysql.RowDataPacket[] | mysql.ResultSetHeader>(sql: string, values?: unknown[]): Promise<[T, mysql.FieldPacket[]]> {
    this.statementsRun += 1;
    return this.admin.query<T>(sql, values);
  }

  public static async open(): Promise<BenchDatabase> {
    return new BenchDatabase(await mysql.createConnection({ uri: ADMIN_URL, multipleStatements: true }));
  }

  public async version(): Promise<string> {
    const [rows] = await this.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
    return String(rows[0]?.v);
  }

  /** Creates a database with the example app's schema and Warren's tables; returns its name and URL. */
  public async create(prefix: string): Promise<{ name: string; url: string }> {
    const name = uniqueName(prefix);
    await this.query('CREATE DATABASE ??', [name]);
    await this.query('USE ??', [name]);
    await this.query(await readFile(SCHEMA, 'utf8'));
    // Warren's own tables too, so the baselines can run the example app's full transaction (inbox + outbox).
    for (const sql of WARREN_TABLES_SQL) await this.query(sql);
    await this.query('USE mysql');
    return { name, url: `${ADMIN_URL.replace(/\/$/, '')}/${name}` };
  }

  public async drop(name: string): Promise<void> {
    await this.query('DROP DATABASE IF EXISTS ??', [name]).catch(() => undefined);
  }

  /** The server's count of connection attempts since it started (`SHOW GLOBAL STATUS LIKE 'Connections'`). */
  public async connections(): Promise<number> {
    const [rows] = await this.query<mysql.RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'Connections'");
    return Number(rows[0]?.Value);
  }

  /**
   * Turns on InnoDB's `trx_rw_commits` counter when it is off (a monitor counter; the bench leaves it on, since two
   * runs could overlap). Returns false when the server refuses (no privilege), so commits are then not reported.
   */
  public async enableCommitCounter(): Promise<boolean> {
    try {
      const [rows] = await this.query<mysql.RowDataPacket[]>('SELECT ENABLED FROM information_schema.INNODB_METRICS WHERE NAME = ?', [COMMIT_METRIC]);
      if (Number(rows[0]?.ENABLED) !== 1) await this.query('SET GLOBAL innodb_monitor_enable = ?', [COMMIT_METRIC]);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The server-wide counters of `STATUS_COUNTERS` and `COMMIT_METRIC`, in one statement, and `statementsRun` as it was
   * when that statement was sent (it counts itself).
   */
  public async serverCounters(): Promise<{ values: Partial<Record<StatusCounter, number>>; ownStatements: number }> {
    const placeholders = STATUS_COUNTERS.map(() => '?').join(', ');
    const pending = this.query<mysql.RowDataPacket[]>(
      `SELECT VARIABLE_NAME AS name, VARIABLE_VALUE AS value FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN (${placeholders})
       UNION ALL SELECT NAME, COUNT FROM information_schema.INNODB_METRICS WHERE NAME = ? AND ENABLED = 1`,
      [...STATUS_COUNTERS.map((n) => n.toUpperCase()), COMMIT_METRIC],
    );
    const ownStatements = this.statementsRun;
    const [rows] = await pending;
    const values: Partial<Record<StatusCounter, number>> = {};
    for (const row of rows) {
      const name = ([...STATUS_COUNTERS, COMMIT_METRIC] as StatusCounter[]).find((n) => n.toUpperCase() === String(row.name).toUpperCase());
      if (name !== undefined) values[name] = Number(row.value);
    }
    return { values, ownStatements };
  }

  /** Ids of the server threads connected to `database` now. */
  public async threadsOn(database: string): Promise<number[]> {
    const [rows] = await this.query<mysql.RowDataPacket[]>('SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ?', [database]);
    return rows.map((r) => Number(r.ID));
  }

  /**
   * Each order id exactly once, every published order present, and `sku_totals` equal both to SUM(orders.quantity)
   * per SKU and to the totals the published orders must produce. Throws `InvariantError` listing what is wrong.
   */
  public async checkOrders(contender: string, database: string, counts: Readonly<Record<Phase, number>>): Promise<void> {
    const problems: string[] = [];
    for (const phase of Object.keys(PHASE_PREFIX) as Phase[]) {
      const [rows] = await this.query<mysql.RowDataPacket[]>(
        'SELECT COUNT(*) AS n, COUNT(DISTINCT order_id) AS d FROM ??.orders WHERE order_id LIKE ?', [database, `${PHASE_PREFIX[phase]}-%`],
      );
      const n = Number(rows[0]?.n);
      if (n !== counts[phase] || Number(rows[0]?.d) !== n) problems.push(`${n} ${phase} orders recorded, ${counts[phase]} published`);
    }
    const [orderSums] = await this.query<mysql.RowDataPacket[]>('SELECT sku, SUM(quantity) AS total FROM ??.orders GROUP BY sku', [database]);
    const [totals] = await this.query<mysql.RowDataPacket[]>('SELECT sku, quantity_total AS total FROM ??.sku_totals', [database]);
    const expected = expectedTotals(counts);
    const fromOrders = new Map(orderSums.map((r) => [String(r.sku), Number(r.total)]));
    const fromTotals = new Map(totals.map((r) => [String(r.sku), Number(r.total)]));
    for (const sku of new Set([...expected.keys(), ...fromOrders.keys(), ...fromTotals.keys()])) {
      const want = expected.get(sku) ?? 0;
      if ((fromTotals.get(sku) ?? 0) !== (fromOrders.get(sku) ?? 0)) problems.push(`sku_totals(${sku}) = ${fromTotals.get(sku) ?? 0} but SUM(orders.quantity) = ${fromOrders.get(sku) ?? 0}`);
      if ((fromTotals.get(sku) ?? 0) !== want) problems.push(`sku_totals(${sku}) = ${fromTotals.get(sku) ?? 0}, expected ${want}`);
    }
    if (problems.length > 0) throw new InvariantError(contender, problems.slice(0, 10));
  }

  /** When each fixed-rate order was inserted (ms since epoch), by its index: `orders.created_at`, set in its transaction. */
  public async latencyCommitTimes(database: string): Promise<Map<number, number>> {
    const [rows] = await this.query<mysql.RowDataPacket[]>(
      'SELECT order_id, UNIX_TIMESTAMP(created_at) AS t FROM ??.orders WHERE order_id LIKE ?', [database, `${PHASE_PREFIX.latency}-%`],
    );
    return new Map(rows.map((r) => [Number(String(r.order_id).slice(2)), Math.round(Number(r.t) * 1000)]));
  }

  public async close(): Promise<void> {
    await this.admin.end().catch(() => undefined);
  }
}
