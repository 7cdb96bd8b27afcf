/**
 * The connection budget, checked at synth. RDS Proxy sits between the functions and MySQL, so two numbers are counted
 * apart:
 *
 *   clients       = sum over handlers of (concurrency + reclaimAllowance)   client connections to the proxy: one per
 *                   execution environment (a trigger runs at most one), plus environments Lambda replaced but has not
 *                   shut down yet (their connection lives until the proxy's idle client timeout)
 *                 + other functions' environments (outbox relay, migrations custom resource)
 *   database      = floor(maxConnections * maxConnectionsPercent / 100)   connections the proxy may open to MySQL
 *
 * RDS Proxy lends a database connection to a client per transaction and takes it back at the transaction boundary
 * unless the session is pinned (RDS Proxy docs, "Avoiding pinning"); Warren uses the text protocol and sets no session
 * state, so its sessions are not pinned. So by default (`multiplexed`) clients may exceed database connections: a
 * client whose transaction finds every database connection lent waits up to the proxy's borrow timeout (120 s); the
 * stack alarms on borrow latency and on pinned sessions instead. `strict` keeps the old rule (clients <= database
 * connections: nobody ever waits) and fails synth otherwise.
 */
import { ConnectionBudgetError } from '../runtime/errors.js';

export const CONNECTION_BUDGET_MODES = ['multiplexed', 'strict'] as const;
export type ConnectionBudgetMode = (typeof CONNECTION_BUDGET_MODES)[number];

export interface ConnectionBudgetOptions {
  /** The database's `max_connections`. */
  readonly maxConnections: number;
  /** Share of `max_connections` the proxy may open (RDS Proxy `MaxConnectionsPercent`). */
  readonly maxConnectionsPercent: number;
  /** Extra client connections counted per handler for environments not reclaimed yet. */
  readonly reclaimAllowance: number;
  /** Client connections of other functions of the stack (outbox relay, migrations). @default [] */
  readonly extra?: readonly { readonly name: string; readonly connections: number }[];
  /** @default 'multiplexed' */
  readonly mode?: ConnectionBudgetMode;
}

export interface HandlerShare {
  /** A handler's name, or another function's (e.g. "outbox relay"). */
  readonly handler: string;
  /** True for a function that is not a handler: its connections are a fixed number. */
  readonly fixed?: boolean;
  readonly shards: number;
  readonly allowance: number;
  /** Client connections to the proxy. */
  readonly connections: number;
}

export interface ConnectionBudget {
  readonly mode: ConnectionBudgetMode;
  readonly shares: readonly HandlerShare[];
  /** Client connections (execution environments) the stack can open to the proxy at once. */
  readonly clients: number;
  /** Database connections the proxy may open: floor(maxConnections * maxConnectionsPercent / 100). */
  readonly databaseConnections: number;
  /** clients / databaseConnections, rounded to two decimals (1 or less: nobody waits for a database connection). */
  readonly multiplexing: number;
}

/** Computes each handler's share, the client count and the proxy's database connections. */
export function connectionBudget(handlers: readonly { readonly name: string; readonly concurrency: number }[], options: ConnectionBudgetOptions): ConnectionBudget {
  const shares: HandlerShare[] = [
    ...handlers.map((h) => ({ handler: h.name, shards: h.concurrency, allowance: options.reclaimAllowance, connections: h.concurrency + options.reclaimAllowance })),
    ...(options.extra ?? []).map((e) => ({ handler: e.name, fixed: true, shards: 0, allowance: 0, connections: e.connections })),
  ];
  const clients = shares.reduce((sum, s) => sum + s.connections, 0);
  const databaseConnections = Math.floor((options.maxConnections * options.maxConnectionsPercent) / 100);
  return {
    mode: options.mode ?? 'multiplexed',
    shares,
    clients,
    databaseConnections,
    multiplexing: Math.round((clients / Math.max(1, databaseConnections)) * 100) / 100,
  };
}

/** Returns the budget; in `strict` mode throws `ProxyConnectionBudgetError` when clients exceed database connections. */
export function checkConnectionBudget(handlers: readonly { readonly name: string; readonly concurrency: number }[], options: ConnectionBudgetOptions): ConnectionBudget {
  const budget = connectionBudget(handlers, options);
  if (budget.mode === 'strict' && budget.clients > budget.databaseConnections) throw new ProxyConnectionBudgetError(budget, options);
  if (budget.databaseConnections < 1) throw new ProxyConnectionBudgetError(budget, options);
  return budget;
}

/** Thrown at synth when the proxy cannot serve the handlers: in strict mode, more clients than database connections. */
export class ProxyConnectionBudgetError extends ConnectionBudgetError {
  public readonly budget: ConnectionBudget;
  public constructor(budget: ConnectionBudget, options: ConnectionBudgetOptions, errorOptions?: ErrorOptions) {
    const shares = budget.shares.map((s) => (s.fixed === true ? `${s.handler} ${s.connections}` : `${s.handler} ${s.connections} (${s.shards} shards + ${s.allowance} reclaim allowance)`)).join(', ');
    super(
      `Connection budget exceeded (warren:connectionBudget=${budget.mode}): the functions may open ${budget.clients} client connections [${shares}] ` +
        `but the proxy may open only ${budget.databaseConnections} database connections (${options.maxConnectionsPercent}% of max_connections ${options.maxConnections}). ` +
        'Lower a handler\'s concurrency, raise warren:maxConnections (after raising max_connections on the database) or warren:maxConnectionsPercent, ' +
        'or drop -c warren:connectionBudget=strict so the proxy multiplexes clients onto fewer database connections.',
      budget.clients,
      budget.databaseConnections,
      errorOptions,
    );
    this.name = 'ProxyConnectionBudgetError';
    this.budget = budget;
  }
}
