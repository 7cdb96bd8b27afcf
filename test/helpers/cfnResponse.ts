/**
 * CloudFormation's limits on a custom resource response, and the body the CDK Provider framework sends for an
 * `onEvent` result (aws-cdk-lib custom-resources/lib/provider-framework/runtime: framework.js `createResponseEvent`,
 * cfn-response.js `submitResponse`). The deploy rehearsal (test/rehearsal) runs the framework's own code instead; this
 * is for tests that size a response without it.
 *
 * AWS CloudFormation User Guide, "Custom resource response objects": "The total size of the response body can't
 * exceed 4096 bytes"; PhysicalResourceId "can be up to 1 KB", "must be identical for all responses for the same
 * resource"; Reason is "Required if Status is FAILED".
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

export const CFN_RESPONSE_LIMIT_BYTES = 4096;
export const CFN_PHYSICAL_ID_LIMIT_BYTES = 1024;

export interface CfnResponseBody {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly PhysicalResourceId: string;
  readonly LogicalResourceId: string;
  readonly NoEcho?: boolean;
  readonly Data?: unknown;
}

/** The JSON body the Provider framework PUTs to the ResponseURL after `onEvent` returned `result`. */
export function frameworkSuccessBody(event: CloudFormationCustomResourceEvent, result: { PhysicalResourceId?: string; Data?: unknown }): string {
  const physical = result.PhysicalResourceId ?? ('PhysicalResourceId' in event ? event.PhysicalResourceId : event.RequestId);
  const body: CfnResponseBody = {
    Status: 'SUCCESS', Reason: 'SUCCESS', StackId: event.StackId, RequestId: event.RequestId,
    PhysicalResourceId: physical, LogicalResourceId: event.LogicalResourceId, Data: result.Data,
  };
  return JSON.stringify(body);
}

/** Every limit CloudFormation puts on one response; returns the problems found (empty when the body is fine). */
export function responseProblems(raw: string): string[] {
  const problems: string[] = [];
  const bytes = Buffer.byteLength(raw, 'utf8');
  if (bytes > CFN_RESPONSE_LIMIT_BYTES) problems.push(`response body is ${bytes} bytes (limit ${CFN_RESPONSE_LIMIT_BYTES})`);
  const body = JSON.parse(raw) as Partial<CfnResponseBody>;
  if (body.Status !== 'SUCCESS' && body.Status !== 'FAILED') problems.push(`Status is ${JSON.stringify(body.Status)}`);
  if (typeof body.PhysicalResourceId !== 'string' || body.PhysicalResourceId === '') problems.push('PhysicalResourceId is missing');
  else if (Buffer.byteLength(body.PhysicalResourceId) > CFN_PHYSICAL_ID_LIMIT_BYTES) problems.push('PhysicalResourceId is over 1 KB');
  if (body.Status === 'FAILED' && (typeof body.Reason !== 'string' || body.Reason === '' || body.Reason === 'FAILED')) problems.push('a FAILED response has no Reason');
  for (const field of ['StackId', 'RequestId', 'LogicalResourceId'] as const) if (typeof body[field] !== 'string') problems.push(`${field} is missing`);
  return problems;
}
