/**
 * Worker side of the shared pool: one process or thread (`runner.workerModel`, see workerChannel.ts) that runs batches of any handler in its table, one at a time. It imports
 * a handler's module the first time a batch for that handler arrives and keeps it; it runs every invocation inside
 * `runSerialInHandlerScope()` with that handler's variables, so the runtime sees the handler's name, dead-letter queue,
 * broker and database (one MySQL connection per distinct database, shared by the handlers on it). Signals are ignored:
 * the runner (pool side) decides when this worker stops. A process talks over its IPC channel, a thread over its
 * `parentPort`; everything else is the same.
 */
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, threadId } from 'node:worker_threads';
import type { RmqHandler } from '../../runtime/defineHandler.js';
import type { InvocationContext } from '../../runtime/event.js';
import { runSerialInHandlerScope } from '../../runtime/env.js';
import { closeProcessConnection, processConnections, setProcessConnectionDefaults } from '../../runtime/db/processConnection.js';
import { closeDeadLetterSink } from '../../runtime/deadLetter/fromEnv.js';
import { closeProcessPublisher } from '../../runtime/outbox/Publisher.js';
import { adoptUnmarked, flushAllSentMarks, unmarkedOf } from '../../runtime/outbox/SentMarks.js';
import type { ConnectionStats } from '../../runtime/db/ConnectionManager.js';
import { NO_DB, serializeError, type FromWorker, type HandlerEntry, type HandlerTable, type ImportFailure, type ToWorker } from './protocol.js';

const EMPTY_SUMMARY = { messages: 0, committed: 0, deduplicated: 0, deadLettered: 0, retries: 0 };

/** This worker as seen in ids: the process id, plus the thread's id in a thread. */
const SELF = isMainThread ? String(process.pid) : `${process.pid}.${threadId}`;

function send(message: FromWorker): void {
  if (parentPort !== null) parentPort.postMessage(message);
  else process.send?.(message);
}

/** Leaves: a process lets go of its IPC channel first; a thread just ends (process.exit ends the thread only). */
function exit(code: number): void {
  if (isMainThread) process.disconnect?.();
  process.exit(code);
}

/** The process's connections as one: counts summed, `connected` when any is open, the first one's thread and age. */
function dbStats(): ConnectionStats {
  const all = processConnections().map((m) => m.stats);
  const first = all.find((s) => s.connected) ?? all[0] ?? NO_DB;
  return {
    connects: all.reduce((n, s) => n + s.connects, 0),
    connected: all.some((s) => s.connected),
    threadId: first.threadId,
    served: all.reduce((n, s) => n + s.served, 0),
    connectedAt: first.connectedAt,
  };
}

const openConnections = (): number => processConnections().filter((m) => m.stats.connected).length;

/** Imports `entry` and returns its handler function, or throws naming the file and the export. */
async function load({ entry, exportName }: HandlerEntry): Promise<RmqHandler> {
  const mod = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  const candidate = mod[exportName];
  if (typeof candidate !== 'function') {
    throw new Error(`no exported function "${exportName}"; export one (for example \`export const ${exportName} = defineHandler({...})\`) or set "export" in warren.config.ts`);
  }
  return candidate as RmqHandler;
}

/** Imports every distinct module (entry + export) of the table once; answers which handlers failed and why. */
async function check(table: HandlerTable): Promise<void> {
  const started = performance.now();
  const results = new Map<string, Promise<unknown>>();
  const failures: ImportFailure[] = [];
  for (const [handler, spec] of Object.entries(table)) {
    const key = `${spec.entry}#${spec.exportName}`;
    if (!results.has(key)) results.set(key, load(spec).then(() => undefined, (error: unknown) => error));
    const error = await results.get(key);
    if (error !== undefined) failures.push({ handler, entry: spec.entry, error: serializeError(error) });
  }
  send({ type: 'checked', failures, modules: results.size, ms: performance.now() - started });
}

/**
 * Readiness: `SELECT 1` through each of the process's connection managers (which replace a dead connection, as the next
 * batch would). Not while a batch holds a connection, and never opening the first connection: that one is opened
 * lazily by a handler with its own options, as on Lambda.
 */
