/**
 * The errors topology/ throws while declaring the broker's exchanges, queues and bindings (the runner at start, the
 * topology custom resource at deploy). Each is a `WarrenError` (runtime/errors.ts) naming what the broker refused and
 * the fix.
 */
import { WarrenError } from '../runtime/errors.js';

export { WarrenError };

/** Thrown when declaring the broker topology fails; names what the broker refused and how to fix it. */
export class TopologyError extends WarrenError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TopologyError';
  }
}

/**
 * Thrown at start (runner) or deploy (topology custom resource) when a queue Warren declares already exists with other
 * arguments, e.g. a classic `orders.0` left by an older Warren. RabbitMQ cannot change a queue's arguments: drain the
 * queue, delete it, and start again so Warren declares it anew.
 */
export class QueueArgumentsMismatchError extends WarrenError {
  public readonly queue: string;
  public readonly vhost: string;
  /** The first argument RabbitMQ found different, as RabbitMQ named it. */
  public readonly argument: string;
  /** What the existing queue has for `argument`, as RabbitMQ described it ('none' when it is not set). */
  public readonly has: string;
  /** What Warren declares for `argument` ('none' when Warren does not set it). */
  public readonly wants: string;
  public constructor(details: { queue: string; vhost: string; argument: string; has: string; wants: string; wanted: Readonly<Record<string, unknown>>; hint: string }, options?: ErrorOptions) {
    super(
      `Queue "${details.queue}" (vhost "${details.vhost}") exists with other arguments than Warren declares: ` +
      `${details.argument} is ${details.has} on the broker, Warren wants ${details.wants}. ` +
      `Warren declares it with ${JSON.stringify(details.wanted)}. RabbitMQ cannot change the arguments of an existing queue: ` +
      `${details.hint}`,
      options,
    );
    this.name = 'QueueArgumentsMismatchError';
    this.queue = details.queue;
    this.vhost = details.vhost;
    this.argument = details.argument;
    this.has = details.has;
    this.wants = details.wants;
  }
}
