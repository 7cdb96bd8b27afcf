/**
 * Exactly one MySQL connection per process, opened lazily and reused across invocations.
 *
 * Built on mysql2 directly (not serverless-mysql, whose query() re-runs a failed statement on a fresh connection even
 * inside a transaction): every statement of a transaction runs on the one connection that ran its BEGIN, and when that
 * connection dies the transaction fails loudly with `ConnectionLostError`; the message is retried whole.
 */
import mysql from 'mysql2/promise';
import { backoffDelay, sleep } from '../backoff.js';
import {
  ConnectionLostError,
  ConnectionManagerClosedError,
  DatabaseUnavailableError,
  TimeoutError,
  TransactionClosedError,
} from '../errors.js';
import { ENV, envValue } from '../env.js';
import { createLogger, errorFields, redactUrl, type Logger } from '../logger.js';
import { isConnectionError, isRetryableConnectError } from './mysqlErrors.js';

export const DEFAULT_DATABASE_URL = 'mysql://root@127.0.0.1:3306/test';

export interface ConnectionManagerOptions {
  /**
   * Connection string.
   * @default DATABASE_URL (the current handler's, see `env.ts`) ?? 'mysql://root@127.0.0.1:3306/test'
   */
  readonly url?: string;
  /**
   * Extra mysql2 options, resolved before every connect (TLS, an IAM auth token that must be fresh, ...).
   * @default none
   */
  readonly connectionOptions?: () => mysql.ConnectionOptions | Promise<mysql.ConnectionOptions>;
  /**
   * Ping the connection before use when it has been idle longer than this (wall clock, so a frozen Lambda counts).
   * @default 30_000
   */
  readonly pingAfterIdleMs?: number;
  /**
   * Connect attempts before giving up with `DatabaseUnavailableError` ("too many connections", refused, reset).
   * @default 8
   */
  readonly connectAttempts?: number;
  /** @default 100 */
  readonly connectBackoffBaseMs?: number;
  /** @default 3_000 */
  readonly connectBackoffMaxMs?: number;
  /** @default 10_000 */
  readonly connectTimeoutMs?: number;
  /**
   * Longest wait for one statement's answer; past it the connection counts as dead (a half-open link never answers)
   * and the transaction fails with `ConnectionLostError`. Keep it above innodb_lock_wait_timeout.
   * @default 60_000
   */
  readonly statementTimeoutMs?: number;
  /**
   * Use the binary protocol (server-side prepared statements). Off by default: they pin sessions behind RDS Proxy.
   * @default false
   */
  readonly preparedStatements?: boolean;
  /**
   * Run the session with `autocommit = 0` (one `SET` when the connection opens), so that a transaction starts with its
   * first statement instead of a BEGIN round trip: 5 round trips instead of 6 for the example app's message. A
   * transaction whose first statement finds the connection dead is retried once on a fresh connection, as BEGIN is;
   * `autocommit()` statements take an explicit COMMIT. The local runner's workers turn it on (their connection lives
   * as long as they do). Off on Lambda: behind RDS Proxy, setting a system variable pins the session to one database
   * connection (AWS docs, "Avoiding pinning an RDS Proxy").
   * @default false
   */
  readonly implicitTransactions?: boolean;
  /** @default a JSON logger */
  readonly logger?: Logger;
}

export const CONNECTION_DEFAULTS = {
  pingAfterIdleMs: 30_000,
  connectAttempts: 8,
  connectBackoffBaseMs: 100,
  connectBackoffMaxMs: 3_000,
  connectTimeoutMs: 10_000,
  statementTimeoutMs: 60_000,
  preparedStatements: false,
  implicitTransactions: false,
} as const;

/** What a statement returned: rows for a SELECT, counts for a write. */
export interface QueryResult<Row = Record<string, unknown>> {
  readonly rows: Row[];
  readonly affectedRows: number;
  readonly insertId: number;
  readonly changedRows: number;
}

/** Runs one statement with `?` placeholders inside the current transaction. */
export type QueryFn = <Row = Record<string, unknown>>(sql: string, values?: readonly unknown[]) => Promise<QueryResult<Row>>;

