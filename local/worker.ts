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
import type { ConnectionStats } from '../runtime/ConnectionManager.js';
import { serializeError, type FromWorker, type ToWorker } from './protocol.js';

const NO_DB: ConnectionStats = { connects: 0, connected: false, threadId: null, served: 0, connectedAt: null };

function send(message: FromWorker): void {
  process.send?.(message);
}

function dbStats(): ConnectionStats {
  return peekProcessConnection()?.stats ?? NO_DB;
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
  process.on('message', (message: ToWorker) => {
    queue = queue.then(async () => {
      if (message.type === 'close') {
        const manager = peekProcessConnection();
        await closeProcessConnection().catch(() => undefined);
        await closeDeadLetterSink().catch(() => undefined);
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
      }
    });
  });
  send({ type: 'ready' });
}

void main();
