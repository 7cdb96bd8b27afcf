/**
 * Exactly-once effects: a message's key is claimed in `warren_inbox` inside the handler's own transaction, so the
 * handler's writes and the claim commit (or roll back) together. A second delivery finds the claim and does nothing.
 */
import { createHash } from 'node:crypto';
import type { Database, QueryFn } from './db/ConnectionManager.js';
import type { WarrenMessage } from './decode.js';
import { MissingMessageKeyError } from './errors.js';

/**
 * What to do with a message that has no key: `process` it at-least-once without an inbox claim (a redelivery runs it
 * again), `dead-letter` it, or key it by a SHA-256 of its body (`hash-body`: identical bodies count as one message).
 */
export const MISSING_KEY_POLICIES = { process: 'process', deadLetter: 'dead-letter', hashBody: 'hash-body' } as const;
export type MissingKeyPolicy = (typeof MISSING_KEY_POLICIES)[keyof typeof MISSING_KEY_POLICIES];

export type KeyFunction = (message: WarrenMessage) => string | null | undefined;

const MAX_KEY = 191;

/**
 * The message's inbox key: the key function's result, else the AMQP message_id; long keys are hashed to fit. Without
 * one: null under `process`, a body hash under `hash-body`, `MissingMessageKeyError` under `dead-letter`.
 */
export function messageKey(message: WarrenMessage, keyFn: KeyFunction | undefined, onMissing: MissingKeyPolicy): string | null {
  const key = keyFn === undefined ? message.messageId : keyFn(message);
  if (key !== null && key !== undefined && key !== '') {
    return key.length <= MAX_KEY ? key : `sha256:${createHash('sha256').update(key).digest('hex')}`;
  }
  if (onMissing === 'process') return null;
  if (onMissing === 'hash-body') return bodyHashKey(message);
  throw new MissingMessageKeyError();
}

/** A key made of the body's SHA-256 (what `hash-body` uses; also how failures of an unkeyed message are counted). */
export function bodyHashKey(message: WarrenMessage): string {
  return `body-sha256:${createHash('sha256').update(message.data).digest('hex')}`;
}

/**
 * Claims `key` for `handler` inside the current transaction. Returns false when it was already processed.
 * A replayed dead letter (header x-warren-replayed-at) may reclaim a key whose outcome was 'dead-lettered'.
 * A concurrent delivery of the same key waits on the row lock and then sees the claim (or takes it if we rolled back).
 */
export async function claim(query: QueryFn, handler: string, key: string, replayed: boolean): Promise<boolean> {
  const inserted = await query('INSERT IGNORE INTO warren_inbox (handler, message_key) VALUES (?, ?)', [handler, key]);
  if (inserted.affectedRows === 1) return true;
  if (!replayed) return false;
  const { rows } = await query<{ outcome: string }>('SELECT outcome FROM warren_inbox WHERE handler = ? AND message_key = ? FOR UPDATE', [handler, key]);
  if (rows[0]?.outcome !== 'dead-lettered') return false;
  await query("UPDATE warren_inbox SET outcome = 'processed', processed_at = CURRENT_TIMESTAMP(3) WHERE handler = ? AND message_key = ?", [handler, key]);
  return true;
}

/** The key's outcome in the inbox, or null when it is not there. */
export async function inboxOutcome(db: Database, handler: string, key: string): Promise<'processed' | 'dead-lettered' | null> {
  const { rows } = await db.autocommit<{ outcome: 'processed' | 'dead-lettered' }>('SELECT outcome FROM warren_inbox WHERE handler = ? AND message_key = ?', [handler, key]);
  return rows[0]?.outcome ?? null;
}

/** Records that the key went to the dead-letter queue, so a redelivery does not send it there again. */
export async function markDeadLettered(db: Database, handler: string, key: string): Promise<void> {
  await db.autocommit("INSERT INTO warren_inbox (handler, message_key, outcome) VALUES (?, ?, 'dead-lettered') ON DUPLICATE KEY UPDATE outcome = 'dead-lettered', processed_at = CURRENT_TIMESTAMP(3)", [handler, key]);
  await clearFailures(db, handler, key);
}

/** Forgets the failed deliveries counted for `key`. */
export async function clearFailures(db: Database, handler: string, key: string): Promise<void> {
  await db.autocommit('DELETE FROM warren_deliveries WHERE handler = ? AND message_key = ?', [handler, key]);
}

/** Counts one failed delivery of `key` outside any transaction; returns the failures so far. */
export async function recordFailure(db: Database, handler: string, key: string, error: string): Promise<number> {
  await db.autocommit(
    'INSERT INTO warren_deliveries (handler, message_key, failures, last_error) VALUES (?, ?, 1, ?) ON DUPLICATE KEY UPDATE failures = failures + 1, last_error = VALUES(last_error)',
    [handler, key, error.slice(0, 1_000)],
  );
  const { rows } = await db.autocommit<{ failures: number }>('SELECT failures FROM warren_deliveries WHERE handler = ? AND message_key = ?', [handler, key]);
  return Number(rows[0]?.failures ?? 1);
}


/**
 * The statements that prune the inbox, in batches of 5,000 rows, each run until it deletes fewer: the inbox rows, and
 * the replies kept with them (`warren_replies`, written in the same transaction as their inbox row, so the same age
 * rule keeps a reply exactly as long as its inbox row). Values: the cutoff, then the handler when `handler` is set.
 */
export function pruneInboxStatements(handler?: string): readonly string[] {
  const where = handler === undefined ? '' : ' AND handler = ?';
  return [
    `DELETE FROM warren_inbox WHERE processed_at < ?${where} LIMIT 5000`,
    `DELETE FROM warren_replies WHERE created_at < ?${where} LIMIT 5000`,
  ];
}

/**
 * Deletes inbox rows older than `olderThanSeconds` (all handlers, or one), and the replies kept with them.
 * Deduplication (and answering a retried request again) holds for messages redelivered or retried within that window:
 * keep it longer than any redelivery, retry or replay can take. Returns the inbox rows deleted.
 */
export async function pruneInbox(db: Database, olderThanSeconds: number, handler?: string): Promise<number> {
  const cutoff = new Date(Date.now() - olderThanSeconds * 1000);
  const values = handler === undefined ? [cutoff] : [cutoff, handler];
  const [inboxSql, repliesSql] = pruneInboxStatements(handler) as [string, string];
  let total = 0;
  for (;;) {
    const { affectedRows } = await db.autocommit(inboxSql, values);
    total += affectedRows;
    if (affectedRows < 5000) break;
  }
  for (;;) {
    const { affectedRows } = await db.autocommit(repliesSql, values);
    if (affectedRows < 5000) return total;
  }
}
