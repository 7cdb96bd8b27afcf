/**
 * `defineHandler()` turns a per-message function into a standard Lambda handler for an Amazon MQ for RabbitMQ trigger.
 *
 * ```ts
 * import { z } from 'zod';
 * import { defineHandler } from '../runtime/index.js';
 *
 * export const handler = defineHandler({
 *   schema: z.object({ orderId: z.string(), quantity: z.number().int().positive() }),
 *   async handle(message, { query }) {
 *     // message.body is typed from the schema; query() runs inside this message's transaction
 *     await query('INSERT INTO orders (order_id, quantity) VALUES (?, ?)', [message.body.orderId, message.body.quantity]);
 *   },
 * });
 * ```
 *
 * Each message runs in its own MySQL transaction on the process's one connection, with its key claimed in the inbox in
 * that same transaction (exactly-once effects). Permanent failures go to the dead-letter queue and the batch carries
 * on; transient ones are retried here, then the batch fails so the broker redelivers it; a message that fails on
 * `maxDeliveries` deliveries is dead-lettered so it cannot block its queue. The steps live in `MessageProcessor.ts`,
 * the outbox flush in `outbox/OutboxFlusher.ts`; this file only wires them per handler name.
 */
import { withSteps, type ConnectionManager } from './db/ConnectionManager.js';
import { deadLetterSinkFromEnv } from './deadLetter/fromEnv.js';
import { decodeEvent, type WarrenMessage } from './decode.js';
import { markInvocationEnd, markInvocationStart } from './crashGuard.js';
import { isLambda, withInvocationMetrics } from './emf.js';
import { messageKey } from './inbox.js';
import { currentHandlerScope, ENV, envValue } from './env.js';
import { resolveHandlerOptions, type BatchSummary, type HandlerOptions, type ResolvedHandlerOptions, type RmqHandler } from './handlerOptions.js';
import { createLogger } from './logger.js';
import { newCounts, type InvocationCounts } from './invocation.js';
import { MessageProcessor } from './MessageProcessor.js';
import { OutboxFlusher } from './outbox/OutboxFlusher.js';
import { processPublisher } from './outbox/Publisher.js';
import { droppedReplies } from './outbox/replies.js';
import { sentMarksFor, type SentMarks } from './outbox/SentMarks.js';
import { processConnection } from './db/processConnection.js';
import { ensureWarrenTables } from './db/warrenTables.js';

export { HANDLER_RUNTIME_DEFAULTS } from './handlerOptions.js';
export type { BatchSummary, HandlerContext, HandlerFunctions, HandlerOptions, HandlerSettings, RmqHandler } from './handlerOptions.js';

/** Marks the functions `defineHandler()` returns (a registered symbol: every copy of this module agrees). */
const DEFINED = Symbol.for('warren.definedHandler');

export function defineHandler<TBody = unknown>(options: HandlerOptions<TBody>): RmqHandler {
  const resolved = resolveHandlerOptions(options);
  // One module may serve several handlers of warren.config.ts in a shared-pool worker: the name (inbox, logs, dead
  // letters) is the invocation's, and so is every piece of per-handler state (processor, flusher, loggers).
  const bound = new Map<string, RmqHandler>();
  const defined: RmqHandler = (event, context) => {
    const name = options.name ?? currentHandlerScope()?.handler ?? envValue(ENV.handler) ?? 'handler';
    let handler = bound.get(name);
    if (handler === undefined) {
      handler = bindHandler(name, resolved);
      bound.set(name, handler);
    }
    return handler(event, context);
  };
  Object.defineProperty(defined, DEFINED, { value: true });
  return defined;
}

/** Whether `value` is a function `defineHandler()` returned (the test kit checks what it is given). */
export function isDefinedHandler(value: unknown): value is RmqHandler {
  return typeof value === 'function' && (value as { [DEFINED]?: unknown })[DEFINED] === true;
}

/** The handler `name` runs as: its processor, its outbox flusher, its loggers; one EMF line per invocation on Lambda. */
function bindHandler<TBody>(name: string, o: ResolvedHandlerOptions<TBody>): RmqHandler {
  const log = createLogger({ handler: name });
  const dbLog = log.child({ component: 'mysql' });
  const processor = new MessageProcessor<TBody>({ handler: name, options: o, log, deadLetterSink: () => o.deadLetter ?? deadLetterSinkFromEnv() });
  const flusher = new OutboxFlusher(name, o.outboxLeftoverCheckMs, log);
  const publisher = () => o.publisher ?? processPublisher();
  const guardCrashes = isLambda() && o.inbox && o.handleBatch === undefined;
  /** An invocation of this handler ended (returned or threw) in this process: it was not reset by a crash since. */
  let ended = false;
  const keyOf = (m: WarrenMessage<TBody>): string | null => {
    try {
      return messageKey(m, o.key, o.onMissingKey);
    } catch {
      return null; // no key under onMissingKey 'dead-letter': the message path dead-letters it
    }
  };

  /** After the commits: publish their outbox rows (and any left behind), never throwing. */
  const flush = (db: ConnectionManager, counts: InvocationCounts, messages: readonly WarrenMessage[], marks: SentMarks) =>
    flusher.flush(db, publisher, counts.outbox, messages.map((m) => m.queue), marks);

  return withInvocationMetrics(name, async (event, context): Promise<BatchSummary> => {
    const started = Date.now();
    // The open connection must not keep the invocation waiting for an empty event loop.
    if (context !== undefined) context.callbackWaitsForEmptyEventLoop = false;
    const db = processConnection({ logger: dbLog, ...o.connection });
    await ensureWarrenTables(db);
    // The outbox's bookkeeping around every transaction of the message path: "sent" marks still pending ride right
    // after its BEGIN (outbox/SentMarks.ts); a step with nothing due adds no statement.
    const marks = sentMarksFor(db, dbLog);
    const tx = withSteps(db, [marks.step]);
    const messages = decodeEvent(event) as WarrenMessage<TBody>[];
    const counts = newCounts();
    // On Lambda, bound a message that crashes the function before Warren can count it (runtime/crashGuard.ts): after a
    // crash or timeout Lambda resets the environment, so only a fresh process, or a batch the broker redelivers, can
    // hold a message that crashed an invocation; a warm process running new messages skips the guard's statements.
    const guard = guardCrashes && (!ended || messages.some((m) => m.redelivered));
    const suspect = guard ? await markInvocationStart(db, name, messages, keyOf) : undefined;
    try {
      let rest: readonly WarrenMessage<TBody>[] = messages;
      if (suspect !== undefined && suspect.crashes >= o.maxDeliveries) {
        if ((await processor.deadLetterCrashed(tx, suspect.message, suspect.key, suspect.crashes, counts)) !== 'deduplicated') {
          counts.deadLettered += 1;
          rest = messages.filter((m) => m !== suspect.message); // set aside now: not run (nor answered) again below
        }
      }
      await processor.processAll(tx, rest, counts);
    } catch (error) {
      // Messages committed before the failure still announce their work now, not at the next flush.
      if (counts.outbox.length > 0) await flush(db, counts, messages, marks);
      await marks.afterInvocation(started);
      throw error;
    } finally {
      ended = true;
      if (suspect !== undefined) await markInvocationEnd(db, name, suspect.mark);
    }
    const droppedBefore = droppedReplies();
    const published = await flush(db, counts, messages, marks);
    await marks.afterInvocation(started);
    const { outbox: _outbox, ...summary } = counts;
    return { messages: messages.length, ...summary, published, repliesDropped: droppedReplies() - droppedBefore };
  });
}
