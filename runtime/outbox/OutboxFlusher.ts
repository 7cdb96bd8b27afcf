/**
 * The outbox flush state of ONE handler in this process (a shared-pool worker keeps one flusher per handler name):
 * which shard queues it has flushed in order since it started, and when it last looked for rows left behind.
 *
 * After an invocation's commits, `flush()` publishes the rows those commits wrote:
 * - the fast path (`publishCommitted`): straight from memory, no lock, one UPDATE marking them all sent;
 * - the ordered path (`flushOutbox`): every unsent row of the invocation's shard queues in id order under lock, when
 *   this process has not flushed that queue yet (a crashed predecessor may have left rows), its last flush failed, or
 *   the leftover check is due (`leftoverCheckMs`) and finds rows. With deferred marks (`SentMarks`: the local runner, Lambda)
 *   the leftover check is one look per process and database (`LeftoverWatch`) instead of one per handler and queue.
 * A failure is logged, never thrown: the rows stay for a later flush or the relay, and the queues go back to the
 * ordered path.
 */
import type { Database } from '../db/ConnectionManager.js';
import { errorFields, type Logger } from '../logger.js';
import { flushOutbox, publishCommitted, type CommittedRows } from './outbox.js';
import type { Publisher } from './Publisher.js';
import type { SentMarks } from './SentMarks.js';
import { leftoverWatchFor } from './LeftoverWatch.js';

/** Beyond the longest a mark may wait (`SentMarks.maxUnmarkedMs`), how old an unsent row must be before a leftover look counts it. */
const LEFTOVER_MARGIN_MS = 1_000;

export class OutboxFlusher {
  /** Shard queues whose unsent rows this process has published in order (and whose last flush did not fail). */
  private readonly flushed = new Set<string>();
  private lastLeftoverCheck: number;

  public constructor(
    private readonly handler: string,
    private readonly leftoverCheckMs: number,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.lastLeftoverCheck = now();
  }

  /**
   * Publishes after the commits of one invocation. `written`: the rows its transactions wrote; `queues`: the shard
   * queues of its messages (only those: no other live consumer flushes them, so nothing is published twice at once).
   * Returns how many messages were published.
   */
  public async flush(db: Database, publisher: () => Publisher, written: readonly CommittedRows[], queues: readonly string[], marks?: SentMarks): Promise<number> {
    const now = this.now();
    try {
      let ordered: boolean;
      if (marks?.deferred === true) {
        // One look per process and database (`LeftoverWatch`), for rows older than any deferred mark can be.
        const watch = leftoverWatchFor(db, marks.maxUnmarkedMs + LEFTOVER_MARGIN_MS, now);
        const unseen = [...new Set(queues)].filter((q) => !this.flushed.has(q));
        let leftBehind = false;
        for (const q of new Set(queues)) if (await watch.leftBehind(db, this.handler, q, this.leftoverCheckMs, now)) leftBehind = true;
        ordered = leftBehind || (unseen.length > 0 && !(await this.onlyKnownUnsent(db, unseen, written, marks)));
        if (!ordered) for (const q of unseen) this.flushed.add(q);
      } else {
        ordered = now - this.lastLeftoverCheck >= this.leftoverCheckMs || queues.some((q) => !this.flushed.has(q));
      }
      if (written.length === 0 && !ordered) return 0;
      if (!ordered) return await publishCommitted(db, publisher(), written, marks);
      this.lastLeftoverCheck = now;
      // Rows this process (or, handed over, the shard's previous worker) published but has not marked yet must not
      // look left behind to the ordered path: mark them first.
      await marks?.flush();
      let published = 0;
      for (const sourceQueue of new Set(queues)) {
        published += await flushOutbox(db, publisher(), this.handler, { sourceQueue });
        this.flushed.add(sourceQueue);
      }
      return published;
    } catch (error) {
      for (const q of queues) this.flushed.delete(q);
      this.log.warn('outbox flush failed; the rows stay and are published by a later invocation or the relay', errorFields(error));
      return 0;
    }
  }

  /**
   * A shard queue this process has not flushed yet, with deferred marks: one look at its unsent rows (ids only). When
   * each is a row this invocation just wrote or one published and waiting for its mark here (handed over from the
   * shard's previous worker too), nothing was left behind and the fast path keeps the order; otherwise the ordered
   * path runs. This saves the ordered path's transaction at every worker's first batch of every shard.
   */
  private async onlyKnownUnsent(db: Database, queues: readonly string[], written: readonly CommittedRows[], marks: SentMarks): Promise<boolean> {
    const own = new Set<number>();
    for (const b of written) {
      if (b.messages.length > 1) return false; // a multi-row INSERT's ids are not known exactly
      if (b.messages.length === 1) own.add(b.firstId);
    }
    const { rows } = await db.autocommit<{ id: number | string }>(
      `SELECT id FROM warren_outbox WHERE handler = ? AND source_queue IN (${queues.map(() => '?').join(', ')}) AND sent_at IS NULL LIMIT ${KNOWN_LOOK_LIMIT + 1}`,
      [this.handler, ...queues],
    );
    return rows.length <= KNOWN_LOOK_LIMIT && rows.every((r) => own.has(Number(r.id)) || marks.has(Number(r.id)));
  }
}

/** Unsent rows a first look at a shard compares; more than this always takes the ordered path. */
const KNOWN_LOOK_LIMIT = 200;
