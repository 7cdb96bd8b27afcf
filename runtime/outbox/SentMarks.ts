/**
 * Deferred "sent" marks of one connection manager (one database of this process): outbox rows whose publish the broker
 * has CONFIRMED, not yet marked `sent_at` in the table. Instead of one autocommit UPDATE (and one commit) per
 * invocation, they are marked with ONE `UPDATE ... WHERE id IN (...)` that rides along in a later transaction on the
 * same connection (`step`, a `TransactionStep` run right after its BEGIN; runtime/defineHandler.ts attaches it) once the
 * oldest of them waited `delayMs`. So at one message per invocation the marking costs a fraction of a statement per
 * message and no commit of its own. When no transaction carries them:
 * - the local runner's workers (`timers`): a timer marks them on its own (autocommit) at twice `delayMs`;
 * - Lambda (no timer runs in a frozen environment): an invocation that came after a pause longer than `quietMs` (the
 *   next one may not come soon either) marks its rows before it returns (`afterInvocation`); otherwise they ride the
 *   next invocation's transaction, whenever it comes (the wall clock decides, not a timer).
 *
 * The state, for every reader of `warren_outbox` (the relays, the leftover checks of other processes):
 * - `sent_at IS NULL` still means "not known to be published". A row can be published-but-unmarked for at most
 *   `maxUnmarkedMs` (2 x `delayMs` locally; on Lambda `quietMs` unless the environment is not invoked again) plus the
 *   transaction running at that moment (plus a database outage). A reader that publishes such a row publishes it a
 *   second time (same message_id: the consumer's inbox drops it). The relays therefore leave rows younger than their
 *   `minAgeMs` alone (local: 2,000 ms vs 1,000 ms; AWS: the handler's timeout + 10 s vs 5 s). An environment that is
 *   never invoked again (or recycled) leaves its last rows unmarked: the relay publishes them again, a duplicate.
 * - Only rows whose publish was confirmed are ever marked; a mark that is rolled back, fails, or is lost in a crash
 *   only leaves the row unsent, i.e. published again later (a duplicate), never lost.
 * - In the local runner a shard's next batch may run in another worker: the runner hands that worker the ids still
 *   unmarked for the shard (`unmarkedOf`, `adopt`, local/pool/markHandover.ts), which marks them before it looks for
 *   rows left behind in order.
 *
 * `delayMs` 0 (the default outside Lambda and the runner; on Lambda when WARREN_OUTBOX_MARK_DELAY_MS=0) keeps the old
 * behaviour: one UPDATE right after the publish.
 */
import { createHash } from 'node:crypto';
import type { ConnectionManager, QueryFn, TransactionStep } from '../db/ConnectionManager.js';
import { ENV, envValue } from '../env.js';
import { ConfigError } from '../errors.js';
import { errorFields, type Logger } from '../logger.js';
import { processSingleton } from '../processRegistry.js';

/** Every default of the deferred marks, in one place. */
export const SENT_MARKS_DEFAULTS = {
  /** Any process that is neither on Lambda nor a runner worker, without WARREN_OUTBOX_MARK_DELAY_MS: mark right after the publish. */
  delayMs: 0,
  /** What the local runner sets for its workers (twice it must stay well below the local relay's `minAgeMs`, 2,000). */
  localDelayMs: 500,
  /** On Lambda, without WARREN_OUTBOX_MARK_DELAY_MS: marks ride the next transaction once the oldest waited this long. */
  lambdaDelayMs: 500,
  /**
   * On Lambda: an invocation that came after a pause longer than this marks its rows before it returns. Half the
   * margin the stack adds to the handler's timeout for the relay's minimum age (10 s), so a deferred mark lands well
   * within that age whenever traffic keeps coming.
   */
  lambdaQuietMs: 5_000,
  /** More pending rows than this are marked at the next opportunity, whatever their age (bounds the IN list). */
  maxPending: 1_000,
} as const;

/** Ids of a shard's published-but-unmarked rows in one database, as the runner hands them to the next worker. */
export interface UnmarkedRows {
  /** A hash of the database URL: ids are only ever marked in the database they come from. */
  readonly database: string;
  readonly ids: readonly number[];
}

export interface SentMarksOptions {
  /** 0: mark right after the publish (not deferred). */
  readonly delayMs: number;
  /** Whether a timer may mark them on its own (false on Lambda: a frozen environment runs none). @default true */
  readonly timers?: boolean;
  /** Without timers: the pause before an invocation past which it marks its rows before returning. @default SENT_MARKS_DEFAULTS.lambdaQuietMs */
  readonly quietMs?: number;
}

interface Pending { readonly queue: string; readonly at: number }

export class SentMarks {
  private pending = new Map<number, Pending>();
  /** `pending`'s ids by shard queue: the runner asks after every batch (`unmarkedOf`), and a scan of all was per batch. */
  private byQueue = new Map<string, Set<number>>();
  private oldestAt = Infinity;
  private timer: NodeJS.Timeout | undefined;
  /** The marks taken by the transaction now running (`step`), until it ended. */
  private riding: Map<number, Pending> | undefined;
  private lastInvocationEnd: number | undefined;
  public readonly delayMs: number;
  public readonly timers: boolean;
  public readonly quietMs: number;
  /** Statements this object ran (tests). */
  public updates = 0;