/**
 * What the message path needs of a database: a transaction and an autocommit statement. `ConnectionManager` is the real
 * one; unit tests hand in a fake, so the steps of `MessageProcessor` run without MySQL.
 */
export interface Database {
  /** `steps` run around the transaction (see `TransactionStep`); `withSteps()` attaches them to every transaction. */
  transaction<T>(fn: (query: QueryFn) => Promise<T>, steps?: readonly TransactionStep[]): Promise<T>;
  autocommit<Row = Record<string, unknown>>(sql: string, values?: readonly unknown[]): Promise<QueryResult<Row>>;
}

/**
 * A step around a transaction, Middy-like (the outbox's deferred "sent" marks, `outbox/SentMarks.ts`, are one): `before`
 * runs right after BEGIN, ahead of the caller's statements, and adds its own (or none: a step that has nothing to do
 * costs no statement); `after` runs once the transaction ended, `committed` true after its COMMIT succeeded. When
 * `before` throws, the transaction is rolled back and begun again without the steps, and `after(false)` is called: the
 * caller's work never fails because of a step.
 */
export interface TransactionStep {
  before(query: QueryFn): Promise<void>;
  after(committed: boolean): void;
}

/** `db` with `steps` around every transaction: where a reader sees the bookkeeping attached (runtime/defineHandler.ts). */
export function withSteps(db: Database, steps: readonly TransactionStep[]): Database {
  if (steps.length === 0) return db;
  return {
    transaction: (fn, more = []) => db.transaction(fn, [...steps, ...more]),
    autocommit: (sql, values) => db.autocommit(sql, values),
  };
}

export interface ConnectionStats {
  /** Connections opened by this process so far. */
  readonly connects: number;
  readonly connected: boolean;
  /** Server thread id of the current connection (what `KILL` takes), or null. */
  readonly threadId: number | null;
  /** Transactions the current connection has served. */
  readonly served: number;
  /** When the current connection was opened (ms since epoch), or null. */
  readonly connectedAt: number | null;
}

interface Live {
  readonly conn: mysql.Connection;
  readonly threadId: number;
  readonly openedAt: number;
  alive: boolean;
  lastUsedAt: number;
  served: number;
  /** When the statement now awaiting its answer was sent (ms since epoch), or undefined. */
  inFlightSince: number | undefined;
  /** The one timer that enforces `statementTimeoutMs` on this connection's statements (see `statement()`). */
  watchdog: NodeJS.Timeout | undefined;
}

/**
 * One transaction's hold on a connection. With `implicitTransactions` the server opens the transaction at its first
 * statement, so `begun` stays false until a statement got an answer; until then a dead connection may be swapped for a
 * fresh one (`live` changes) without losing anything.
 */
interface Session {
  live: Live;
  begun: boolean;
}

/** The state of a transaction's statements (see `openTransaction()`). */
interface TxState {
  /** False once the transaction (or its steps' part) ended: its query function then throws `TransactionClosedError`. */
  open: boolean;
  /** The connection error a statement died of, if one did. */
  lostWith: unknown;
  readonly session: Session;
}

/** A transaction's statements as `openTransaction()` hands them out. */
interface Tx extends TxState {
  readonly query: QueryFn;
}

/** The code of the error the statement timer (`watch()`) fails a statement with (fatal: the connection counts as dead). */
const STATEMENT_TIMEOUT_CODE = 'PROTOCOL_SEQUENCE_TIMEOUT';

/** The statement timer's error: the statement may still hold locks server-side, so it is not run again. */
function isStatementTimeout(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === STATEMENT_TIMEOUT_CODE;
}

function toResult<Row>(raw: unknown): QueryResult<Row> {
  if (Array.isArray(raw)) return { rows: raw as Row[], affectedRows: 0, insertId: 0, changedRows: 0 };
  const header = (raw ?? {}) as { affectedRows?: number; insertId?: number; changedRows?: number };
  return { rows: [], affectedRows: header.affectedRows ?? 0, insertId: header.insertId ?? 0, changedRows: header.changedRows ?? 0 };
}

