/**
 * Errors the CDK side throws at synth. Every one is a `WarrenError` (runtime/errors.ts); option errors are
 * `ConfigError`s naming the option (a `warren:*` context key or a construct prop) and the fix.
 */
import { ConfigError, WarrenError } from '../runtime/errors.js';
import type { ConnectionBudget, ConnectionBudgetOptions } from './connectionBudget.js';

export { ConfigError, WarrenError };

/** Thrown at synth when the proxy cannot serve the handlers: in strict mode, more clients than database connections. */
export class ConnectionBudgetError extends WarrenError {
  public readonly budget: ConnectionBudget;
  public constructor(budget: ConnectionBudget, options: ConnectionBudgetOptions, errorOptions?: ErrorOptions) {
    const shares = budget.shares.map((s) => (s.fixed === true ? `${s.handler} ${s.connections}` : `${s.handler} ${s.connections} (${s.shards} shards + ${s.allowance} reclaim allowance)`)).join(', ');
    super(
      `Connection budget exceeded (warren:connectionBudget=${budget.mode}): the functions may open ${budget.clients} client connections [${shares}] ` +
        `but the proxy may open only ${budget.databaseConnections} database connections (${options.maxConnectionsPercent}% of max_connections ${options.maxConnections}). ` +
        'Lower a handler\'s concurrency, raise warren:maxConnections (after raising max_connections on the database) or warren:maxConnectionsPercent, ' +
        'or drop -c warren:connectionBudget=strict so the proxy multiplexes clients onto fewer database connections.',
      errorOptions,
    );
    this.name = 'ConnectionBudgetError';
    this.budget = budget;
  }
}

/** A whole-number option in a range, or a `ConfigError` naming it. */
export function wholeNumber(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(field, `expected a whole number from ${min} to ${max}, received ${value}; set it in cdk.json "context" or with -c ${field}=<n>`);
  }
  return value;
}