async function answerPing(id: number, busy: boolean): Promise<void> {
  const managers = processConnections();
  if (managers.length === 0 || busy) {
    send({ type: 'pong', id, db: managers.length === 0 ? 'lazy' : 'busy', stats: dbStats() });
    return;
  }
  try {
    for (const manager of managers) await manager.autocommit('SELECT 1');
    send({ type: 'pong', id, db: 'ok', stats: dbStats() });
  } catch (error) {
    send({ type: 'pong', id, db: 'down', stats: dbStats(), error: serializeError(error) });
  }
}

function unmarked(queue: string): { unmarked?: ReturnType<typeof unmarkedOf> } {
  const rows = unmarkedOf(queue);
  return rows.length === 0 ? {} : { unmarked: rows };
}

async function close(): Promise<void> {
  const db = dbStats();
  await flushAllSentMarks().catch(() => undefined); // unmarked rows would otherwise be published again by the relay
  await closeProcessConnection().catch(() => undefined);
  await closeDeadLetterSink().catch(() => undefined);
  await closeProcessPublisher().catch(() => undefined);
  send({ type: 'closed', db: { ...db, connected: false, threadId: null, connectedAt: null } });
  exit(0);
}

function main(): void {
  // A worker keeps its connection for life and runs one transaction at a time on it: no BEGIN round trip per message
  // (ConnectionManager's implicitTransactions; Lambda keeps BEGIN, which does not pin an RDS Proxy session).
  setProcessConnectionDefaults({ implicitTransactions: true });
  if (isMainThread) {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);
    process.on('disconnect', () => process.exit(0)); // the runner is gone: nobody can ack our work
  }
  let table: HandlerTable = {};
  const handlers = new Map<string, Promise<RmqHandler>>();
  const modules = new Map<string, Promise<RmqHandler>>();
  let queue = Promise.resolve();
  let batches = 0; // received and not yet answered
  const onMessage = (message: ToWorker) => {
    if (message.type === 'ping') { void answerPing(message.id, batches > 0); return; }
    if (message.type === 'init') { table = message.handlers; return; }
    if (message.type === 'check') { void check(table).finally(() => exit(0)); return; }
    if (message.type === 'batch') batches += 1;
    queue = queue.then(async () => {
      if (message.type === 'close') return close();
      if (message.type !== 'batch') return;
      const started = performance.now();
      const context: InvocationContext = { callbackWaitsForEmptyEventLoop: true, awsRequestId: `local-${SELF}-${message.id}` };
      try {
        const spec = table[message.handler];
        if (spec === undefined) throw new Error(`this worker has no handler called "${message.handler}" in its table`);
        let handler = handlers.get(message.handler);
        const first = handler === undefined;
        if (handler === undefined) {
          // Handlers of one module (entry + export) share its import: each import() of it, even cached, is a round
          // trip through the loader hooks (tsx), once per handler name and worker.
          const key = `${spec.entry}#${spec.exportName}`;
          handler = modules.get(key) ?? load(spec);
          modules.set(key, handler);
          handlers.set(message.handler, handler);
          handler.catch(() => { handlers.delete(message.handler); modules.delete(key); }); // try again with the next batch
        }
        const run = await handler;
        if (first) send({ type: 'loaded', id: message.id }); // the handler's timeout starts now, as after Lambda's init
        if (message.marks !== undefined) adoptUnmarked(message.marks, message.queue);
        const summary = await runSerialInHandlerScope({ handler: message.handler, env: spec.env }, () => run(message.event, context));
        send({ type: 'result', id: message.id, ok: true, summary: summary ?? EMPTY_SUMMARY, db: dbStats(), open: openConnections(), ms: performance.now() - started, ...unmarked(message.queue) });
      } catch (error) {
        send({ type: 'result', id: message.id, ok: false, error: serializeError(error), db: dbStats(), open: openConnections(), ms: performance.now() - started, ...unmarked(message.queue) });
      } finally {
        batches -= 1;
      }
    });
  };
  if (parentPort !== null) parentPort.on('message', onMessage);
  else process.on('message', onMessage);
  send({ type: 'ready' });
}

main();
