/**
 * The handler test kit: runs a `defineHandler()` handler on test messages against its own real database, through the
 * very function Lambda and the runner's workers call, with the broker replaced by a recorder. See testing/index.ts for
 * the usage and the choices it makes between the two paths.
 */
import type { RowDataPacket } from 'mysql2/promise';
import type { ConnectionManager } from '../runtime/db/ConnectionManager.js';
import { closeProcessConnectionTo, processConnections } from '../runtime/db/processConnection.js';
import { runWithDeadLetterSink } from '../runtime/deadLetter/fromEnv.js';
import { isDefinedHandler } from '../runtime/defineHandler.js';
import { ENV, runInHandlerScope } from '../runtime/env.js';
import type { RmqHandler } from '../runtime/handlerOptions.js';
import type { LogLevel } from '../runtime/logger.js';
import { runWithPublisher } from '../runtime/outbox/Publisher.js';
import { peekSentMarks, releaseSentMarks } from '../runtime/outbox/SentMarks.js';
import { TestKitError, TestRunError } from './errors.js';
import { TEST_KIT_DEFAULTS, type RunOptions, type TestKitOptions } from './options.js';
import type { DeliveredMessage, TestMessage, TestRun } from './records.js';
import { Recorder } from './recorder.js';
import { deliveredMessages, testRmqEvent } from './rmqEvent.js';
import { createTestDatabase, dropTestDatabase, type TestDatabase } from './testDatabase.js';

/** A test's database and a way to run handlers on it; `createTestKit()` makes one, `close()` removes it. */
export interface TestKit {
  /** The database's name (`<databasePrefix>_<8 hex>`). */
  readonly database: string;
  /** The database's URL (as given, password included: do not log it). */
  readonly url: string;
  /**
   * Runs `handler` once on `messages`, as ONE invocation (one `aws:rmq` event, one batch from one shard queue), and
   * returns its summary and what it published, replied and dead-lettered. Runs of one kit take turns.
   * Throws `TestRunError` when the invocation failed (the broker would deliver the batch again), `TestKitError` when
   * `handler` is not a function `defineHandler()` returned or a message has no body.
   */
  run(handler: RmqHandler, messages: readonly TestMessage[], options?: RunOptions): Promise<TestRun>;
  /** Runs one statement (`?` placeholders) on the kit's own connection to the database; the rows of a SELECT, else []. */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Drops the database and closes the kit's connections (its own and the handlers' one to this database). Idempotent. */
  close(): Promise<void>;
}

/** Why `value` is not a handler, in words that say what to pass instead. */
function notAHandler(value: unknown): string {
  if (value === undefined || value === null) return `received ${String(value)}: is the export's name right (e.g. \`handler\` of \`export const handler = defineHandler({...})\`)?`;
  if (typeof value === 'function') return `received a function defineHandler() did not return (${value.name === '' ? 'anonymous' : value.name}); wrap it: defineHandler({ handle }) and pass the result`;
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.includes('handle') || keys.includes('handleBatch')) return 'received defineHandler()\'s options; pass what defineHandler() returns';
    const exports = keys.filter((k) => isDefinedHandler((value as Record<string, unknown>)[k])).sort();
    if (exports.length > 0) return `received a module object; pass one of its handlers (${exports.join(', ')}), e.g. kit.run(module.${exports[0]}, ...)`;
  }
  return `received ${typeof value}`;
}

class Kit implements TestKit {
  private turn: Promise<unknown> = Promise.resolve();
  private ids = 0;
  private runs = 0;
  private closing: Promise<void> | undefined;

  public constructor(private readonly db: TestDatabase, private readonly logLevel: LogLevel) {}

  public get database(): string { return this.db.name; }
  public get url(): string { return this.db.url; }

