/**
 * Errors the CDK side throws at synth. Every one is a `WarrenError` (runtime/errors.ts); option errors are
 * `ConfigError`s naming the option (a `warren:*` context key or a construct prop) and the fix; the connection budget's
 * `ProxyConnectionBudgetError` sits beside the budget it reports (connectionBudget.ts).
 */
import { ConfigError, WarrenError } from '../runtime/errors.js';

export { ConfigError, WarrenError };

/** A whole-number option in a range, or a `ConfigError` naming it. */
export function wholeNumber(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(field, `expected a whole number from ${min} to ${max}, received ${value}; set it in cdk.json "context" or with -c ${field}=<n>`);
  }
  return value;
}