  /** The marks as a step around a transaction: due marks ride right after its BEGIN, restored if it rolls back. */
  public readonly step: TransactionStep = {
    before: (query) => this.board(query),
    after: (committed) => this.settle(committed),
  };

  public constructor(
    /** Where the marks are written on their own (a `ConnectionManager`). */
    private readonly db: Pick<ConnectionManager, 'autocommit' | 'inTransaction'>,
    /** A stable name of the database (see `UnmarkedRows.database`). */
    public readonly database: string,
    options: SentMarksOptions,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.delayMs = options.delayMs;
    this.timers = options.timers ?? true;
    this.quietMs = options.quietMs ?? SENT_MARKS_DEFAULTS.lambdaQuietMs;
  }

  public get deferred(): boolean { return this.delayMs > 0; }
  public get size(): number { return this.pending.size; }

  /** How long a published row may wait here for its mark while this process keeps getting work (see the file comment). */
  public get maxUnmarkedMs(): number { return this.timers ? 2 * this.delayMs : Math.max(this.quietMs, this.delayMs); }

  /** Rows of shard `queue` whose publish the broker confirmed. */
  public add(ids: readonly number[], queue: string): void {
    const at = this.now();
    for (const id of ids) if (!this.pending.has(id)) this.keep(id, { queue, at });
    if (ids.length > 0) this.oldestAt = Math.min(this.oldestAt, at);
    this.schedule();
  }

  /** Ids another worker published for `queue` and had not marked yet (handed over by the runner). */
  public adopt(ids: readonly number[], queue: string): void { this.add(ids, queue); }

  /** Whether row `id` was published and waits for its mark here. */
  public has(id: number): boolean { return this.pending.has(id); }

  /** The ids of `queue` still waiting for their mark. */
  public unmarkedOf(queue: string): number[] {
    const ids = this.byQueue.get(queue);
    return ids === undefined ? [] : [...ids];
  }

  private keep(id: number, p: Pending): void {
    this.pending.set(id, p);
    let ids = this.byQueue.get(p.queue);
    if (ids === undefined) {
      ids = new Set();
      this.byQueue.set(p.queue, ids);
    }
    ids.add(id);
  }

  /** Whether the marks should be written at the next opportunity. */
  public get due(): boolean {
    return this.pending.size > 0 && (this.now() - this.oldestAt >= this.delayMs || this.pending.size >= SENT_MARKS_DEFAULTS.maxPending);
  }

  /** Marks every pending row now, in its own autocommit UPDATE (before an ordered flush, at close, from the timer). */
  public async flush(): Promise<void> {
    const taken = this.take();
    if (taken === undefined) return;
    try {
      await this.db.autocommit(...this.update(taken));
    } catch (error) {
      this.restore(taken);
      throw error;
    }
  }

  /**
   * Without timers (Lambda), at the end of an invocation that started at `startedAt`: when it came after a pause longer
   * than `quietMs`, the next one may not come soon either, so its rows are marked now (one autocommit UPDATE) rather
   * than left for the relay to publish again. Never throws (the rows stay pending).
   */
  public async afterInvocation(startedAt: number): Promise<void> {
    if (this.timers || !this.deferred) return;
    const pause = this.lastInvocationEnd === undefined ? Infinity : startedAt - this.lastInvocationEnd;
    if (pause > this.quietMs && this.pending.size > 0) {
      await this.flush().catch((error: unknown) => this.log.warn('outbox rows published but not marked sent yet; the next invocation marks them', errorFields(error)));
    }
    this.lastInvocationEnd = this.now();
  }

  /** `step.before`: the marks, when due, as the first statement of the transaction. */
  private async board(query: QueryFn): Promise<void> {
    if (!this.due) return;
    const taken = this.take();
    if (taken === undefined) return;
    try {
      await query(...this.update(taken));
    } catch (error) {
      this.restore(taken);
      throw error;
    }
    this.riding = taken;
  }

  /** `step.after`: a transaction that did not commit leaves its marks pending again. */
  private settle(committed: boolean): void {
    const taken = this.riding;
    this.riding = undefined;
    if (taken !== undefined && !committed) this.restore(taken);
  }

  private update(taken: Map<number, Pending>): [string, number[]] {
    this.updates += 1;
    const ids = [...taken.keys()];
    return [`UPDATE warren_outbox SET sent_at = NOW(3) WHERE id IN (${ids.map(() => '?').join(', ')}) AND sent_at IS NULL`, ids];
  }

  private take(): Map<number, Pending> | undefined {
    if (this.pending.size === 0) return undefined;
    const taken = this.pending;
    this.pending = new Map();
    this.byQueue = new Map();
    this.oldestAt = Infinity;
    if (this.timer !== undefined) { clearTimeout(this.timer); this.timer = undefined; }
    return taken;
  }