export class ConnectionManager implements Database {
  private readonly options: Required<Omit<ConnectionManagerOptions, 'connectionOptions'>> & Pick<ConnectionManagerOptions, 'connectionOptions'>;
  private live: Live | undefined;
  private connecting: Promise<Live> | undefined;
  private connects = 0;
  private closed = false;
  private openTransactions = 0;
  /** The last of the `autocommit()` pairs in flight with `implicitTransactions` (see `autocommit()`), or undefined. */
  private autocommits: Promise<void> | undefined;

  public constructor(options: ConnectionManagerOptions = {}) {
    this.options = {
      url: options.url ?? envValue(ENV.databaseUrl) ?? DEFAULT_DATABASE_URL,
      connectionOptions: options.connectionOptions,
      pingAfterIdleMs: options.pingAfterIdleMs ?? CONNECTION_DEFAULTS.pingAfterIdleMs,
      connectAttempts: options.connectAttempts ?? CONNECTION_DEFAULTS.connectAttempts,
      connectBackoffBaseMs: options.connectBackoffBaseMs ?? CONNECTION_DEFAULTS.connectBackoffBaseMs,
      connectBackoffMaxMs: options.connectBackoffMaxMs ?? CONNECTION_DEFAULTS.connectBackoffMaxMs,
      connectTimeoutMs: options.connectTimeoutMs ?? CONNECTION_DEFAULTS.connectTimeoutMs,
      statementTimeoutMs: options.statementTimeoutMs ?? CONNECTION_DEFAULTS.statementTimeoutMs,
      preparedStatements: options.preparedStatements ?? CONNECTION_DEFAULTS.preparedStatements,
      implicitTransactions: options.implicitTransactions ?? CONNECTION_DEFAULTS.implicitTransactions,
      logger: options.logger ?? createLogger({ component: 'mysql' }),
    };
  }

  public get stats(): ConnectionStats {
    const live = this.live?.alive === true ? this.live : undefined;
    return {
      connects: this.connects,
      connected: live !== undefined,
      threadId: live?.threadId ?? null,
      served: live?.served ?? 0,
      connectedAt: live?.openedAt ?? null,
    };
  }

  /**
   * Runs `fn` inside BEGIN ... COMMIT on the process's one connection; ROLLBACK when it throws.
   * Only BEGIN may be retried on a fresh connection (nothing of the transaction has run yet); with
   * `implicitTransactions`, which sends no BEGIN, the transaction's first statement, for the same reason.
   */
  public async transaction<T>(fn: (query: QueryFn) => Promise<T>, steps: readonly TransactionStep[] = []): Promise<T> {
    // Without BEGIN, an autocommit() still waiting for its COMMIT would commit this transaction's first statements.
    while (this.autocommits !== undefined) await this.autocommits;
    this.openTransactions += 1;
    let stepped: readonly TransactionStep[] = [];
    let committed = false;
    try {
      const begun = await this.begin(steps);
      stepped = begun.stepped;
      const result = await this.run(begun.session, fn);
      committed = true;
      return result;
    } finally {
      this.openTransactions -= 1;
      for (const step of stepped) step.after(committed);
    }
  }

  /** The connection string (it may hold a password: never log it; `redactUrl()` does that). */
  public get url(): string { return this.options.url; }

  /** True while a transaction of this manager is open (its statements own the connection). */
  public get inTransaction(): boolean { return this.openTransactions > 0; }

  /** A transaction opened on a live connection, then the steps' `before`, if any. */
  private async begin(steps: readonly TransactionStep[]): Promise<{ session: Session; stepped: readonly TransactionStep[] }> {
    const session = await this.open();
    if (steps.length === 0) return { session, stepped: steps };
    const tx = this.openTransaction(session);
    const begunSteps: TransactionStep[] = [];
    try {
      for (const step of steps) {
        begunSteps.push(step);
        await step.before(tx.query);
      }
      tx.open = false;
      return { session, stepped: steps };
    } catch (error) {
      // Nothing of the caller's has run yet: roll the steps' part back and begin again without them.
      tx.open = false;
      for (const step of begunSteps) step.after(false);
      this.options.logger.warn('mysql statement of a step before the transaction failed; beginning again without it', errorFields(error));
      if (session.begun) await this.rollback(session.live);
      return { session: await this.open(), stepped: [] };
    }
  }

