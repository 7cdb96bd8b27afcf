/**
 * Runs a Warren custom resource that uses the Provider framework's asynchronous completion the way the framework does
 * (lib/functions/asyncCompletion.ts): `onEvent` once, then `isComplete` with the request merged with what `onEvent`
 * returned, again and again until it answers complete. A throw from either is what the framework would turn into
 * FAILED, so it is returned as such.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { AsyncAnswer, AsyncStart } from '../../lib/functions/asyncCompletion.js';

export type AsyncHandler = (event: CloudFormationCustomResourceEvent, context?: { getRemainingTimeInMillis?: () => number }) => Promise<AsyncStart | AsyncAnswer>;

export interface AsyncOutcome {
  readonly status: 'SUCCESS' | 'FAILED' | 'TIMED OUT';
  readonly physicalId?: string;
  readonly data?: Record<string, string>;
  /** `isComplete` calls made. */
  readonly calls: number;
  readonly reason?: string;
}

export async function runToCompletion(handler: AsyncHandler, event: CloudFormationCustomResourceEvent, options: { maxCalls?: number; intervalMs?: number; beforeCall?: (call: number) => Promise<void> | void } = {}): Promise<AsyncOutcome> {
  let start: AsyncStart;
  try {
    start = await handler(event) as AsyncStart;
  } catch (error) {
    return { status: 'FAILED', calls: 0, reason: String(error) };
  }
  if (typeof start.StartedAt !== 'number') return { status: 'FAILED', calls: 0, reason: 'onEvent returned no StartedAt' };
  const request = { ...event, ...start } as CloudFormationCustomResourceEvent;
  for (let call = 1; call <= (options.maxCalls ?? 50); call += 1) {
    await options.beforeCall?.(call);
    let answer: AsyncAnswer;
    try {
      answer = await handler(request) as AsyncAnswer;
    } catch (error) {
      return { status: 'FAILED', physicalId: start.PhysicalResourceId, calls: call, reason: String(error) };
    }
    if (answer.IsComplete) return { status: 'SUCCESS', physicalId: start.PhysicalResourceId, data: { ...start.Data, ...answer.Data }, calls: call };
    if ('Data' in answer) return { status: 'FAILED', calls: call, reason: '"Data" is not allowed if "IsComplete" is "False"' };
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 50));
  }
  return { status: 'TIMED OUT', physicalId: start.PhysicalResourceId, calls: options.maxCalls ?? 50 };
}
