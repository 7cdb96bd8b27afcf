/**
 * The relay core both outbox relays share (the local runner's `local/OutboxRelay.ts`, every second; the scheduled AWS
 * function `runtime/relayFunction.ts`, every minute): one pass publishes, per handler, the unsent rows older than
 * `minAgeMs`, oldest first, under lock (`flushOutbox`). Younger rows belong to the live invocation that wrote them,
 * which publishes them itself right after its commits. One publishing connection per vhost, kept across passes.
 */
import type { Database } from '../ConnectionManager.js';
import { errorFields, type Logger } from '../logger.js';
import { flushOutbox, handlersWithUnsentRows } from './outbox.js';
import { AmqpPublisher } from './Publisher.js';

/** A handler whose rows the relay publishes, and the vhost its exchanges live on. */
export interface RelayTarget {
  readonly name: string;
  readonly vhost: string;
}

export interface RelayCoreSetup {
  readonly db: Database;
  /** The AMQP URL to publish on for a vhost. */
  readonly publishUrl: (vhost: string) => Promise<string>;
  /** Rows younger than this are left to the invocation that wrote them. */
  readonly minAgeMs: number;
  readonly log: Logger;
}

export class OutboxRelayCore {
  private readonly publishers = new Map<string, AmqpPublisher>();

  public constructor(private readonly setup: RelayCoreSetup) {}

  /**
   * One pass over `targets`: only handlers with rows left behind are flushed; a handler that fails is logged and
   * skipped (its rows stay for the next pass). Throws only when the work list itself cannot be read. Returns how many
   * messages were published.
   */
  public async pass(targets: readonly RelayTarget[]): Promise<number> {
    const { db, minAgeMs, log } = this.setup;
    const waiting = new Set(await handlersWithUnsentRows(db, minAgeMs));
    let published = 0;
    for (const target of targets) {
      if (!waiting.has(target.name)) continue;
      try {
        const n = await flushOutbox(db, this.publisher(target.vhost), target.name, { minAgeMs });
        if (n > 0) log.info('outbox relay published messages left behind', { handler: target.name, messages: n });
        published += n;
      } catch (error) {
        log.warn('outbox relay could not publish; the rows stay for the next pass', { handler: target.name, ...errorFields(error) });
      }
    }
    return published;
  }

  /** Closes the publishing connections (the database is the caller's). */
  public async close(): Promise<void> {
    const all = [...this.publishers.values()];
    this.publishers.clear();
    await Promise.all(all.map((p) => p.close()));
  }

  private publisher(vhost: string): AmqpPublisher {
    let publisher = this.publishers.get(vhost);
    if (publisher === undefined) {
      publisher = new AmqpPublisher(() => this.setup.publishUrl(vhost));
      this.publishers.set(vhost, publisher);
    }
    return publisher;
  }
}
