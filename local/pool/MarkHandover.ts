/**
 * The outbox's bookkeeping between a shard's batches in the local runner. A worker defers the "sent" marks of the rows
 * it published (runtime/outbox/SentMarks.ts); the shard's next batch may run in another worker (process or thread), which must mark
 * them before it looks for rows left behind, or it would publish them again. So after each batch the pool side records
 * what the worker left unmarked for that shard (`afterBatch`), and hands it with the shard's next batch when that goes
 * to another worker (`forBatch`). One object for every worker of the runner (any of them may take a shard's next
 * batch); pool code calls these two methods and nothing else.
 */
import type { UnmarkedRows } from '../../runtime/outbox/SentMarks.js';

export class MarkHandover {
  private readonly byShard = new Map<string, { readonly worker: string | undefined; readonly rows: readonly UnmarkedRows[] }>();

  /** Before a batch of shard `queue` goes to `worker` (its key: `pid N` or `thread N`): the ids another worker published and left unmarked. */
  public forBatch(queue: string, worker: string | undefined): readonly UnmarkedRows[] | undefined {
    const handed = this.byShard.get(queue);
    return handed !== undefined && handed.worker !== worker ? handed.rows : undefined;
  }

  /** After a batch of shard `queue` in `worker`: what it left unmarked (none: the shard has nothing to hand over). */
  public afterBatch(queue: string, worker: string | undefined, rows: readonly UnmarkedRows[] | undefined): void {
    if (rows === undefined) this.byShard.delete(queue);
    else this.byShard.set(queue, { worker, rows });
  }
}

/** The runner's one handover (a shard's batches may go to any worker of any group). */
export const runnerMarkHandover = new MarkHandover();
