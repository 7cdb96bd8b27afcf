/**
 * Pruning Warren's bookkeeping, one piece of code for both rooms: the local runner (at start and `npm run prune`,
 * local/cli.ts) and the stack's scheduled pruning function on AWS (lib/functions/pruneFunction.ts).
 *
 *   warren_inbox   rows older than the retention (`runner.inboxRetentionDays`): deduplication holds for messages
 *                  redelivered within that window, so keep it longer than any redelivery or replay can take
 *   warren_replies the replies kept with the inbox (`ctx.reply`), by the same age rule: written in the same
 *                  transaction as their inbox row, a reply is kept exactly as long as its inbox row, and a request
 *                  retried within the window is answered again
 *   warren_outbox  rows sent longer ago than the retention (unsent rows are never pruned: the relay still owes them)
 *
 * Each DELETE removes at most `batchSize` rows and runs on its own (autocommit), so no statement holds its row locks
 * for long nor grows one huge undo log; the loop stops when a table has nothing older left, or when the deadline
 * passes (the AWS function's timeout), leaving the rest to the next run. The statements need DELETE on the tables and
 * SELECT on the columns they compare (MySQL Reference Manual, "DELETE Statement"): the application user's DML grants.
 */
import type { Database } from './ConnectionManager.js';

export const PRUNE_DEFAULTS = {
  /** Rows one DELETE removes at most. */
  batchSize: 5_000,
} as const;

/** The statements, by table: `?` the cutoff, then the batch size. */
export const PRUNE_STATEMENTS = {
  warren_inbox: 'DELETE FROM warren_inbox WHERE processed_at < ? LIMIT ?',
  warren_replies: 'DELETE FROM warren_replies WHERE created_at < ? LIMIT ?',
  warren_outbox: 'DELETE FROM warren_outbox WHERE sent_at IS NOT NULL AND sent_at < ? LIMIT ?',
} as const;

export type PrunedTable = keyof typeof PRUNE_STATEMENTS;

export interface PruneOptions {
  /** Rows older than this many seconds go. */
  readonly olderThanSeconds: number;
  /** @default 5_000 */
  readonly batchSize?: number;
  /** Start no DELETE after this time (epoch milliseconds). @default none: run until nothing older is left */
  readonly deadline?: number;
  /** Only this handler's inbox rows and replies (the outbox is then left alone). @default every handler */
  readonly handler?: string;
  /** @default ['warren_inbox', 'warren_replies', 'warren_outbox'] */
  readonly tables?: readonly PrunedTable[];
  /** The clock (tests). @default Date.now */
  readonly now?: () => number;
}

export interface PruneResult {
  /** Rows deleted per table. */
  readonly deleted: Readonly<Record<PrunedTable, number>>;
  /** DELETE statements run. */
  readonly batches: number;
  /** False when the deadline stopped it with old rows possibly left (the next run continues). */
  readonly complete: boolean;
}

/** Deletes Warren's old inbox rows, their replies and sent outbox rows in bounded batches; see the file comment. */
export async function pruneWarrenTables(db: Database, options: PruneOptions): Promise<PruneResult> {
  const now = options.now ?? Date.now;
  const batchSize = options.batchSize ?? PRUNE_DEFAULTS.batchSize;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize: expected a whole number >= 1, received ${batchSize}`);
  const cutoff = new Date(now() - options.olderThanSeconds * 1000);
  const tables = options.tables ?? (options.handler === undefined ? ['warren_inbox', 'warren_replies', 'warren_outbox'] : ['warren_inbox', 'warren_replies']);
  const deleted: Record<PrunedTable, number> = { warren_inbox: 0, warren_replies: 0, warren_outbox: 0 };
  let batches = 0;
  for (const table of tables) {
    const byHandler = table !== 'warren_outbox' && options.handler !== undefined;
    const sql = byHandler ? PRUNE_STATEMENTS[table].replace(' LIMIT ?', ' AND handler = ? LIMIT ?') : PRUNE_STATEMENTS[table];
    const values = byHandler ? [cutoff, options.handler, batchSize] : [cutoff, batchSize];
    for (;;) {
      if (options.deadline !== undefined && now() >= options.deadline) return { deleted, batches, complete: false };
      const { affectedRows } = await db.autocommit(sql, values);
      batches += 1;
      deleted[table] += affectedRows;
      if (affectedRows < batchSize) break;
    }
  }
  return { deleted, batches, complete: true };
}
