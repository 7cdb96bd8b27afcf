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
import type { ConnectionBudget, ConnectionBudgetOptions, HandlerShare } from './connectionBudgetTypes.js';
import { ProxyConnectionBudgetError } from './errors.js';

export { CONNECTION_BUDGET_MODES, type ConnectionBudget, type ConnectionBudgetMode, type ConnectionBudgetOptions, type HandlerShare } from './connectionBudgetTypes.js';

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