  /**
   * A live connection ready for a transaction's first statement: BEGIN sent (retried once on a fresh connection when
   * the connection was found dead), or with `implicitTransactions` nothing to send (the first statement opens it).
   */
  private async open(): Promise<Session> {
    let live = await this.acquire();
    if (this.options.implicitTransactions) return { live, begun: false };
    try {
      await this.statement(live, 'BEGIN');
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      this.discard(live, 'connection found dead at BEGIN; opening a new one', error);
      live = await this.acquire();
      await this.statement(live, 'BEGIN');
    }
    return { live, begun: true };
  }

  private async run<T>(session: Session, fn: (query: QueryFn) => Promise<T>): Promise<T> {
    const tx = this.openTransaction(session);
    let result: T;
    try {
      result = await fn(tx.query);
    } catch (error) {
      tx.open = false;
      if (session.begun) await this.rollback(session.live);
      if (tx.lostWith !== undefined) {
        throw new ConnectionLostError('The MySQL connection died inside the transaction; it was rolled back and nothing was re-run', { cause: tx.lostWith });
      }
      throw error;
    }
    tx.open = false;
    const live = session.live;
    if (tx.lostWith !== undefined) {
      // The handler swallowed a connection error: never commit a transaction that lost statements.
      await this.rollback(live);
      throw new ConnectionLostError('The MySQL connection died inside the transaction (the handler caught the error); nothing was committed', { cause: tx.lostWith });
    }
    // A transaction that ran no statement has nothing to commit (only possible without BEGIN).
    if (session.begun) {
      try {
        await this.statement(live, 'COMMIT');
      } catch (error) {
        if (isConnectionError(error)) {
          this.discard(live, 'connection died during COMMIT', error);
          throw new ConnectionLostError('The MySQL connection died during COMMIT; the outcome is unknown and the message will be retried', { cause: error, commitOutcomeUnknown: true });
        }
        await this.rollback(live);
        throw error;
      }
    }
    live.served += 1;
    live.lastUsedAt = Date.now();
    return result;
  }

  /**
   * Runs one statement outside any transaction (autocommit), for bookkeeping that must survive a rollback, such as
   * delivery counters. Like BEGIN, it is retried once on a fresh connection when the connection was found dead, so use it
   * only for statements that are harmless to repeat. With `implicitTransactions` it is the statement and a COMMIT, one
   * such pair at a time; called while a transaction is open, it runs inside that transaction, as it does with BEGIN.
   */
  public async autocommit<Row = Record<string, unknown>>(sql: string, values: readonly unknown[] = []): Promise<QueryResult<Row>> {
    if (!this.options.implicitTransactions || this.openTransactions > 0) return this.standalone<Row>(sql, values, false);
    const mine = (this.autocommits ?? Promise.resolve()).then(() => this.standalone<Row>(sql, values, true));
    const tail: Promise<void> = mine.then(() => undefined, () => undefined);
    this.autocommits = tail;
    void tail.then(() => { if (this.autocommits === tail) this.autocommits = undefined; });
    return mine;
  }

  /** One statement on its own, followed by COMMIT when `commit` (the session does not autocommit). */
  private async standalone<Row>(sql: string, values: readonly unknown[], commit: boolean): Promise<QueryResult<Row>> {
    let live = await this.acquire();
    const run = async (l: Live) => {
      let raw: unknown;
      try {
        raw = await this.statement(l, sql, values);
        if (commit) await this.statement(l, 'COMMIT');
      } catch (error) {
        if (commit && !isConnectionError(error)) await this.rollback(l);
        throw error;
      }
      l.lastUsedAt = Date.now();
      return toResult<Row>(raw);
    };
    try {
      return await run(live);
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      this.discard(live, 'connection found dead before an autocommit statement; opening a new one', error);
      live = await this.acquire();
      return run(live);
    }
  }

