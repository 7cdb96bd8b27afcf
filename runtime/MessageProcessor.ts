/**
 * The message path of one handler, in named steps:
 *
 *   prepare (decode & validate, find the key) -> inTransaction (claim -> run -> commit) -> [after the invocation: flush]
 *   on failure: onFailure (classify -> retry | count the failed delivery | dead-letter)
 *
 * Each step takes the `Database` it runs on, so unit tests hand in a fake one (no MySQL). `processAll()` strings the
 * steps together for an invocation; batch mode (`handleBatch`) first tries the whole batch in one transaction and
 * falls back to these per-message steps (see `batchMode.ts`).
 */
import { randomUUID } from 'node:crypto';
import { backoffDelay, sleep as realSleep } from './backoff.js';
import { batchContext, processAsBatch } from './batchMode.js';
import { classifyError } from './classify.js';
import type { Database } from './db/ConnectionManager.js';
import { deadLetterMessage, type DeadLetterStep } from './deadLetter/deadLetterMessage.js';
import { isReplayed, type DeadLetterSink } from './deadLetter/types.js';
import { setBody, type WarrenMessage } from './decode.js';
import type { ResolvedHandlerOptions } from './handlerOptions.js';
import type { BatchPreparer, InvocationCounts, Keyed, Outcome } from './invocation.js';
import { bodyHashKey, claim, clearFailures, messageKey, recordFailure } from './inbox.js';
import { errorFields, type Logger } from './logger.js';
import { OutboxBuffer, type CommittedRows } from './outbox/outbox.js';
import { errorReason, replyToOf } from './outbox/replies.js';
import { traceFields } from './traceparent.js';
import { validateBody } from './validate.js';
import { CrashedInvocationError } from './errors.js';

export interface ProcessorSetup<TBody> {
  readonly handler: string;
  readonly options: ResolvedHandlerOptions<TBody>;
  /** The handler's logger; message lines add queue, message id, correlation id, trace and attempt. */
  readonly log: Logger;
  /** The handler's dead-letter sink, resolved when a letter is due. */
  readonly deadLetterSink: () => DeadLetterSink | undefined;
  /** @default a timer (tests pass one that returns at once) */
  readonly sleep?: (ms: number) => Promise<void>;
}

export class MessageProcessor<TBody> implements BatchPreparer<TBody> {
  public readonly handler: string;
  private readonly o: ResolvedHandlerOptions<TBody>;
  private readonly log: Logger;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly deadLetterStep: DeadLetterStep;
  /** Shard queues already warned about unkeyed messages (once per handler and queue). */
  private readonly warnedUnkeyed = new Set<string>();

  public constructor(setup: ProcessorSetup<TBody>) {
    this.handler = setup.handler;
    this.o = setup.options;
    this.log = setup.log;
    this.sleep = setup.sleep ?? realSleep;
    this.deadLetterStep = { handler: setup.handler, inbox: setup.options.inbox, sink: setup.deadLetterSink, ...(setup.options.classify === undefined ? {} : { classify: setup.options.classify }) };
  }

  /** Every message of an invocation, in order; batch mode first tries them all in one transaction. */
  public async processAll(db: Database, messages: readonly WarrenMessage<TBody>[], counts: InvocationCounts): Promise<void> {
    const fn = this.o.handleBatch;
    const oneByOne = fn !== undefined && messages.length > 1 ? await processAsBatch(this, db, messages, fn, counts, this.log) : messages;
    for (const message of oneByOne) {
      const outcome = await this.process(db, message, counts);
      if (outcome === 'committed') counts.committed += 1;
      else if (outcome === 'deduplicated') counts.deduplicated += 1;
      else counts.deadLettered += 1;
    }
  }

