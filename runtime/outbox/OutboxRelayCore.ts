/**
 * The relay core both outbox relays share (the local runner's `local/broker/OutboxRelay.ts`, every second; the scheduled AWS
 * function `lib/functions/relayFunction.ts`, every minute): one pass publishes, per handler and shard queue, the rows left
 * behind (the rule is in `leftBehind.ts`), oldest first, under lock (`flushOutbox`). One publishing connection per
 * vhost, kept across passes.
 */
import type { Database } from '../db/ConnectionManager.js';
import { errorFields, type Logger } from '../logger.js';
import { LEFT_BEHIND_REASON, shardIsLive, unsentShards, type LeftBehindRule } from './leftBehind.js';
import { flushOutbox } from './outbox.js';
import { AmqpPublisher } from './Publisher.js';

/** A handler whose rows the relay publishes, and the vhost its exchanges live on. */
export interface RelayTarget {
  readonly name: string;
  readonly vhost: string;
  /** This handler's minimum row age when above the relay's (on AWS: past the handler's timeout). @default the relay's */
  readonly minAgeMs?: number;
}

export interface RelayCoreSetup extends LeftBehindRule {
  readonly db: Database;
  /** The AMQP URL to publish on for a vhost. */
  readonly publishUrl: (vhost: string) => Promise<string>;
  readonly log: Logger;
}

export class OutboxRelayCore {
  private readonly publishers = new Map<string, AmqpPublisher>();

  public constructor(private readonly setup: RelayCoreSetup) {}

  /**
   * One pass over `targets`: only shard queues with rows left behind are flushed; one that fails is logged and
   * skipped (its rows stay for the next pass). Throws only when the work list itself cannot be read. Returns how many
   * messages were published.
   */
  public async pass(targets: readonly RelayTarget[]): Promise<number> {
    const { db, log } = this.setup;
    const byName = new Map(targets.map((t) => [t.name, t]));
    let published = 0;
    for (const shard of await unsentShards(db, this.setup.minAgeMs)) {
      const target = byName.get(shard.handler);
      if (target === undefined || shardIsLive(this.setup, shard)) continue;
      const minAgeMs = Math.max(this.setup.minAgeMs, target.minAgeMs ?? 0);
      try {
        const n = await flushOutbox(db, this.publisher(target.vhost), target.name, { minAgeMs, sourceQueue: shard.sourceQueue });
        if (n > 0) log.warn('outbox relay published messages left behind', { handler: target.name, sourceQueue: shard.sourceQueue, messages: n, olderThanMs: minAgeMs, reason: LEFT_BEHIND_REASON });
        published += n;
      } catch (error) {
        log.warn('outbox relay could not publish; the rows stay for the next pass', { handler: target.name, sourceQueue: shard.sourceQueue, ...errorFields(error) });
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
