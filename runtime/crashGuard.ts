/**
 * Bounds a message that crashes the function on Lambda (the process exits, the invocation times out or runs out of
 * memory), where Warren gets no chance to count the failure and AWS does not document whether the MQ trigger's
 * return of the batch counts toward the quorum queue's delivery limit (docs/failure-semantics.md, "Shard queues").
 *
 * Before an invocation runs, it marks the batch's SUSPECT, the first message whose key has no inbox row (messages run
 * one by one and each commits its inbox row, so after a crash the messages before the culprit are in the inbox and the
 * culprit is the first one that is not), with one autocommit UPSERT in `warren_deliveries` under a `crashed:` key; an
 * invocation that ends (success, or a failure Warren counted itself) deletes the mark. A mark that survives is an
 * invocation that never ended. When a suspect has `maxDeliveries` marks left by earlier invocations, it is
 * dead-lettered without running (`CrashedInvocationError`) and the rest of the batch goes on.
 *
 * It runs (runtime/defineHandler.ts decides) only in an execution environment's first invocation and for a batch with a
 * redelivered message: after a crash or timeout Lambda resets the environment, so a warm one whose last invocation
 * ended holds no message that crashed one (a message that first crashes a warm environment thus runs at most
 * `maxDeliveries` + 1 times). Cost there: 4 autocommit statements (inbox lookup, UPSERT, SELECT, DELETE), 5 when some
 * messages of the batch were done before (a redelivery: their stale marks are deleted); none elsewhere. Only on
 * Lambda (the local runner's nacks count on the broker: measured), only with the inbox on, only for one-by-one handlers
 * (a `handleBatch` transaction commits all or nothing, so its culprit cannot be told apart); unkeyed messages
 * (`onMissingKey: 'process'`) are skipped as suspects.
 */
import { createHash } from 'node:crypto';
import type { WarrenMessage } from './decode.js';
import type { Database } from './db/ConnectionManager.js';

export interface CrashSuspect<TBody> {
  readonly message: WarrenMessage<TBody>;
  readonly key: string;
  /** Invocations that started on this suspect and never ended (this one not included). */
  readonly crashes: number;
  /** The mark's row key in `warren_deliveries`. */
  readonly mark: string;
}

/** The `warren_deliveries` key of a suspect's mark (hashed: keys may be 191 characters, the column too). */
export function crashMarkKey(key: string): string {
  return `crashed:${createHash('sha256').update(key).digest('hex')}`;
}

/** Finds the batch's suspect and marks this invocation's start on it; undefined when every keyed message is done. */
export async function markInvocationStart<TBody>(db: Database, handler: string, messages: readonly WarrenMessage<TBody>[], keyOf: (m: WarrenMessage<TBody>) => string | null): Promise<CrashSuspect<TBody> | undefined> {
  const keyed = messages.map((message) => ({ message, key: keyOf(message) })).filter((m): m is { message: WarrenMessage<TBody>; key: string } => m.key !== null);
  if (keyed.length === 0) return undefined;
  const { rows } = await db.autocommit<{ message_key: string }>(`SELECT message_key FROM warren_inbox WHERE handler = ? AND message_key IN (${keyed.map(() => '?').join(', ')})`, [handler, ...keyed.map((m) => m.key)]);
  const done = new Set(rows.map((r) => r.message_key));
  // Marks left on messages that have finished since (an earlier crash came after them) are stale: drop them.
  const finished = keyed.filter((m) => done.has(m.key)).map((m) => crashMarkKey(m.key));
  if (finished.length > 0) await db.autocommit(`DELETE FROM warren_deliveries WHERE handler = ? AND message_key IN (${finished.map(() => '?').join(', ')})`, [handler, ...finished]);
  const suspect = keyed.find((m) => !done.has(m.key));
  if (suspect === undefined) return undefined;
  const mark = crashMarkKey(suspect.key);
  await db.autocommit(
    "INSERT INTO warren_deliveries (handler, message_key, failures, last_error) VALUES (?, ?, 1, 'an invocation started on this message and did not end (crash, timeout or out of memory)') ON DUPLICATE KEY UPDATE failures = failures + 1",
    [handler, mark],
  );
  const { rows: marks } = await db.autocommit<{ failures: number }>('SELECT failures FROM warren_deliveries WHERE handler = ? AND message_key = ?', [handler, mark]);
  return { ...suspect, mark, crashes: Number(marks[0]?.failures ?? 1) - 1 };
}

/** The invocation ended (it returned or threw): its mark is not a crash. Never throws. */
export async function markInvocationEnd(db: Database, handler: string, mark: string): Promise<void> {
  await db.autocommit('DELETE FROM warren_deliveries WHERE handler = ? AND message_key = ?', [handler, mark]).catch(() => undefined);
}