  /** One message through every step, retried in the invocation; throws when the batch must be redelivered. */
  public async process(db: Database, message: WarrenMessage<TBody>, counts: InvocationCounts): Promise<Outcome> {
    const log = this.messageLog(message);
    const started = Date.now();
    const prepared = await this.prepare(db, message, log, counts);
    if (typeof prepared === 'string') return prepared;
    this.countUnkeyed(counts, [prepared]);
    for (let attempt = 1; ; attempt += 1) {
      const attemptLog = log.child({ attempt });
      try {
        const outcome = await this.inTransaction(db, prepared, attempt, attemptLog, counts);
        log.debug(`message ${outcome}`, { durationMs: Date.now() - started });
        return outcome;
      } catch (error) {
        const next = await this.onFailure(db, prepared, error, attempt, attemptLog, started, counts);
        if (next !== 'retry') return next;
      }
    }
  }

  /** Step 1, decode & validate: the body checked against the schema and the inbox key; a permanent problem dead-letters. */
  public async prepare(db: Database, message: WarrenMessage<TBody>, log: Logger, counts?: InvocationCounts): Promise<Keyed<TBody> | Outcome> {
    let key: string | null = null;
    try {
      if (this.o.inbox) key = messageKey(message, this.o.key, this.o.onMissingKey);
      if (this.o.schema !== undefined) setBody(message, await validateBody(this.o.schema, message.body));
    } catch (error) {
      if (classifyError(error, this.o.classify) === 'permanent') return this.deadLetter(db, message, key, error, 1, log, counts);
      throw error;
    }
    if (this.o.inbox && key === null) this.warnUnkeyedOnce(message);
    return { message, key };
  }

  /**
   * Steps 2-4 in one transaction: claim the key in the inbox (a claimed key is a duplicate), run the handler, write its
   * outbox rows, commit. The rows go to `counts.outbox`, to be published after the invocation's commits.
   */
  public async inTransaction(db: Database, { message, key }: Keyed<TBody>, attempt: number, log: Logger, counts: InvocationCounts): Promise<'committed' | 'deduplicated'> {
    let written: CommittedRows | undefined;
    const outcome = await db.transaction(async (query): Promise<'committed' | 'deduplicated'> => {
      const outbox = new OutboxBuffer(this.handler, message.queue);
      if (key !== null && !(await claim(query, this.handler, key, isReplayed(message)))) {
        // A retried request (a redelivery, or a caller asking again on a new reply address) gets the kept reply.
        if (await outbox.resend(query, message, key)) {
          await outbox.write(query);
          written = outbox.committed();
        }
        return 'deduplicated';
      }
      // A redelivery that gets this far forgets the failures counted for it (an unkeyed message's by its body hash).
      if (message.redelivered) await query('DELETE FROM warren_deliveries WHERE handler = ? AND message_key = ?', [this.handler, key ?? bodyHashKey(message)]);
      if (this.o.handleBatch !== undefined) {
        await this.o.handleBatch([message], batchContext(query, outbox, [{ message, key }], log, attempt, this.publishKey));
      } else {
        const messageKey = key ?? (() => this.publishKey(message));
        await this.o.handle(message, { query, log, attempt, publish: outbox.writer(messageKey, message), reply: outbox.replier(message, messageKey, key) });
      }
      await outbox.write(query);
      written = outbox.size > 0 ? outbox.committed() : undefined;
      return 'committed';
    });
    if (written !== undefined) counts.outbox.push(written);
    return outcome;
  }

