/**
 * The local runner's outbox relay: every second, publishes rows that no invocation flushed (their process died between
 * commit and publish, or the broker was away), oldest first, per handler and shard queue, through the relay core the
 * AWS relay uses too (`runtime/outbox/OutboxRelayCore.ts`). It leaves alone the shards that have a batch in flight
 * (`shardIsLive`, from the runner): their invocation publishes its rows itself (`runtime/outbox/leftBehind.ts`). It holds one MySQL connection and one publishing connection per vhost of
 * its own, and runs only when a handler declares `publishes`.
 */
import { ConnectionManager } from '../../runtime/db/ConnectionManager.js';
import type { ResolvedHandlerConfig } from '../../config/config.js';
import { errorFields, type Logger } from '../../runtime/logger.js';
import { OutboxRelayCore } from '../../runtime/outbox/OutboxRelayCore.js';

export const RELAY_DEFAULTS = {
  intervalMs: 1_000,
  /**
   * Rows younger than this belong to the invocation that wrote them (it flushes right after its commits); older ones
   * too while their shard has a batch in flight.
   */
  minAgeMs: 2_000,
  /**
   * A shard stays "live" this long after its batch ended: its worker may still hold deferred "sent" marks of rows it
   * published (at most 2 x WARREN_OUTBOX_MARK_DELAY_MS = 1 s, runtime/outbox/SentMarks.ts).
   */
  afterBatchMs: 1_500,
} as const;

export class OutboxRelay {
  private readonly db: ConnectionManager;
  private readonly core: OutboxRelayCore;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  public published = 0;

  public constructor(
    private readonly handlers: readonly ResolvedHandlerConfig[],
    databaseUrl: string,
    amqpUrlForVhost: (vhost: string) => string,
    private readonly log: Logger,
    shardIsLive: (handler: string, sourceQueue: string) => boolean = () => false,
  ) {
    this.db = new ConnectionManager({ url: databaseUrl, logger: log.child({ component: 'outbox-relay' }) });
    this.core = new OutboxRelayCore({ db: this.db, publishUrl: async (vhost) => amqpUrlForVhost(vhost), minAgeMs: RELAY_DEFAULTS.minAgeMs, shardIsLive, log });
  }

  public start(): void {
    this.timer = setInterval(() => { this.running ??= this.tick().finally(() => { this.running = undefined; }); }, RELAY_DEFAULTS.intervalMs);
  }

  /** One pass over every handler with rows left behind; returns how many were published. */
  public async tick(): Promise<number> {
    let count = 0;
    try {
      count = await this.core.pass(this.handlers);
    } catch (error) {
      this.log.warn('outbox relay pass failed; retrying next pass', errorFields(error));
    }
    this.published += count;
    return count;
  }

  public async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.running;
    await this.core.close();
    await this.db.close();
  }
}
