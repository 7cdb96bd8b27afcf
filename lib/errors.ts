/**
 * Errors the CDK side throws at synth, in one file. Every one is a `WarrenError` (runtime/errors.ts); option errors are
 * `ConfigError`s naming the option (a `warren:*` context key or a construct prop) and the fix. The errors of the
 * stack's own Lambda functions live in lib/functions/errors.ts (bundled code may not import this file) and are
 * re-exported here.
 */
import { ConfigError, ConnectionBudgetError, WarrenError } from '../runtime/errors.js';
import type { ConnectionBudget, ConnectionBudgetOptions } from './connectionBudgetTypes.js';
import { WARREN_LOCK_FILE, type LockedResource } from './warrenLockTypes.js';

export { ConfigError, ConnectionBudgetError, WarrenError };
export { AccountConcurrencyError, MigrationConnectError, MigrationError } from './functions/errors.js';

/** A whole-number option in a range, or a `ConfigError` naming it. */
export function wholeNumber(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(field, `expected a whole number from ${min} to ${max}, received ${value}; set it in cdk.json "context" or with -c ${field}=<n>`);
  }
  return value;
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

/** A lock that is missing entries in `locked` mode (CI): names them and says what to commit. */
export class StaleLockError extends WarrenError {
  public readonly missing: readonly string[];

  public constructor(file: string, missing: readonly string[]) {
    const shown = missing.slice(0, 10).join(', ') + (missing.length > 10 ? `, and ${missing.length - 10} more` : '');
    super(`${file} has no entry for ${shown}. Run \`npx cdk synth\` where you changed warren.config.ts and commit ${file} with the change; in CI (CI set, or -c warren:lock=locked) Warren does not place handlers or pin settings itself, since a record that is not committed would be made again, perhaps differently, by the next synth.`);
    this.name = 'StaleLockError';
    this.missing = missing;
  }
}

/** A setting change that would make CloudFormation replace a stateful resource. */
export class ReplacementRefusedError extends WarrenError {
  public readonly resource: LockedResource;
  public readonly property: string;

  public constructor(resource: LockedResource, property: string, setting: string, before: unknown, after: unknown) {
    super(`${setting} would replace the ${RESOURCE_NAMES[resource]}: its create-only ${property} changes from ${JSON.stringify(before)} to ${JSON.stringify(after)} (recorded in ${WARREN_LOCK_FILE}), and CloudFormation replaces the resource${resource === 'DatabaseInstance' ? ' (a new, empty database)' : ''}. Nothing was deployed. Set ${setting} back, or make the change as docs/changing-a-deployed-app.md ("Changes Warren refuses") describes.`);
    this.name = 'ReplacementRefusedError';
    this.resource = resource;
    this.property = property;
  }
}

const RESOURCE_NAMES: Record<LockedResource, string> = {
  Broker: 'broker',
  BrokerConfiguration: 'broker configuration (and so the broker update fails: the configuration has a fixed name)',
  DatabaseInstance: 'database instance',
  DatabaseProxy: 'RDS Proxy',
};
