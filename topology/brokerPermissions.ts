/**
 * What the application broker user may do on each virtual host (RabbitMQ's three permission regexes, matched against
 * queue and exchange names; RabbitMQ docs, "Authentication, Authorisation, Access Control"):
 *   configure  `^$`: nothing. No declare, no delete, no bind. The topology custom resource (administrator) declares
 *              everything; a passive declare (`checkQueue`/`checkExchange`) needs no permission.
 *   read       the handlers' shard queues `<queue>.0` .. `<queue>.<N-1>`, exactly: consuming (the MQ triggers).
 *   write      the exchanges listed in `publishes`, exactly: `ctx.publish` and the outbox relay; with `replies`, also
 *              `amq.default` (replies to `reply_to` queues go through the default exchange, which lets the user publish
 *              into ANY queue of the vhost by name: docs/request-and-reply.md weighs it); with `repliesTo`, the input
 *              exchanges of exactly those handlers.
 * Dead-lettering past a shard's delivery limit is done by the broker itself into `<queue>.dlq` (permissions are
 * checked when the queue is declared with `x-dead-letter-*`, by the administrator), and Warren's own dead letters go
 * to SQS on AWS, so the application user needs nothing on `<queue>.dlq`.
 */
import type { ResolvedHandlerConfig } from '../config/config.js';
import { shardQueues } from '../config/config.js';

export interface VhostPermissions {
  readonly vhost: string;
  readonly configure: string;
  readonly write: string;
  readonly read: string;
}

/** Matches nothing (RabbitMQ treats '' the same way; `^$` says so). */
export const NOTHING = '^$';

/** Escapes a name for a RabbitMQ permission regex (Erlang `re`, PCRE syntax). */
export function escapeRegex(name: string): string {
  return name.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** `^(?:a|b)$` for exact names, `^$` for none. */
export function exactly(names: readonly string[]): string {
  const unique = [...new Set(names)].sort();
  return unique.length === 0 ? NOTHING : `^(?:${unique.map(escapeRegex).join('|')})$`;
}

/** One entry per virtual host the handlers use, in first-use order. */
/** RabbitMQ's name for the default exchange in permissions (RabbitMQ docs, "Access Control": `amq.default`). */
export const DEFAULT_EXCHANGE_RESOURCE = 'amq.default';

export function brokerAppPermissions(handlers: readonly (Pick<ResolvedHandlerConfig, 'vhost' | 'queue' | 'concurrency' | 'publishes'> & Partial<Pick<ResolvedHandlerConfig, 'name' | 'replies' | 'repliesTo'>>)[]): VhostPermissions[] {
  const vhosts = [...new Set(handlers.map((h) => h.vhost))];
  return vhosts.map((vhost) => {
    const mine = handlers.filter((h) => h.vhost === vhost);
    return {
      vhost,
      configure: NOTHING,
      read: exactly(mine.flatMap((h) => shardQueues(h))),
      write: exactly(mine.flatMap((h) => [
        ...h.publishes.map((p) => p.exchange),
        ...(h.replies === true ? [DEFAULT_EXCHANGE_RESOURCE] : []),
        ...(h.repliesTo ?? []).flatMap((name) => mine.filter((t) => t.name === name).map((t) => t.queue)),
      ])),
    };
  });
}
