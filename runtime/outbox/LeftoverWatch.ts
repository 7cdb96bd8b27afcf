/**
 * One look for outbox rows left behind per process and database, instead of one per handler and shard queue: every
 * `leftoverCheckMs`, one `SELECT DISTINCT handler, source_queue` of the unsent rows older than `minAgeMs`; the shard
 * queues it names take the ordered path at their next flush in this process (`OutboxFlusher`). Used where the "sent"
 * marks are deferred (the local runner's workers, 200 handlers each): there a row younger than `minAgeMs` may be
 * published and waiting for its mark in some worker (`SentMarks`), so only older rows count as left behind. A row
 * left behind younger than that is found by the next look (or the relay's pass).
 */
import type { Database } from '../db/ConnectionManager.js';
import { processSingleton } from '../processRegistry.js';

export class LeftoverWatch {
  private lastLook: number;
  private looking: Promise<void> | undefined;
  private readonly stale = new Set<string>();

  public constructor(private readonly minAgeMs: number, now: number) {
    this.lastLook = now;
  }

  /**
   * Whether `handler`'s shard `queue` had rows left behind at the last look (answered once: the caller takes the
   * ordered path now). Looks again first when `everyMs` have passed.
   */
  public async leftBehind(db: Database, handler: string, queue: string, everyMs: number, now: number): Promise<boolean> {
    if (now - this.lastLook >= everyMs) {
      this.lastLook = now;
      this.looking ??= this.look(db).finally(() => { this.looking = undefined; });
    }
    await this.looking;
    return this.stale.delete(`${handler}\u0000${queue}`);
  }

  private async look(db: Database): Promise<void> {
    const { rows } = await db.autocommit<{ handler: string; source_queue: string }>(
      'SELECT DISTINCT handler, source_queue FROM warren_outbox WHERE sent_at IS NULL AND created_at < NOW(3) - INTERVAL ? MICROSECOND',
      [this.minAgeMs * 1000],
    );
    for (const r of rows) this.stale.add(`${r.handler}\u0000${r.source_queue}`);
  }
}

/** The process's watch for `db` (one per database, shared by every handler on it). */
export function leftoverWatchFor(db: Database, minAgeMs: number, now: number): LeftoverWatch {
  const watches = processSingleton('leftoverWatches', () => new WeakMap<Database, LeftoverWatch>());
  let watch = watches.get(db);
  if (watch === undefined) {
    watch = new LeftoverWatch(minAgeMs, now);
    watches.set(db, watch);
  }
  return watch;
}