  /** Closes the connection. Safe to call more than once; no transaction can start afterwards. */
  public async close(): Promise<void> {
    this.closed = true;
    const live = this.live ?? (await this.connecting?.catch(() => undefined));
    this.live = undefined;
    if (live === undefined || !live.alive) return;
    live.alive = false;
    clearTimeout(live.watchdog);
    try {
      await Promise.race([live.conn.end(), sleep(2_000).then(() => { throw new TimeoutError('closing the MySQL connection (end())', 2_000); })]);
    } catch {
      live.conn.destroy();
    }
  }

  /**
   * Sends one statement on `live` and waits for its answer, at most `statementTimeoutMs`: past it the link counts as
   * dead (a half-open link never answers), its socket is destroyed with a fatal PROTOCOL_SEQUENCE_TIMEOUT error, which
   * mysql2 hands to the statement in flight. One timer per connection enforces this (`watch()`), re-armed only when it
   * fires, instead of mysql2's per-query `timeout` option: that one sets and clears a timer on every statement, and its
   * options-object form of `query()` cost a worker more CPU than the timer itself. BEGIN, COMMIT and ROLLBACK are
   * bounded the same way.
   */
  private async statement(live: Live, sql: string, values?: readonly unknown[]): Promise<unknown> {
    live.inFlightSince = Date.now();
    if (live.watchdog === undefined) this.watch(live, this.options.statementTimeoutMs);
    try {
      const params = values === undefined || values.length === 0 ? undefined : (values as mysql.ExecuteValues[]);
      const [raw] = this.options.preparedStatements && params !== undefined ? await live.conn.execute(sql, params) : await live.conn.query(sql, params);
      return raw;
    } finally {
      live.inFlightSince = undefined;
    }
  }

  /** Arms `live`'s statement timer for `delayMs`; when it fires it fails an overdue statement or re-arms for the one in flight. */
  private watch(live: Live, delayMs: number): void {
    const timer = setTimeout(() => {
      live.watchdog = undefined;
      const since = live.inFlightSince;
      if (since === undefined || !live.alive) return; // nothing in flight: the next statement arms it again
      const left = since + this.options.statementTimeoutMs - Date.now();
      if (left > 0) {
        this.watch(live, left);
        return;
      }
      const error = Object.assign(
        new Error(`MySQL sent no answer to a statement within ${this.options.statementTimeoutMs} ms (statementTimeoutMs); the connection is taken as dead`),
        { code: STATEMENT_TIMEOUT_CODE, fatal: true },
      );
      const socket = (live.conn as unknown as { connection?: { stream?: { destroy(error?: Error): void } } }).connection?.stream;
      if (socket === undefined) live.conn.destroy();
      else socket.destroy(error); // mysql2 hands the error to the statement in flight ('error' on its stream)
    }, delayMs);
    timer.unref();
    live.watchdog = timer;
  }

  /**
   * The statements of one transaction (or of its steps): `tx.query` runs them on `session`'s connection until `tx.open`
   * is set to false. A bound method rather than closures: this runs for every transaction.
   */
  private openTransaction(session: Session): Tx {
    const state: TxState = { open: true, lostWith: undefined, session };
    return Object.assign(state, { query: this.txQuery.bind(this, state) as QueryFn });
  }

  private async txQuery<Row>(tx: TxState, sql: string, values: readonly unknown[] = []): Promise<QueryResult<Row>> {
    if (!tx.open) throw new TransactionClosedError();
    if (tx.lostWith !== undefined) throw new ConnectionLostError('The MySQL connection of this transaction is gone', { cause: tx.lostWith });
    const session = tx.session;
    try {
      return toResult<Row>(await this.txStatement(session, sql, values));
    } catch (first) {
      let error = first;
      if (isConnectionError(error) && !session.begun && !isStatementTimeout(error)) {
        // No BEGIN was sent and no statement of this transaction got an answer: the server rolls back what the dead
        // connection may have started, so the statement runs once more on a fresh connection, as BEGIN would.
        this.discard(session.live, 'connection found dead at the first statement of a transaction; opening a new one', error);
        session.live = await this.acquire();
        try {
          return toResult<Row>(await this.txStatement(session, sql, values));
        } catch (again) {
          error = again;
        }
      }
      if (isConnectionError(error)) {
        tx.lostWith = error;
        this.discard(session.live, 'connection died inside a transaction', error);
      }
      throw error;
    }
  }

