/**
 * The trigger-teardown custom resource's code. EC2 cannot exist here, so the interface lister is replaced; the live
 * triggers come from the real AWS SDK against a local HTTP server speaking Lambda's ListEventSourceMappings
 * (test/helpers/lambdaApi.ts). The waiting, the filter, telling orphaned interfaces from live pollers' and the give-up
 * are Warren's.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTriggerTeardownHandler, listWithLambda, orphanedInterfaces, TRIGGER_TEARDOWN_PHYSICAL_ID, type PollerInterface } from '../../lib/functions/triggerTeardownResource.js';
import { startLambdaApi, useLambdaApi, type LambdaApi } from '../helpers/lambdaApi.js';
import { runToCompletion } from '../helpers/asyncResource.js';

const BROKER = 'arn:aws:mq:eu-west-1:111122223333:broker:warren:b-1234abcd-56ef-78ab-90cd-1234567890ab';
const PREFIX = 'AWS Lambda VPC ENI-armq-111122223333-';
const KEPT = '11111111-2222-3333-4444-555555555555';
const GONE = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const eni = (id: string, uuid: string): PollerInterface => ({ id, description: `${PREFIX}${uuid}` });

function event(requestType: 'Create' | 'Delete', waitSeconds = '1'): CloudFormationCustomResourceEvent {
  return {
    RequestType: requestType,
    ServiceToken: 'x', ResponseURL: 'https://example.invalid', StackId: 's', RequestId: 'r', LogicalResourceId: 'TriggerTeardown',
    ResourceType: 'Custom::WarrenTriggerTeardown',
    ResourceProperties: { ServiceToken: 'x', VpcId: 'vpc-0abc', AccountId: '111122223333', BrokerArn: BROKER, WaitSeconds: waitSeconds },
    ...(requestType === 'Delete' ? { PhysicalResourceId: TRIGGER_TEARDOWN_PHYSICAL_ID } : {}),
  } as CloudFormationCustomResourceEvent;
}

let api: LambdaApi;
let restore: () => void;
beforeAll(async () => { api = await startLambdaApi(); });
afterAll(async () => { await api.close(); });
beforeEach(() => { restore = useLambdaApi(api); api.requests.length = 0; api.state.mappings = {}; });
afterEach(() => restore());

describe('Function: createTriggerTeardownHandler() (asynchronous completion: one look per isComplete call)', () => {
  it('on Delete of one handler, waits for its removed trigger\'s interfaces and not for the pollers of the triggers that stay', async () => {
    api.state.mappings = { [BROKER]: [KEPT, '22222222-2222-3333-4444-555555555555', '33333333-2222-3333-4444-555555555555'] };
    const asked: [string, string][] = [];
    const answers = [[eni('eni-kept', KEPT), eni('eni-gone-1', GONE), eni('eni-gone-2', GONE)], [eni('eni-kept', KEPT), eni('eni-gone-2', GONE)], [eni('eni-kept', KEPT)]];
    const handler = createTriggerTeardownHandler(async (vpc, prefix) => { asked.push([vpc, prefix]); return answers.shift() ?? []; });
    await expect(runToCompletion(handler, event('Delete', '60'))).resolves.toEqual({ status: 'SUCCESS', physicalId: 'warren-trigger-teardown', data: { Left: '' }, calls: 3 });
    expect(asked).toEqual([['vpc-0abc', PREFIX], ['vpc-0abc', PREFIX], ['vpc-0abc', PREFIX]]);
    // the live triggers were read from Lambda for the broker, every page (3 mappings, pages of 2), each time
    expect(api.requests.map((r) => r.query.EventSourceArn)).toEqual(Array(6).fill(BROKER));
    expect(api.requests.every((r) => r.signed && /^\/2015-03-31\/event-source-mappings\/?$/.test(r.path))).toBe(true);
  });

  it('gives up after WaitSeconds and lets the deletion go on, reporting what is left', async () => {
    const handler = createTriggerTeardownHandler(async () => [eni('eni-stuck', GONE)]);
    await expect(runToCompletion(handler, event('Delete', '1'), { intervalMs: 300 })).resolves.toMatchObject({ status: 'SUCCESS', data: { Left: '1: eni-stuck' } });
  });

  it('never fails a Delete: an EC2 error is looked at again at the next call, and after WaitSeconds it completes', async () => {
    let asked = 0;
    const handler = createTriggerTeardownHandler(async () => { asked += 1; throw new Error('RequestLimitExceeded'); });
    await expect(runToCompletion(handler, event('Delete', '1'), { intervalMs: 300 })).resolves.toMatchObject({ status: 'SUCCESS', data: { Left: 'unknown' } });
    expect(asked).toBeGreaterThanOrEqual(2);
  });

  it('does nothing on Create', async () => {
    const handler = createTriggerTeardownHandler(async () => { throw new Error('must not call EC2'); });
    await expect(runToCompletion(handler, event('Create'))).resolves.toEqual({ status: 'SUCCESS', physicalId: 'warren-trigger-teardown', data: { Left: '' }, calls: 1 });
    expect(api.requests).toEqual([]);
  });
});

describe('Function: orphanedInterfaces()', () => {
  it('keeps interfaces whose trigger is gone or unnamed, drops those of live triggers (case-insensitive)', () => {
    const interfaces = [eni('a', KEPT.toUpperCase()), eni('b', GONE), { id: 'c', description: PREFIX }];
    expect(orphanedInterfaces(interfaces, [KEPT]).map((i) => i.id)).toEqual(['b', 'c']);
  });

  it('lists the broker\'s live triggers through Lambda ListEventSourceMappings, following NextMarker', async () => {
    api.state.mappings = { [BROKER]: [KEPT, GONE, '33333333-2222-3333-4444-555555555555'], 'arn:other': ['44444444-2222-3333-4444-555555555555'] };
    await expect(listWithLambda(BROKER)).resolves.toEqual([KEPT, GONE, '33333333-2222-3333-4444-555555555555']);
  });
});
