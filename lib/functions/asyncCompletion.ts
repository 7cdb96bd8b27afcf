/**
 * The CDK Provider framework's asynchronous completion, as Warren's long-running custom resources use it (the shard
 * drain and the trigger teardown). With an `isCompleteHandler`, the framework calls `onEvent` once, then a Step
 * Functions waiter calls `isComplete` every `queryInterval` until it answers `IsComplete: true`, up to `totalTimeout`
 * (aws-cdk-lib custom-resources README, "Provider Framework" / "Asynchronous Providers: isComplete"). Each call is a
 * short invocation, so work longer than a function's timeout (a large backlog, pollers slow to let go) spreads over
 * many calls, and no execution environment sleeps while it waits.
 *
 * What the framework does with an answer (aws-cdk-lib custom-resources/lib/provider-framework/runtime/framework.js):
 *   - `onEvent` throws, or is killed at its timeout: the resource FAILS (on Delete: DELETE_FAILED);
 *   - `isComplete` throws, or is killed at its timeout: the resource FAILS too (the framework wraps it in the same
 *     `safeHandler`), it is NOT retried;
 *   - `isComplete` answers `IsComplete: false` (with no `Data`): asked again after `queryInterval`;
 *   - `totalTimeout` passes: the resource FAILS ("Operation timed out").
 * So Warren's `onEvent` does nothing that can fail or take long, every `isComplete` call bounds its own work
 * (`callBudgetMs`, well inside the function's timeout) and catches everything, and gives up with success, logging what
 * is left, at `giveUpMs`, well before `totalTimeout`.
 *
 * The same function serves both: the framework passes `isComplete` the `onEvent` request merged with what `onEvent`
 * returned, so the `StartedAt` field `onEvent` adds tells the two apart (CloudFormation's request never has it, and
 * the framework sends CloudFormation only Status, Reason, ids and Data, never this field).
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

/** The Provider settings Warren's asynchronous resources use, and their own limits inside them. */
export const ASYNC_COMPLETION_DEFAULTS = {
  /** Step Functions waits this long between two `isComplete` calls. */
  queryIntervalSeconds: 15,
  /** The framework fails the resource after this long (CDK's default is 30 minutes, its maximum 2 hours). */
  totalTimeoutMinutes: 60,
  /** One `isComplete` call stops its work after this long (the functions' timeout is 5 minutes or more). */
  callBudgetMs: 90_000,
} as const;

/** What `onEvent` returns: the physical id, and when the work started (the marker of an `isComplete` request). */
export interface AsyncStart {
  readonly PhysicalResourceId: string;
  readonly StartedAt: number;
  readonly Data?: Record<string, string>;
}

/** What `isComplete` returns. `Data` only when complete (the framework refuses it otherwise). */
export type AsyncAnswer = { readonly IsComplete: true; readonly Data?: Record<string, string> } | { readonly IsComplete: false };

/** An `isComplete` request: CloudFormation's request plus what `onEvent` returned. */
export type IsCompleteRequest = CloudFormationCustomResourceEvent & { readonly PhysicalResourceId: string; readonly StartedAt: number };

/** True when the framework's waiter sent `event` (it carries the `StartedAt` that `onEvent` returned). */
export function isCompleteRequest(event: CloudFormationCustomResourceEvent): event is IsCompleteRequest {
  return typeof (event as { StartedAt?: unknown }).StartedAt === 'number';
}

/** The physical id `onEvent` answers with: the given one on Create, CloudFormation's on Update and Delete. */
export function physicalIdOf(event: CloudFormationCustomResourceEvent, onCreate: string): string {
  return event.RequestType === 'Create' ? onCreate : event.PhysicalResourceId;
}

/** When this call must stop working: `callBudgetMs` from now, and never later than 20 s before the function's timeout. */
export function callDeadline(context: { getRemainingTimeInMillis?: () => number } | undefined, callBudgetMs: number = ASYNC_COMPLETION_DEFAULTS.callBudgetMs): number {
  const remaining = context?.getRemainingTimeInMillis?.();
  const budget = remaining === undefined ? callBudgetMs : Math.max(1_000, Math.min(callBudgetMs, remaining - 20_000));
  return Date.now() + budget;
}
