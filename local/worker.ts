/**
 * Worker side: the local twin of one shard's Lambda execution environment. Imports the handler module once, keeps the
 * process's single MySQL connection across batches, runs one batch at a time, and closes the connection on `close`.
 * Signals are ignored: the runner (pool side) decides when this process stops.
 */
import { pathToFileURL } from 'node:url';
import type { RmqHandler } from '../runtime/defineHandler.js';
import type { InvocationContext } from '../runtime/event.js';
import { closeProcessConnection, peekProcessConnection } from '../runtime/processConnection.js';
import { closeDeadLetterSink } from '../runtime/deadLetter/fromEnv.js';
import { closeProcessPublisher } from '../runtime/outbox/Publisher.js';
import type { ConnectionStats } from '../runtime/ConnectionManager.js';
import { NO_DB, serializeError, type FromWorker, type ToWorker } from './protocol.js';


function send(message: FromWorker): void {
  process.send?.(message);
}

function dbStats(): ConnectionStats {
  return peekProcessConnection()?.stats ?? NO_DB;
}

/**
 * Readiness: `SELECT 1` through the process's connection manager (which replaces a dead connection, as the next batch
 * would). Not while a batch holds the connection, and never opening the first connection: that one is opened lazily by
 * the handler with its own options, as on Lambda.
 */
async function answerPing(id: number, busy: boolean): Promise<void> {
  const manager = peekProcessConnection();
  if (manager === undefined || busy) {
    send({ type: 'pong', id, db: manager === undefined ? 'lazy' : 'busy', stats: dbStats() });
    return;
  }
  try {
    await manager.autocommit('SELECT 1');
    send({ type: 'pong', id, db: 'ok', stats: dbStats() });
  } catch (error) {
    send({ type: 'pong', id, db: 'down', stats: dbStats(), error: serializeError(error) });
  }
}

async function main(): Promise<void> {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => undefined);
  process.on('disconnect', () => process.exit(0)); // the runner is gone: nobody can ack our work
  const entry = process.env.WARREN_ENTRY ?? '';
  const exportName = process.env.WARREN_EXPORT ?? 'handler';
  let handler: RmqHandler;
  try {
    const mod = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
    const candidate = mod[exportName];
    if (typeof candidate !== 'function') {
      throw new Error(`${entry} has no exported function "${exportName}"; export one (for example \`export const ${exportName} = defineHandler({...})\`) or set "export" in warren.config.ts`);
    }
    handler = candidate as RmqHandler;
  } catch (error) {
    send({ type: 'fatal', error: serializeError(error) });
    process.exit(1);
  }

  let queue = Promise.resolve();
  let batches = 0; // received and not yet answered
  process.on('message', (message: ToWorker) => {
    if (message.type === 'ping') { void answerPing(message.id, batches > 0); return; }
    if (message.type === 'batch') batches += 1;
    queue = queue.then(async () => {
      if (message.type === 'close') {
        const manager = peekProcessConnection();
        await closeProcessConnection().catch(() => undefined);
        await closeDeadLetterSink().catch(() => undefined);
        await closeProcessPublisher().catch(() => undefined);
        send({ type: 'closed', db: manager?.stats ?? NO_DB });
        process.disconnect?.();
        process.exit(0);
      }
      const started = performance.now();
      const context: InvocationContext = { callbackWaitsForEmptyEventLoop: true, awsRequestId: `local-${process.pid}-${message.id}` };
      try {
        const summary = await handler(message.event, context);
        send({ type: 'result', id: message.id, ok: true, summary: summary ?? { messages: 0, committed: 0, deduplicated: 0, deadLettered: 0, retries: 0 }, db: dbStats(), ms: performance.now() - started });
      } catch (error) {
        send({ type: 'result', id: message.id, ok: false, error: serializeError(error), db: dbStats(), ms: performance.now() - started });
      } finally {
        batches -= 1;
      }
    });
  });
  send({ type: 'ready' });
}

void main();
