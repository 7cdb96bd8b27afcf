/**
 * The account-concurrency custom resource's code, with the real AWS SDK against a local HTTP server speaking Lambda's
 * GetAccountSettings (test/helpers/lambdaApi.ts): a deploy goes on when the account's unreserved concurrency covers
 * the stack's need, and fails with a message naming the numbers and the fix when it does not.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAccountConcurrencyHandler } from '../../lib/functions/accountConcurrencyResource.js';
import { AccountConcurrencyError } from '../../lib/functions/errors.js';
import { startLambdaApi, useLambdaApi, type LambdaApi } from '../helpers/lambdaApi.js';

function event(requestType: 'Create' | 'Update' | 'Delete', required: number | string, triggers: number, oldProperties: Record<string, string> = {}): CloudFormationCustomResourceEvent {
  return {
    RequestType: requestType,
    ServiceToken: 'x', ResponseURL: 'https://example.invalid', StackId: 's', RequestId: 'r', LogicalResourceId: 'AccountConcurrency',
    ResourceType: 'Custom::WarrenAccountConcurrency',
    ResourceProperties: { ServiceToken: 'x', Required: String(required), Triggers: String(triggers) },
    ...(requestType === 'Create' ? {} : { PhysicalResourceId: 'warren-account-concurrency' }),
    ...(requestType === 'Update' ? { OldResourceProperties: { ServiceToken: 'x', ...oldProperties } } : {}),
  } as CloudFormationCustomResourceEvent;
}

let api: LambdaApi;
let restore: () => void;
beforeAll(async () => { api = await startLambdaApi(); });
afterAll(async () => { await api.close(); });
beforeEach(() => { restore = useLambdaApi(api); api.requests.length = 0; });
afterEach(() => restore());

describe('Function: createAccountConcurrencyHandler()', () => {
  it('lets the deploy go on when the unreserved concurrency covers the need, asking Lambda GetAccountSettings once, signed', async () => {
    api.state.accountLimit = { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 900 };
    await expect(createAccountConcurrencyHandler()(event('Create', 215, 200))).resolves.toEqual({ PhysicalResourceId: 'warren-account-concurrency', Data: { Required: '215', Unreserved: '900' } });
    expect(api.requests).toEqual([{ method: 'GET', path: '/2016-08-19/account-settings', query: {}, signed: true }]);
  });

  it('fails the deploy with the numbers and the fix when the account cannot run every trigger (a new account: 10)', async () => {
    api.state.accountLimit = { ConcurrentExecutions: 10, UnreservedConcurrentExecutions: 10 };
    const failure = createAccountConcurrencyHandler()(event('Create', 16, 4));
    await expect(failure).rejects.toBeInstanceOf(AccountConcurrencyError);
    await expect(failure).rejects.toThrow(
      'This Warren stack needs 16 concurrent Lambda executions (4 MQ triggers hold one each at all times, plus the outbox relay, the broker monitor and headroom), ' +
        'but the account\'s unreserved concurrency in this region is 10 (quota ConcurrentExecutions 10). ' +
        'Request a higher "Concurrent executions" quota in Service Quotas (AWS Lambda) or lower the handlers\' concurrency, then deploy again; check with: aws lambda get-account-settings',
    );
  });

  it('checks again on Update (handlers added) and fails when the need grew past the account', async () => {
    api.state.accountLimit = { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 100 };
    await expect(createAccountConcurrencyHandler()(event('Update', 101, 90))).rejects.toThrow(/needs 101 concurrent Lambda executions .* is 100 /);
  });

  it('checks on an Update whose requirement grew compared with OldResourceProperties', async () => {
    api.state.accountLimit = { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 100 };
    await expect(createAccountConcurrencyHandler()(event('Update', 101, 90, { Required: '60', Triggers: '49' }))).rejects.toThrow(/needs 101 concurrent Lambda executions .* is 100 /);
    expect(api.requests).toHaveLength(1);
  });

  it('lets a rollback through: an Update back to a smaller requirement succeeds although the account shrank since, without asking Lambda', async () => {
    // CloudFormation rolls a failed update back with an Update whose ResourceProperties are the old ones.
    api.state.accountLimit = { ConcurrentExecutions: 10, UnreservedConcurrentExecutions: 5 };
    await expect(createAccountConcurrencyHandler()(event('Update', 60, 49, { Required: '101', Triggers: '90' })))
      .resolves.toEqual({ PhysicalResourceId: 'warren-account-concurrency', Data: { Required: '60', Unreserved: '' } });
    await expect(createAccountConcurrencyHandler()(event('Update', 60, 49, { Required: '60', Triggers: '49' })))
      .resolves.toMatchObject({ PhysicalResourceId: 'warren-account-concurrency' });
    expect(api.requests).toEqual([]);
  });

  it('never fails a Delete, not even with properties it cannot read', async () => {
    api.state.accountLimit = { ConcurrentExecutions: 10, UnreservedConcurrentExecutions: 0 };
    await expect(createAccountConcurrencyHandler()(event('Delete', 'many', 4))).resolves.toMatchObject({ PhysicalResourceId: 'warren-account-concurrency' });
    expect(api.requests).toEqual([]);
  });

  it('does not ask Lambda on Delete, so a stack whose account shrank can still be deleted', async () => {
    api.state.accountLimit = { ConcurrentExecutions: 10, UnreservedConcurrentExecutions: 0 };
    await expect(createAccountConcurrencyHandler()(event('Delete', 16, 4))).resolves.toMatchObject({ PhysicalResourceId: 'warren-account-concurrency' });
    expect(api.requests).toEqual([]);
  });
});