  /** One statement of a transaction; any answer, a result or an SQL error, means the server's transaction is open. */
  private async txStatement(session: Session, sql: string, values: readonly unknown[]): Promise<unknown> {
    try {
      const raw = await this.statement(session.live, sql, values);
      session.begun = true;
      return raw;
    } catch (error) {
      if (!isConnectionError(error)) session.begun = true;
      throw error;
    }
  }

  private async rollback(live: Live): Promise<void> {
    if (!live.alive) return; // the server rolls back a transaction whose connection is gone
    try {
      await this.statement(live, 'ROLLBACK');
      live.lastUsedAt = Date.now();
    } catch (error) {
      this.discard(live, 'ROLLBACK failed; dropping the connection (the server rolls back on disconnect)', error);
    }
  }

  /** The live connection, opened if needed and pinged first when it has been idle too long. */
  private async acquire(): Promise<Live> {
    if (this.closed) throw new ConnectionManagerClosedError();
    const live = this.live;
    if (live?.alive === true) {
      if (Date.now() - live.lastUsedAt <= this.options.pingAfterIdleMs) return live;
      try {
        await Promise.race([live.conn.ping(), sleep(this.options.connectTimeoutMs).then(() => { throw new TimeoutError('the MySQL ping of an idle connection', this.options.connectTimeoutMs); })]);
        live.lastUsedAt = Date.now();
        return live;
      } catch (error) {
        this.discard(live, 'idle connection failed its ping; replacing it', error);
      }
    }
    this.connecting ??= this.connect().finally(() => { this.connecting = undefined; });
    return this.connecting;
  }

  private async connect(): Promise<Live> {
    const { connectAttempts, connectBackoffBaseMs, connectBackoffMaxMs, logger } = this.options;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const extra = (await this.options.connectionOptions?.()) ?? {};
        // trace: false: mysql2 would capture a stack trace on every query (about 3% of a worker's CPU).
        const conn = await mysql.createConnection({ uri: this.options.url, connectTimeout: this.options.connectTimeoutMs, trace: false, ...extra });
        const live: Live = { conn, threadId: conn.threadId, openedAt: Date.now(), alive: true, lastUsedAt: Date.now(), served: 0, inFlightSince: undefined, watchdog: undefined };
        // The socket is already gone: mark the connection dead but leave mysql2 to fail the command in flight (a
        // destroy() here would drop that command's callback and hang the transaction).
        conn.on('error', (error: unknown) => this.discard(live, 'connection error', error, false));
        conn.on('end', () => { if (live.alive) this.discard(live, 'connection closed by the server', undefined, false); });
        if (this.closed) {
          conn.destroy();
          throw new ConnectionManagerClosedError();
        }
        if (this.options.implicitTransactions) {
          try {
            await this.statement(live, 'SET autocommit = 0'); // bounded by statementTimeoutMs, as every statement
          } catch (error) {
            this.discard(live, 'SET autocommit = 0 failed on a new connection', error);
            throw error;
          }
        }
        this.connects += 1;
        this.live = live;
        logger.info('mysql connected', { threadId: live.threadId, connects: this.connects, url: redactUrl(this.options.url) });
        return live;
      } catch (error) {
        if (error instanceof ConnectionManagerClosedError) throw error;
        if (!isRetryableConnectError(error) || attempt >= connectAttempts) {
          throw new DatabaseUnavailableError(attempt, { cause: error });
        }
        const delay = backoffDelay(attempt - 1, connectBackoffBaseMs, connectBackoffMaxMs);
        logger.warn('mysql connect failed; retrying', { attempt, delayMs: delay, ...errorFields(error) });
        await sleep(delay);
      }
    }
  }

  private discard(live: Live, reason: string, error: unknown, destroy = true): void {
    if (!live.alive) return;
    live.alive = false;
    clearTimeout(live.watchdog);
    if (this.live === live) this.live = undefined;
    this.options.logger.warn(`mysql ${reason}`, { threadId: live.threadId, served: live.served, ...(error === undefined ? {} : errorFields(error)) });
    if (!destroy) return;
    try {
      live.conn.destroy();
    } catch {
      // already gone
    }
  }
}
