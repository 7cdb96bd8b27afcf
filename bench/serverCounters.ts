/**
 * What each message costs the database, from MariaDB's own counters: read before and after the measured window of a
 * contender, divided by the messages processed in between.
 *
 * - statements: `Questions` (every statement a client sent, in any protocol; not COM_PING) minus the bench's own
 *   statements in the window (these readings and the sampler's PROCESSLIST queries, counted on the admin connection).
 * - commits: InnoDB's `trx_rw_commits`, read-write transactions committed: an explicit COMMIT that wrote counts once,
 *   an autocommit INSERT/UPDATE counts once, a read-only transaction not at all. This is what costs a redo-log flush.
 *   (`Com_commit` counts COMMIT statements only and misses autocommit writes; `Handler_commit` counts every statement
 *   inside a transaction too, so neither is "a commit".)
 * - data fsyncs: `Innodb_data_fsyncs`, InnoDB's fsync() calls; log writes: `Innodb_log_writes`, its redo-log writes
 *   (group commit lets transactions share one).
 *
 * These counters are server-wide: anyone else's statements in the window are counted too, so the figures are exact
 * only on a quiet machine (the lead's run); the bench's own statements are taken out.
 */
import type { BenchDatabase, StatusCounter } from './BenchDatabase.js';

export type CounterReading = Awaited<ReturnType<BenchDatabase['serverCounters']>>;

export interface ServerCost {
  /** Messages processed in the window the counters cover. */
  readonly messages: number;
  readonly statementsPerMessage: number;
  /** Null when the server refused to enable `trx_rw_commits`. */
  readonly commitsPerMessage: number | null;
  readonly dataFsyncsPerMessage: number;
  readonly logWritesPerMessage: number;
  /** Statements per message by command (`Com_*`; the bench's own SELECTs are taken out of `select`). */
  readonly byCommand: Readonly<Record<'begin' | 'commit' | 'rollback' | 'insert' | 'update' | 'delete' | 'select', number>>;
  /** The bench's own statements taken out of `Questions`. */
  readonly ownStatements: number;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

export function serverCost(before: CounterReading, after: CounterReading, messages: number): ServerCost {
  const delta = (name: StatusCounter): number | null => {
    const a = after.values[name];
    const b = before.values[name];
    return a === undefined || b === undefined ? null : a - b;
  };
  const own = after.ownStatements - before.ownStatements;
  const per = (n: number | null) => (n === null || messages === 0 ? 0 : round(n / messages));
  const commits = delta('trx_rw_commits');
  return {
    messages,
    statementsPerMessage: per((delta('Questions') ?? 0) - own),
    commitsPerMessage: commits === null ? null : per(commits),
    dataFsyncsPerMessage: per(delta('Innodb_data_fsyncs')),
    logWritesPerMessage: per(delta('Innodb_log_writes')),
    byCommand: {
      begin: per(delta('Com_begin')),
      commit: per(delta('Com_commit')),
      rollback: per(delta('Com_rollback')),
      insert: per(delta('Com_insert')),
      update: per(delta('Com_update')),
      delete: per(delta('Com_delete')),
      select: per((delta('Com_select') ?? 0) - own),
    },
    ownStatements: own,
  };
}
