/**
 * Warren's own tables, created on first use in every process (CREATE TABLE IF NOT EXISTS is cheap and idempotent):
 * - `warren_inbox`: one row per handled (or dead-lettered) message key, written in the handler's own transaction.
 * - `warren_deliveries`: failed deliveries per message key, written outside the rolled-back transaction.
 * - `warren_outbox`: messages a handler published, written in its transaction, sent after the commit; `source_queue`
 *   is the shard queue of the message that caused them (one consumer per shard, so one flusher per shard).
 * - `warren_replies`: the reply (`ctx.reply`, or the error reply of a dead-lettered request) kept per inbox key, written
 *   in the same transaction as the inbox row, so a retried request is answered again; pruned with the inbox.
 * A table added in a later version is created by the next migration (CREATE TABLE IF NOT EXISTS), so an existing
 * database is upgraded by running the migrations (on AWS every deploy runs them); existing tables are never altered.
 */
import type { ConnectionManager } from './ConnectionManager.js';
import { PrivilegeError } from '../errors.js';

export const WARREN_TABLES_SQL = [
  `CREATE TABLE IF NOT EXISTS warren_inbox (
    handler      VARCHAR(64)  NOT NULL,
    message_key  VARCHAR(191) NOT NULL,
    outcome      ENUM('processed', 'dead-lettered') NOT NULL DEFAULT 'processed',
    processed_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (handler, message_key),
    KEY warren_inbox_age (processed_at)
  ) ENGINE=InnoDB`,
  `CREATE TABLE IF NOT EXISTS warren_deliveries (
    handler      VARCHAR(64)  NOT NULL,
    message_key  VARCHAR(191) NOT NULL,
    failures     INT UNSIGNED NOT NULL,
    last_error   VARCHAR(1000) NOT NULL,
    updated_at   TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (handler, message_key)
  ) ENGINE=InnoDB`,
  `CREATE TABLE IF NOT EXISTS warren_outbox (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    handler      VARCHAR(64)   NOT NULL,
    source_queue VARCHAR(255)  NOT NULL,
    exchange    VARCHAR(255)  NOT NULL,
    routing_key VARCHAR(255)  NOT NULL,
    message_id  VARCHAR(255)  NOT NULL,
    body        MEDIUMBLOB    NOT NULL,
    properties  TEXT          NOT NULL,
    created_at  TIMESTAMP(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    sent_at     TIMESTAMP(3)  NULL,
    KEY warren_outbox_unsent (handler, sent_at, id),
    KEY warren_outbox_shard (handler, source_queue, sent_at, id)
  ) ENGINE=InnoDB`,
  `CREATE TABLE IF NOT EXISTS warren_replies (
    handler      VARCHAR(64)  NOT NULL,
    message_key  VARCHAR(191) NOT NULL,
    body         MEDIUMBLOB   NOT NULL,
    properties   TEXT         NOT NULL,
    created_at   TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (handler, message_key),
    KEY warren_replies_age (created_at)
  ) ENGINE=InnoDB`,
] as const;

/** Names of Warren's tables, in the order of WARREN_TABLES_SQL. */
export const WARREN_TABLE_NAMES = ['warren_inbox', 'warren_deliveries', 'warren_outbox', 'warren_replies'] as const;

const ensured = new WeakSet<ConnectionManager>();

/**
 * Creates Warren's missing tables once per connection manager. It looks first (one SELECT) and creates only what is
 * missing, so an application user with DML only (docs/local-runner.md, "Database users") runs no DDL once the migrations created
 * the tables; if a table is missing and the user may not create it, it throws a `PrivilegeError` saying so.
 */
export async function ensureWarrenTables(db: ConnectionManager): Promise<void> {
  if (ensured.has(db)) return;
  const { rows } = await db.autocommit<{ name: string }>(
    `SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (${WARREN_TABLE_NAMES.map(() => '?').join(', ')})`,
    WARREN_TABLE_NAMES,
  );
  const present = new Set(rows.map((r) => r.name.toLowerCase()));
  for (const [i, name] of WARREN_TABLE_NAMES.entries()) {
    if (present.has(name)) continue;
    try {
      await db.autocommit(WARREN_TABLES_SQL[i]!);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code !== 'ER_TABLEACCESS_DENIED_ERROR' && code !== 'ER_DBACCESS_DENIED_ERROR') throw error;
      const user = (await db.autocommit<{ u: string }>('SELECT CURRENT_USER() AS u')).rows[0]?.u ?? 'this user';
      throw new PrivilegeError({
        user: quoteUser(user),
        privilege: 'CREATE',
        table: name,
        fix: `The table does not exist and this user may not create it: run the migrations first as a user that may (locally \`npm run migrate\` with MIGRATIONS_URL; on AWS the migrations custom resource creates it).`,
      }, { cause: error });
    }
  }
  ensured.add(db);
}

/** `app@%` as MySQL prints CURRENT_USER(), quoted the way GRANT takes it: `'app'@'%'`. */
export function quoteUser(currentUser: string): string {
  const at = currentUser.lastIndexOf('@');
  return at < 0 ? `'${currentUser}'` : `'${currentUser.slice(0, at)}'@'${currentUser.slice(at + 1)}'`;
}