  /**
   * On failure: classify. Permanent: dead-letter now. Transient: 'retry' after a backoff while attempts remain; then
   * count the failed delivery (outside the rolled-back transaction) and dead-letter at `maxDeliveries`, else throw so
   * the batch is redelivered. An unkeyed message is counted by a hash of its body.
   */
  public async onFailure(db: Database, { message, key }: Keyed<TBody>, error: unknown, attempt: number, log: Logger, started: number, counts: InvocationCounts): Promise<'retry' | Outcome> {
    if (classifyError(error, this.o.classify) === 'permanent') return this.deadLetter(db, message, key, error, 1, log, counts);
    if (attempt < this.o.attempts) {
      const delay = backoffDelay(attempt - 1, this.o.retryBackoffBaseMs, this.o.retryBackoffMaxMs);
      log.warn('transient failure; retrying the message', { retryInMs: delay, durationMs: Date.now() - started, ...errorFields(error) });
      counts.retries += 1;
      await this.sleep(delay);
      return 'retry';
    }
    const failureKey = key ?? bodyHashKey(message);
    let failures: number;
    try {
      failures = await recordFailure(db, this.handler, failureKey, error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    } catch {
      throw error; // the database itself is unreachable: let the batch be redelivered
    }
    if (failures >= this.o.maxDeliveries) {
      const outcome = await this.deadLetter(db, message, key, error, failures, log, counts);
      if (key === null) await clearFailures(db, this.handler, failureKey);
      return outcome;
    }
    log.error('message failed on this delivery; the batch will be redelivered', { failures, maxDeliveries: this.o.maxDeliveries, durationMs: Date.now() - started, ...errorFields(error) });
    throw error;
  }

  /** Dead-letters a message that crashed `crashes` invocations (runtime/crashGuard.ts) without running it. */
  public deadLetterCrashed(db: Database, message: WarrenMessage<TBody>, key: string, crashes: number, counts?: InvocationCounts): Promise<Outcome> {
    return this.deadLetter(db, message, key, new CrashedInvocationError(crashes), crashes, this.messageLog(message), counts);
  }

  /**
   * The dead-letter step, then the answer a request gets: an error reply when it was dead-lettered now, the kept reply
   * when it was handled before (a retried request). The reply row is written in its own transaction, with the reply kept
   * for the key, and published after it like any outbox row (`counts.outbox`; without counts, by the next flush).
   * A failure to answer is logged, never thrown: the message is set aside already and its caller's timeout answers.
   */
  private async deadLetter(db: Database, message: WarrenMessage<TBody>, key: string | null, error: unknown, deliveries: number, log: Logger, counts?: InvocationCounts): Promise<Outcome> {
    const outcome = await deadLetterMessage(this.deadLetterStep, db, message, key, error, deliveries, log);
    if (replyToOf(message) === null) return outcome;
    try {
      const storeKey = this.o.inbox ? key : null;
      const written = await db.transaction(async (query) => {
        const outbox = new OutboxBuffer(this.handler, message.queue);
        if (outcome === 'dead-lettered') outbox.errorReply(message, key ?? this.publishKey(message), storeKey, errorReason(error));
        else if (storeKey === null || !(await outbox.resend(query, message, storeKey))) return undefined;
        await outbox.write(query);
        return outbox.committed();
      });
      if (written !== undefined) counts?.outbox.push(written);
    } catch (replyError) {
      log.warn('could not answer the request after setting it aside; its caller\'s timeout answers it', { replyTo: replyToOf(message), ...errorFields(replyError) });
    }
    return outcome;
  }

  /** The message id prefix of a follow-up published for `message` when it has no key: unique per run (at-least-once). */
  public readonly publishKey = (message: WarrenMessage): string => messageKey(message, this.o.key, this.o.onMissingKey) ?? `unkeyed:${randomUUID()}`;

  /** Lines about one message; its fields are only assembled when a line is written. */
  public messageLog(message: WarrenMessage): Logger {
    return this.log.child(() => ({ queue: message.queue, messageId: message.messageId, correlationId: message.correlationId, ...traceFields(message.headers) }));
  }

  /** Counts the messages that run without an inbox claim although the inbox is on (`onMissingKey: 'process'`). */
  public countUnkeyed(counts: InvocationCounts, keyed: readonly Keyed<TBody>[]): void {
    if (this.o.inbox) for (const k of keyed) if (k.key === null) counts.unkeyed += 1;
  }

  private warnUnkeyedOnce(message: WarrenMessage): void {
    if (this.warnedUnkeyed.has(message.queue)) return;
    this.warnedUnkeyed.add(message.queue);
    this.log.warn('a message without a key was processed at-least-once (no inbox claim: a redelivery runs it again); for exactly-once, publish with a message_id property or give the handler a `key` function (this warning is logged once per shard queue)', { queue: message.queue, unkeyedPolicy: 'process' });
  }
}
