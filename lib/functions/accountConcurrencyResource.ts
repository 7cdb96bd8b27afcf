/**
 * Custom resource that fails a deploy early, with a message saying what to do, when the account cannot run every
 * trigger at once. Each Amazon MQ trigger keeps one execution environment busy at all times (Lambda developer guide,
 * "Using Lambda with Amazon MQ": one concurrent poller per RabbitMQ trigger), and none of Warren's functions reserves
 * concurrency, so they all draw on the account's unreserved concurrency in the region; new accounts start with a low
 * quota (10). Without this check such a deploy "succeeds" and the triggers are throttled.
 *
 * Reads Lambda `GetAccountSettings` (`AccountLimit.ConcurrentExecutions`, `AccountLimit.UnreservedConcurrentExecutions`;
 * Lambda API reference, "GetAccountSettings") on Create, and on an Update whose `Required` grew compared with
 * `OldResourceProperties`. An Update that needs no more than before always succeeds: a rollback sends Update with the
 * previous (smaller) properties as `ResourceProperties` and the failed update's as `OldResourceProperties` (AWS
 * CloudFormation User Guide, "Custom resource request objects" / "Update"), and a check that failed it again because
 * the account's unreserved concurrency dropped since would leave the stack in UPDATE_ROLLBACK_FAILED. Delete does
 * nothing. The stack places it before the broker and the database, so a refused deploy rolls back in minutes, not
 * after a 20-minute broker creation.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ConfigError } from '../../runtime/errors.js';
import { createLogger } from '../../runtime/logger.js';
import { AccountConcurrencyError } from './errors.js';

export const ACCOUNT_CONCURRENCY_PHYSICAL_ID = 'warren-account-concurrency';

export interface AccountConcurrency {
  /** `AccountLimit.ConcurrentExecutions`: the account's quota in the region. */
  readonly limit: number;
  /** `AccountLimit.UnreservedConcurrentExecutions`: what functions without reserved concurrency share. */
  readonly unreserved: number;
}

/** Reads the account's concurrency; the default asks Lambda (honouring AWS_ENDPOINT_URL_LAMBDA, as the tests do). */
export type AccountSettingsReader = () => Promise<AccountConcurrency>;

export const readWithLambda: AccountSettingsReader = async () => {
  const { LambdaClient, GetAccountSettingsCommand } = await import('@aws-sdk/client-lambda');
  const client = new LambdaClient({});
  try {
    const out = await client.send(new GetAccountSettingsCommand({}));
    return { limit: out.AccountLimit?.ConcurrentExecutions ?? 0, unreserved: out.AccountLimit?.UnreservedConcurrentExecutions ?? 0 };
  } finally {
    client.destroy();
  }
};

const log = createLogger({ component: 'account-concurrency' });

function count(event: CloudFormationCustomResourceEvent, name: string): number {
  const value = Number(event.ResourceProperties[name]);
  if (!Number.isInteger(value) || value < 0) throw new ConfigError(name, `expected a whole number, received ${JSON.stringify(event.ResourceProperties[name])}`);
  return value;
}

/** The previous requirement on an Update (`OldResourceProperties.Required`), or undefined when it is not a number. */
function previousRequired(event: CloudFormationCustomResourceEvent): number | undefined {
  if (event.RequestType !== 'Update') return undefined;
  const value = Number(event.OldResourceProperties?.Required);
  return Number.isInteger(value) && value >= 0 ? value : undefined;
}

export function createAccountConcurrencyHandler(read: AccountSettingsReader = readWithLambda): (event: CloudFormationCustomResourceEvent) => Promise<{ PhysicalResourceId: string; Data: { Required: string; Unreserved: string } }> {
  return async (event) => {
    const physicalId = event.RequestType === 'Create' ? ACCOUNT_CONCURRENCY_PHYSICAL_ID : event.PhysicalResourceId;
    // Delete never fails, whatever its properties hold: nothing is left behind by this resource.
    if (event.RequestType === 'Delete') return { PhysicalResourceId: physicalId, Data: { Required: String(event.ResourceProperties.Required ?? ''), Unreserved: '' } };
    const required = count(event, 'Required');
    const triggers = count(event, 'Triggers');
    const before = previousRequired(event);
    if (before !== undefined && required <= before) {
      // No growth (a rollback, or a change that needs no more): the account ran this before; never fail it now.
      log.info('account concurrency: the requirement did not grow, not checked', { required, previous: before, requestType: event.RequestType });
      return { PhysicalResourceId: physicalId, Data: { Required: String(required), Unreserved: '' } };
    }
    const account = await read();
    log.info('account concurrency', { required, triggers, limit: account.limit, unreserved: account.unreserved });
    if (account.unreserved < required) {
      throw new AccountConcurrencyError(
        `This Warren stack needs ${required} concurrent Lambda executions (${triggers} MQ triggers hold one each at all times, plus the outbox relay, the broker monitor and headroom), ` +
          `but the account's unreserved concurrency in this region is ${account.unreserved} (quota ConcurrentExecutions ${account.limit}). ` +
          `Request a higher "Concurrent executions" quota in Service Quotas (AWS Lambda) or lower the handlers' concurrency, then deploy again; ` +
          'check with: aws lambda get-account-settings',
        required,
        account.unreserved,
      );
    }
    return { PhysicalResourceId: physicalId, Data: { Required: String(required), Unreserved: String(account.unreserved) } };
  };
}

export const handler = createAccountConcurrencyHandler();