  public async run(handler: RmqHandler, messages: readonly TestMessage[], options: RunOptions = {}): Promise<TestRun> {
    this.open('run');
    if (!isDefinedHandler(handler)) throw new TestKitError(`kit.run(handler, messages): expected a function defineHandler() returned; ${notAHandler(handler)}`);
    const delivered = deliveredMessages(messages, () => `msg-${(this.ids += 1)}`);
    // One run at a time (the handlers share the process's one connection to the database): queued behind the last.
    const result = this.turn.then(() => this.invoke(handler, delivered, options));
    this.turn = result.catch(() => undefined);
    return result;
  }

  private async invoke(handler: RmqHandler, messages: DeliveredMessage[], options: RunOptions): Promise<TestRun> {
    const name = options.name ?? TEST_KIT_DEFAULTS.handlerName;
    const event = testRmqEvent(options.queue ?? `${name}.0`, options.vhost ?? TEST_KIT_DEFAULTS.vhost, messages);
    const env: Record<string, string> = {
      [ENV.logLevel]: this.logLevel,
      ...options.env,
      [ENV.databaseUrl]: this.db.url,
      // Not Lambda (no crash guard, no EMF lines, marks not deferred) and no RDS settings, whatever the process has.
      [ENV.lambdaFunctionName]: '',
      [ENV.dbHost]: '',
    };
    this.runs += 1;
    const context = { callbackWaitsForEmptyEventLoop: true, awsRequestId: `warren-testing-${this.runs}` };
    const recorder = new Recorder();
    let outcome: { summary: TestRun['summary'] } | { error: unknown };
    try {
      const summary = await runInHandlerScope({ handler: name, env }, () =>
        runWithPublisher(recorder.publisher, () => runWithDeadLetterSink(recorder.sink, () => handler(event, context))));
      outcome = { summary };
    } catch (error) {
      outcome = { error };
    }
    // Marks deferred anyway (WARREN_OUTBOX_MARK_DELAY_MS set in this process) are written now: marks at once.
    const manager = this.manager();
    if (manager !== undefined) await peekSentMarks(manager)?.flush();
    const record = { messages, published: recorder.published, replies: recorder.replies, deadLettered: recorder.deadLettered };
    if ('error' in outcome) throw new TestRunError(name, record, outcome.error);
    return { summary: outcome.summary, ...record };
  }

  public async query<Row = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    this.open('query');
    const [rows] = await this.db.connection.query<RowDataPacket[]>(sql, [...params]);
    return Array.isArray(rows) ? (rows as Row[]) : [];
  }

  public close(): Promise<void> {
    this.closing ??= (async () => {
      await this.turn;
      const manager = this.manager();
      if (manager !== undefined) await releaseSentMarks(manager).catch(() => undefined);
      await closeProcessConnectionTo(this.db.url);
      await dropTestDatabase(this.db);
    })();
    return this.closing;
  }

  /** The process's connection manager for this database, once a handler opened it. */
  private manager(): ConnectionManager | undefined {
    return processConnections().find((m) => m.url === this.db.url);
  }

  private open(what: string): void {
    if (this.closing !== undefined) throw new TestKitError(`kit.${what}(): this kit is closed (its database ${this.db.name} is dropped); create a new one with createTestKit()`);
  }
}

/**
 * Creates a database of its own for a test (migrated with `migrations` and Warren's tables) and returns the kit that
 * runs handlers on it. Throws `TestKitError` naming the server (without password) and the fix when it cannot.
 */
export async function createTestKit(options: TestKitOptions = {}): Promise<TestKit> {
  const databaseUrl = options.databaseUrl ?? nonEmpty(process.env[ENV.databaseUrl]) ?? TEST_KIT_DEFAULTS.databaseUrl;
  const db = await createTestDatabase(
    databaseUrl,
    options.databasePrefix ?? TEST_KIT_DEFAULTS.databasePrefix,
    options.migrations ?? TEST_KIT_DEFAULTS.migrations,
    options.root ?? TEST_KIT_DEFAULTS.root,
  );
  return new Kit(db, options.logLevel ?? TEST_KIT_DEFAULTS.logLevel);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}
