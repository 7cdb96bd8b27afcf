/** The connection budget's options and result (lib/connectionBudget.ts computes it), apart so lib/errors.ts can name them. */

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
