/**
 * Start-up check of the runner's database user (DATABASE_URL): Warren's tables exist (created if the user may, as
 * before), and the user may SELECT, INSERT, UPDATE and DELETE on them and on the application's tables. It probes with
 * statements that change nothing (`... WHERE FALSE`, `LIMIT 0`), so it reads the server's own answer whatever granted
 * the privilege (global, database, table, role); a probe failing for another reason (a generated column) is skipped.
 * The first refusal stops the start with a `PrivilegeError` naming the
 * user, the privilege, the table and the GRANT to run. The application's tables are those the user can see plus
 * `tables` (the cli passes what the migrations user sees, so a table hidden from the runner's user is named too).
 */
import mysql from 'mysql2/promise';
import { appGrantStatement } from '../../runtime/db/appDatabaseUser.js';
import { ConnectionManager } from '../../runtime/db/ConnectionManager.js';
import { PrivilegeError } from '../../runtime/errors.js';
import { createLogger } from '../../runtime/logger.js';
import { ensureWarrenTables, quoteUser, WARREN_TABLE_NAMES } from '../../runtime/db/warrenTables.js';

export interface PrivilegeCheck {
  readonly user: string;
  readonly database: string;
  /** Tables probed, Warren's first. */
  readonly tables: readonly string[];
}

const PROBES = [
  ['SELECT', 'SELECT 1 FROM ?? LIMIT 0'],
  ['INSERT', 'INSERT INTO ?? SELECT * FROM ?? WHERE FALSE'],
  ['UPDATE', 'UPDATE ?? SET ?? = ?? WHERE FALSE'],
  ['DELETE', 'DELETE FROM ?? WHERE FALSE'],
] as const;

/** Lists the base tables of the URL's database that its user can see. */
export async function visibleTables(url: string): Promise<string[]> {
  const connection = await mysql.createConnection({ uri: url, connectTimeout: 10_000 });
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>("SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME");
    return rows.map((r) => String(r.name));
  } finally {
    await connection.end().catch(() => undefined);
  }
}

/** Runs the check; resolves with what was probed, or rejects with a `PrivilegeError`. */
export async function checkPrivileges(url: string, tables: readonly string[] = []): Promise<PrivilegeCheck> {
  const database = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  const db = new ConnectionManager({ url, logger: createLogger({ component: 'privileges' }, { level: 'warn' }) });
  try {
    await ensureWarrenTables(db);
    const current = (await db.autocommit<{ u: string }>('SELECT CURRENT_USER() AS u')).rows[0]?.u ?? '';
    const at = current.lastIndexOf('@');
    const [name, host] = at < 0 ? [current, '%'] : [current.slice(0, at), current.slice(at + 1)];
    const user = quoteUser(current);
    const visible = (await db.autocommit<{ name: string }>("SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'")).rows.map((r) => r.name);
    const all = [...new Set([...WARREN_TABLE_NAMES, ...[...visible, ...tables].sort()])];
    for (const table of all) {
      let column = '';
      for (const [privilege, sql] of PROBES) {
        try {
          if (privilege === 'SELECT') {
            await db.autocommit(sql, [table]);
            column = await firstColumn(db, table);
          } else if (privilege === 'INSERT') await db.autocommit(sql, [table, table]);
          else if (privilege === 'UPDATE') await db.autocommit(sql, [table, column, column]);
          else await db.autocommit(sql, [table]);
        } catch (error) {
          // Only a refusal counts: a probe the table itself rejects (generated columns, a view) says nothing about privileges.
          if ((error as { code?: unknown }).code !== 'ER_TABLEACCESS_DENIED_ERROR' && (error as { code?: unknown }).code !== 'ER_COLUMNACCESS_DENIED_ERROR') continue;
          throw new PrivilegeError({
            user, privilege, table: `\`${database}\`.\`${table}\``,
            fix: `Run as an administrator: ${appGrantStatement(database, name, host)}; (docs/local-runner.md, "Database users").`,
          }, { cause: error });
        }
      }
    }
    return { user, database, tables: all };
  } finally {
    await db.close();
  }
}

/** A column of `table` (for the UPDATE probe), from the server's description of an empty result. */
async function firstColumn(db: ConnectionManager, table: string): Promise<string> {
  const { rows } = await db.autocommit<{ Field: string }>('SHOW COLUMNS FROM ??', [table]);
  return rows[0]?.Field ?? '';
}
