/**
 * The one rule for which outbox rows a relay may publish: rows "left behind". An invocation publishes the rows it wrote
 * itself, right after its commits (`OutboxFlusher`); a relay that published them too, while that invocation is still
 * running, would send every such event twice. So a row is left behind only when
 * 1. it is unsent (`sent_at IS NULL`),
 * 2. it is older than `minAgeMs` (its invocation had time to publish it; on AWS the minimum age exceeds the handler's
 *    timeout, so the invocation that wrote it has ended: `relayMinAgeMs`), and
 * 3. no invocation of its shard queue is live (`shardIsLive`; the local runner knows which shards have a batch in
 *    flight, and counts a shard live for 1.5 s after its batch ended, while its worker may still hold the deferred
 *    "sent" marks of rows it published, `SentMarks.ts`; on AWS nothing says, and rule 2 alone decides).
 * Rows a relay does find are a real event (a process died between commit and publish, or the publish failed), so the
 * relays log them as a warning. A change to when rows are marked sent (for example marking them in the next
 * transaction) changes this rule: adapt it here, where both relays read it.
 */
import type { Database } from '../db/ConnectionManager.js';

export interface LeftBehindRule {
  /** Rows younger than this belong to the invocation that wrote them. */
  readonly minAgeMs: number;
  /** True while an invocation of `handler` on shard queue `sourceQueue` may still publish its own rows. @default never */
  readonly shardIsLive?: (handler: string, sourceQueue: string) => boolean;
}

/** The reason a relay gives when it publishes rows (rule 2 and 3 held, so their invocation did not publish them). */
export const LEFT_BEHIND_REASON = 'no invocation published them: a worker or environment died between its commit and its publish, or the publish failed (broker away)';

/** A shard queue of a handler with unsent rows older than the minimum age, and how many. */
export interface UnsentShard {
  readonly handler: string;
  readonly sourceQueue: string;
  readonly rows: number;
}

/** Shard queues with unsent rows older than `minAgeMs` (rules 1 and 2); empty when the table does not exist yet. */
export async function unsentShards(db: Database, minAgeMs: number): Promise<UnsentShard[]> {
  try {
    const { rows } = await db.autocommit<{ handler: string; source_queue: string; n: number }>(
      `SELECT handler, source_queue, COUNT(*) AS n FROM warren_outbox
        WHERE sent_at IS NULL AND created_at < NOW(3) - INTERVAL ? MICROSECOND GROUP BY handler, source_queue`,
      [minAgeMs * 1000],
    );
    return rows.map((r) => ({ handler: r.handler, sourceQueue: r.source_queue, rows: Number(r.n) }));
  } catch (error) {
    if ((error as { code?: string }).code === 'ER_NO_SUCH_TABLE') return [];
    throw error;
  }
}

/** Rule 3: whether the relay leaves `shard` to its live invocation this pass. */
export function shardIsLive(rule: LeftBehindRule, shard: Pick<UnsentShard, 'handler' | 'sourceQueue'>): boolean {
  return rule.shardIsLive?.(shard.handler, shard.sourceQueue) ?? false;
}
