/**
 * In-memory stand-ins for the message path's unit tests (no MySQL, no broker): a `Database` that understands exactly
 * the statements Warren's own steps send (inbox, deliveries, outbox) and accepts any other as a write, a dead-letter
 * sink and a publisher that record what they get, and a message factory.
 */
import type { Database, QueryFn, QueryResult } from '../../runtime/db/ConnectionManager.js';
import type { DeadLetter, DeadLetterSink } from '../../runtime/deadLetter/types.js';
import { decodeEvent, type WarrenMessage } from '../../runtime/decode.js';
import { createLogger, type Logger } from '../../runtime/logger.js';
import type { OutgoingMessage, Publisher } from '../../runtime/outbox/Publisher.js';
import { toRmqEvent } from '../../runtime/toRmqEvent.js';

const result = (partial: Partial<QueryResult<never>> = {}): QueryResult<never> => ({ rows: [], affectedRows: 0, insertId: 0, changedRows: 0, ...partial });

export class FakeDatabase implements Database {
  /** Committed inbox rows, `<handler> <key>` -> outcome. */
  public readonly inbox = new Map<string, 'processed' | 'dead-lettered'>();
  public readonly failures = new Map<string, number>();
  public readonly outbox: { id: number; messageId: string; sent: boolean }[] = [];
  /** Every statement, in order, with whether it ran inside a transaction. */
  public readonly statements: { sql: string; inTransaction: boolean }[] = [];
  public commits = 0;
  public rollbacks = 0;
  /** When set, every autocommit statement fails with it (the database is unreachable outside transactions). */
  public autocommitError: Error | undefined;

  public async transaction<T>(fn: (query: QueryFn) => Promise<T>): Promise<T> {
    const pending: (() => void)[] = [];
    const query = (async (sql: string, values: readonly unknown[] = []) => {
      this.statements.push({ sql, inTransaction: true });
      return this.run(sql, values, pending);
    }) as QueryFn;
    try {
      const value = await fn(query);
      for (const apply of pending) apply();
      this.commits += 1;
      return value;
    } catch (error) {
      this.rollbacks += 1;
      throw error;
    }
  }

  public async autocommit<Row = Record<string, unknown>>(sql: string, values: readonly unknown[] = []): Promise<QueryResult<Row>> {
    if (this.autocommitError !== undefined) throw this.autocommitError;
    this.statements.push({ sql, inTransaction: false });
    const applied: (() => void)[] = [];
    const answer = this.run(sql, values, applied);
    for (const apply of applied) apply();
    return answer as QueryResult<Row>;
  }

  private run(sql: string, values: readonly unknown[], pending: (() => void)[]): QueryResult<never> {
    const [handler, key] = values.map(String);
    const id = `${handler} ${key}`;
    if (sql.startsWith('INSERT IGNORE INTO warren_inbox (handler, message_key) VALUES')) {
      const fresh: string[] = [];
      for (let i = 0; i < values.length; i += 2) {
        const claimed = `${String(values[i])} ${String(values[i + 1])}`;
        if (!this.inbox.has(claimed)) fresh.push(claimed);
      }
      pending.push(() => { for (const k of fresh) this.inbox.set(k, 'processed'); });
      return result({ affectedRows: fresh.length });
    }
    if (sql.startsWith('SELECT outcome FROM warren_inbox')) {
      const outcome = this.inbox.get(id);
      return result({ rows: (outcome === undefined ? [] : [{ outcome }]) as never[] });
    }
    if (sql.startsWith('INSERT INTO warren_inbox')) { pending.push(() => this.inbox.set(id, 'dead-lettered')); return result({ affectedRows: 1 }); }
    if (sql.startsWith('INSERT INTO warren_deliveries')) { pending.push(() => this.failures.set(id, (this.failures.get(id) ?? 0) + 1)); return result({ affectedRows: 1 }); }
    if (sql.startsWith('SELECT failures')) return result({ rows: [{ failures: this.failures.get(id) ?? 0 }] as never[] });
    if (sql.startsWith('DELETE FROM warren_deliveries')) { pending.push(() => this.failures.delete(id)); return result(); }
    if (sql.startsWith('INSERT INTO warren_outbox')) {
      const rows = values.length / 7;
      const firstId = this.outbox.length + 1;
      pending.push(() => { for (let i = 0; i < rows; i += 1) this.outbox.push({ id: firstId + i, messageId: String(values[i * 7 + 4]), sent: false }); });
      return result({ affectedRows: rows, insertId: firstId });
    }
    if (sql.startsWith('UPDATE warren_outbox SET sent_at')) {
      const ids = new Set(values.slice(2).map(String));
      pending.push(() => { for (const row of this.outbox) if (ids.has(row.messageId)) row.sent = true; });
      return result({ affectedRows: ids.size });
    }
    if (sql.startsWith('SELECT 1 AS unsent')) return result({ rows: (this.outbox.some((r) => !r.sent) ? [{ unsent: 1 }] : []) as never[] });
    return result({ affectedRows: 1 });
  }
}

export class RecordingSink implements DeadLetterSink {
  public readonly letters: DeadLetter[] = [];
  public constructor(private readonly failWith?: Error) {}
  public get destination(): string { return 'test sink'; }
  public async send(letter: DeadLetter): Promise<void> {
    if (this.failWith !== undefined) throw this.failWith;
    this.letters.push(letter);
  }
  public async close(): Promise<void> {}
}

export class RecordingPublisher implements Publisher {
  public readonly published: OutgoingMessage[] = [];
  public failWith: Error | undefined;
  public get destination(): string { return 'test publisher'; }
  public async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.failWith !== undefined) throw this.failWith;
    this.published.push(...messages);
  }
  public async close(): Promise<void> {}
}

/** A decoded message on shard queue `queue` (a JSON body unless `body` is a string). */
export function testMessage<TBody = never>(body: unknown, options: { messageId?: string; queue?: string; redelivered?: boolean } = {}): WarrenMessage<TBody> {
  const content = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const properties = { headers: {}, ...(options.messageId === undefined ? {} : { messageId: options.messageId }) };
  const [message] = decodeEvent(toRmqEvent(options.queue ?? 'orders.0', '/', [{ content, fields: { redelivered: options.redelivered ?? false } as never, properties: properties as never }]));
  return message! as WarrenMessage<TBody>;
}

/** A logger that keeps its lines (parsed) for assertions. */
export function recordingLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { log: createLogger({ handler: 'orders' }, { level: 'debug', sink: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) }), lines };
}
