/**
 * The connection budget, checked at synth.
 *
 *   need(handler) = concurrency (shards = triggers = at most that many execution environments at once)
 *                 + reclaimAllowance (environments Lambda replaced but has not shut down yet, whose connection the
 *                   proxy holds until its idle client timeout)
 *   limit         = floor(maxConnections * maxConnectionsPercent / 100)   (the proxy's share of max_connections)
 *   extra         = connections of other functions (the outbox relay: 1, by reserved concurrency)
 *   sum(need) + extra must be <= limit, or synth fails with `ConnectionBudgetError`.
 */
import type { ResolvedHandlerConfig } from '../runtime/config.js';

export interface ConnectionBudgetOptions {
  /** The database's `max_connections`. */
  readonly maxConnections: number;
  /** Share of `max_connections` the proxy may open (RDS Proxy `MaxConnectionsPercent`). */
  readonly maxConnectionsPercent: number;
  /** Extra connections counted per handler for environments not reclaimed yet. */
  readonly reclaimAllowance: number;
  /** Connections held by other functions of the stack (the outbox relay). @default [] */
  readonly extra?: readonly { readonly name: string; readonly connections: number }[];
}

export interface HandlerShare {
  /** A handler's name, or another function's (e.g. "outbox relay"). */
  readonly handler: string;
  /** True for a function that is not a handler: its connections are fixed (reserved concurrency). */
  readonly fixed?: boolean;
  readonly shards: number;
  readonly allowance: number;
  readonly connections: number;
}

export interface ConnectionBudget {
  readonly shares: readonly HandlerShare[];
  readonly needed: number;
  readonly limit: number;
}

/** Thrown at synth when the handlers' shards do not fit the proxy's share of the database's connections. */
export class ConnectionBudgetError extends Error {
  public readonly budget: ConnectionBudget;
  public constructor(budget: ConnectionBudget, options: ConnectionBudgetOptions) {
    const shares = budget.shares.map((s) => (s.fixed === true ? `${s.handler} ${s.connections}` : `${s.handler} ${s.connections} (${s.shards} shards + ${s.allowance} reclaim allowance)`)).join(', ');
    super(
      `Connection budget exceeded: the handlers need ${budget.needed} connections [${shares}] but the proxy may open only ${budget.limit} ` +
        `(${options.maxConnectionsPercent}% of max_connections ${options.maxConnections}). ` +
        'Lower a handler\'s concurrency, or raise warren:maxConnections (after raising max_connections on the database) or warren:maxConnectionsPercent.',
    );
    this.name = 'ConnectionBudgetError';
    this.budget = budget;
  }
}

/** Computes each handler's share and the limit. */
export function connectionBudget(handlers: readonly Pick<ResolvedHandlerConfig, 'name' | 'concurrency'>[], options: ConnectionBudgetOptions): ConnectionBudget {
  const shares = [
    ...handlers.map((h) => ({
      handler: h.name,
      shards: h.concurrency,
      allowance: options.reclaimAllowance,
      connections: h.concurrency + options.reclaimAllowance,
    })),
    ...(options.extra ?? []).map((e) => ({ handler: e.name, fixed: true, shards: 0, allowance: 0, connections: e.connections })),
  ];
  return {
    shares,
    needed: shares.reduce((sum, s) => sum + s.connections, 0),
    limit: Math.floor((options.maxConnections * options.maxConnectionsPercent) / 100),
  };
}

/** Returns the budget when it fits; throws `ConnectionBudgetError` otherwise. */
export function checkConnectionBudget(handlers: readonly Pick<ResolvedHandlerConfig, 'name' | 'concurrency'>[], options: ConnectionBudgetOptions): ConnectionBudget {
  const budget = connectionBudget(handlers, options);
  if (budget.needed > budget.limit) throw new ConnectionBudgetError(budget, options);
  return budget;
}
