/**
 * The trigger-teardown custom resource's code. EC2 cannot exist here, so the interface lister is replaced (the one AWS
 * API this code calls); the waiting, the filter it asks for and the give-up are Warren's.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createTriggerTeardownHandler, TRIGGER_TEARDOWN_PHYSICAL_ID } from '../../runtime/triggerTeardownResource.js';

function event(requestType: 'Create' | 'Delete', waitSeconds = '1'): CloudFormationCustomResourceEvent {
  return {
    RequestType: requestType,
    ServiceToken: 'x', ResponseURL: 'https://example.invalid', StackId: 's', RequestId: 'r', LogicalResourceId: 'TriggerTeardown',
    ResourceType: 'Custom::WarrenTriggerTeardown',
    ResourceProperties: { ServiceToken: 'x', VpcId: 'vpc-0abc', AccountId: '111122223333', WaitSeconds: waitSeconds },
    ...(requestType === 'Delete' ? { PhysicalResourceId: TRIGGER_TEARDOWN_PHYSICAL_ID } : {}),
  } as CloudFormationCustomResourceEvent;
}

describe('Function: createTriggerTeardownHandler()', () => {
  it('on Delete, waits until the pollers\' interfaces in the VPC are gone', async () => {
    const asked: [string, string][] = [];
    const answers = [['eni-1', 'eni-2'], ['eni-2'], []];
    const onEvent = createTriggerTeardownHandler(async (vpc, prefix) => { asked.push([vpc, prefix]); return answers.shift() ?? []; }, 10);
    await expect(onEvent(event('Delete', '60'))).resolves.toEqual({ PhysicalResourceId: 'warren-trigger-teardown', Data: { Left: '' } });
    expect(asked).toEqual([['vpc-0abc', 'AWS Lambda VPC ENI-armq-111122223333-'], ['vpc-0abc', 'AWS Lambda VPC ENI-armq-111122223333-'], ['vpc-0abc', 'AWS Lambda VPC ENI-armq-111122223333-']]);
  });

  it('gives up after WaitSeconds and lets the deletion go on, reporting what is left', async () => {
    const onEvent = createTriggerTeardownHandler(async () => ['eni-stuck'], 200);
    await expect(onEvent(event('Delete', '1'))).resolves.toEqual({ PhysicalResourceId: 'warren-trigger-teardown', Data: { Left: 'eni-stuck' } });
  });

  it('does nothing on Create', async () => {
    const onEvent = createTriggerTeardownHandler(async () => { throw new Error('must not call EC2'); });
    await expect(onEvent(event('Create'))).resolves.toEqual({ PhysicalResourceId: 'warren-trigger-teardown', Data: { Left: '' } });
  });
});
