/**
 * The local runner's outbox relay: publishes rows that no invocation flushed (their process died between commit and
 * publish, or the broker was away), oldest first, per handler. It holds one MySQL connection and one publishing
 * connection of its own, and runs only when a handler declares `publishes`.
 */
import { ConnectionManager } from '../runtime/ConnectionManager.js';
import type { ResolvedHandlerConfig } from '../runtime/config.js';
import { errorFields, type Logger } from '../runtime/logger.js';
import { flushOutbox, handlersWithUnsentRows } from '../runtime/outbox/outbox.js';
import { AmqpPublisher } from '../runtime/outbox/Publisher.js';

export const RELAY_DEFAULTS = {
  intervalMs: 1_000,
  /** Rows younger than this belong to the invocation that wrote them (it flushes right after its commit). */
  minAgeMs: 2_000,
} as const;

export class OutboxRelay {
  private readonly db: ConnectionManager;
  private readonly publishers = new Map<string, AmqpPublisher>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  public published = 0;

  public constructor(
    private readonly handlers: readonly ResolvedHandlerConfig[],
    databaseUrl: string,
    private readonly amqpUrlForVhost: (vhost: string) => string,
    private readonly log: Logger,
  ) {
    this.db = new ConnectionManager({ url: databaseUrl, logger: log.child({ component: 'outbox-relay' }) });
  }

  public start(): void {
    this.timer = setInterval(() => { this.running ??= this.tick().finally(() => { this.running = undefined; }); }, RELAY_DEFAULTS.intervalMs);
  }

  /** One pass over every handler with rows left behind; returns how many were published. */
  public async tick(): Promise<number> {
    let count = 0;
    try {
      for (const name of await handlersWithUnsentRows(this.db, RELAY_DEFAULTS.minAgeMs)) {
        const handler = this.handlers.find((h) => h.name === name);
        if (handler === undefined) continue;
        let publisher = this.publishers.get(handler.vhost);
        if (publisher === undefined) {
          const url = this.amqpUrlForVhost(handler.vhost);
          publisher = new AmqpPublisher(async () => url);
          this.publishers.set(handler.vhost, publisher);
        }
        const n = await flushOutbox(this.db, publisher, name, { minAgeMs: RELAY_DEFAULTS.minAgeMs });
        if (n > 0) this.log.info('outbox relay published messages left behind', { handler: name, messages: n });
        count += n;
      }
    } catch (error) {
      this.log.warn('outbox relay pass failed; retrying next pass', errorFields(error));
    }
    this.published += count;
    return count;
  }

  public async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.running;
    await Promise.all([...this.publishers.values()].map((p) => p.close()));
    await this.db.close();
  }
}