  private restore(taken: Map<number, Pending>): void {
    for (const [id, p] of taken) {
      if (this.pending.has(id)) continue;
      this.keep(id, p);
      this.oldestAt = Math.min(this.oldestAt, p.at);
    }
    this.schedule();
  }

  /** When no transaction carries them, a timer marks them (not while a transaction owns the connection). */
  private schedule(): void {
    if (this.timer !== undefined || this.pending.size === 0 || !this.deferred || !this.timers) return;
    // At twice the delay: until then the next transaction is the cheaper carrier (no commit of its own).
    const wait = Math.max(5, this.oldestAt + 2 * this.delayMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.pending.size === 0) return;
      if (this.db.inTransaction) { this.timer = setTimeout(() => { this.timer = undefined; this.schedule(); }, 5).unref(); return; }
      void this.flush()
        .catch((error: unknown) => this.log.warn('outbox rows published but not marked sent yet; trying again later', errorFields(error)))
        .finally(() => this.schedule());
    }, wait);
    this.timer.unref();
  }
}

interface Registry {
  readonly byManager: WeakMap<ConnectionManager, SentMarks>;
  readonly byDatabase: Map<string, SentMarks>;
  /** Ids handed over for a database this process has not connected to yet. */
  readonly waiting: Map<string, { readonly ids: readonly number[]; readonly queue: string }[]>;
}
function registry(): Registry {
  return processSingleton<Registry>('sentMarks', () => ({ byManager: new WeakMap(), byDatabase: new Map(), waiting: new Map() }));
}

/** The process's deferred marks for `db` (one per connection manager, shared by every copy of this module). */
export function sentMarksFor(db: ConnectionManager, log: Logger): SentMarks {
  const r = registry();
  let marks = r.byManager.get(db);
  if (marks === undefined) {
    marks = new SentMarks(db, databaseKey(db.url), marksOptionsFromEnv(), log);
    r.byManager.set(db, marks);
    r.byDatabase.set(marks.database, marks);
    for (const { ids, queue } of r.waiting.get(marks.database) ?? []) marks.adopt(ids, queue);
    r.waiting.delete(marks.database);
  }
  return marks;
}

/** Marks already created for `db`, without creating them. */
export function peekSentMarks(db: ConnectionManager): SentMarks | undefined {
  return registry().byManager.get(db);
}

/**
 * Writes the marks still pending for `db` and forgets its marks (the handler test kit, before it closes the connection
 * and drops the database). Throws when the marks cannot be written (they stay pending then).
 */
export async function releaseSentMarks(db: ConnectionManager): Promise<void> {
  const r = registry();
  const marks = r.byManager.get(db);
  if (marks === undefined) return;
  await marks.flush();
  r.byManager.delete(db);
  if (r.byDatabase.get(marks.database) === marks) r.byDatabase.delete(marks.database);
}

/** Every database's ids of shard `queue` still waiting for their mark in this process (what the runner hands over). */
export function unmarkedOf(queue: string): UnmarkedRows[] {
  const all: UnmarkedRows[] = [];
  for (const marks of registry().byDatabase.values()) {
    const ids = marks.unmarkedOf(queue);
    if (ids.length > 0) all.push({ database: marks.database, ids });
  }
  return all;
}

/** Takes over ids another worker published for shard `queue` and had not marked yet (each into its own database's marks). */
export function adoptUnmarked(rows: readonly UnmarkedRows[], queue: string): void {
  const r = registry();
  for (const { database, ids } of rows) {
    const marks = r.byDatabase.get(database);
    if (marks !== undefined) marks.adopt(ids, queue);
    else r.waiting.set(database, [...(r.waiting.get(database) ?? []), { ids, queue }]);
  }
}

/** Writes every pending mark of the process now (a worker closing). */
export async function flushAllSentMarks(): Promise<void> {
  await Promise.all([...registry().byDatabase.values()].map((m) => m.flush()));
}

/** A stable, credential-free name of a database URL. */
export function databaseKey(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 16);
}

/** How this process defers its marks: on Lambda without timers (500 ms unless the variable says), elsewhere as the variable says. */
export function marksOptionsFromEnv(value = process.env[ENV.outboxMarkDelayMs], lambda = envValue(ENV.lambdaFunctionName) !== undefined): SentMarksOptions {
  if (!lambda) return { delayMs: markDelayMsFromEnv(value) };
  const delayMs = value === undefined || value === '' ? SENT_MARKS_DEFAULTS.lambdaDelayMs : markDelayMsFromEnv(value);
  return { delayMs, timers: false, quietMs: SENT_MARKS_DEFAULTS.lambdaQuietMs };
}

/** WARREN_OUTBOX_MARK_DELAY_MS (the process's, not a handler's), or the default. */
export function markDelayMsFromEnv(value = process.env[ENV.outboxMarkDelayMs]): number {
  if (value === undefined || value === '') return SENT_MARKS_DEFAULTS.delayMs;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 0 || ms > 750) {
    throw new ConfigError(ENV.outboxMarkDelayMs, `expected whole milliseconds from 0 to 750 (twice it must stay below the local outbox relay's minimum age, 2,000), received ${JSON.stringify(value)}`);
  }
  return ms;
}
