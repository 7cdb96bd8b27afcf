/**
 * Warren's own tables, created on first use in every process (CREATE TABLE IF NOT EXISTS is cheap and idempotent):
 * - `warren_inbox`: one row per handled (or dead-lettered) message key, written in the handler's own transaction.
 * - `warren_deliveries`: failed deliveries per message key, written outside the rolled-back transaction.
 * - `warren_outbox`: messages a handler published, written in its transaction, sent after the commit; `source_queue`
 *   is the shard queue of the message that caused them (one consumer per shard, so one flusher per shard).
 */
import type { ConnectionManager } from './ConnectionManager.js';

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
] as const;

const ensured = new WeakSet<ConnectionManager>();

/** Creates Warren's tables once per connection manager. */
export async function ensureWarrenTables(db: ConnectionManager): Promise<void> {
  if (ensured.has(db)) return;
  for (const sql of WARREN_TABLES_SQL) await db.autocommit(sql);
  ensured.add(db);
}
