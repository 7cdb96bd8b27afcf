/**
 * How many concurrent Lambda executions the app needs, printed at synth, and the deploy-time check
 * (lib/functions/accountConcurrencyResource.ts) that fails the deploy early when the account cannot run every trigger.
 *
 * Need = one per MQ trigger (each holds one execution environment at all times: Lambda developer guide, "Using Lambda
 * with Amazon MQ") + the outbox relay (one run a minute) + the broker monitor + headroom for deploy-time custom
 * resources and overlapping scheduled runs. None of Warren's functions reserves concurrency, so they share the
 * account's unreserved concurrency in the region (Lambda API GetAccountSettings, UnreservedConcurrentExecutions).
 */
import { CustomResource, Duration } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { usesOutbox, type ResolvedHandlerConfig } from '../config/config.js';
import { accountApiProvider } from './warrenProvider.js';

export const WARREN_CONCURRENCY_DEFAULTS = {
  /** Deploy-time custom resources (a provider function and its onEvent each) and a scheduled run that overlaps. */
  headroom: 10,
} as const;

export interface ConcurrencyNeed {
  readonly triggers: number;
  readonly relay: number;
  readonly monitor: number;
  readonly headroom: number;
  readonly total: number;
}

/** What `handlers` need at once: one per shard trigger, the relay when one publishes, the monitor, the headroom. */
export function concurrencyNeed(handlers: readonly ResolvedHandlerConfig[]): ConcurrencyNeed {
  const triggers = handlers.reduce((sum, h) => sum + h.concurrency, 0);
  const relay = handlers.some((h) => usesOutbox(h)) ? 1 : 0;
  const monitor = 1;
  const headroom = WARREN_CONCURRENCY_DEFAULTS.headroom;
  return { triggers, relay, monitor, headroom, total: triggers + relay + monitor + headroom };
}

/** The line `cdk synth` prints. */
export function concurrencyNotice(need: ConcurrencyNeed): string {
  return `Warren: this app needs ${need.total} concurrent Lambda executions (${need.triggers} MQ triggers + ${need.relay} outbox relay + ${need.monitor} broker monitor + ${need.headroom} headroom). ` +
    'Check the account\'s UnreservedConcurrentExecutions with `aws lambda get-account-settings` in the target region; the deploy fails early if it is lower.';
}

export interface WarrenAccountConcurrencyProps {
  readonly projectRoot: string;
  readonly need: ConcurrencyNeed;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

export class WarrenAccountConcurrency extends Construct {
  public readonly resource: CustomResource;

  public constructor(scope: Construct, id: string, props: WarrenAccountConcurrencyProps) {
    super(scope, id);
    // Outside the VPC: it only calls Lambda's GetAccountSettings, and must run before the network's NAT exists.
    const { projectRoot, logRetention } = props;
    const provider = accountApiProvider(this, {
      projectRoot, logRetention, entry: 'lib/functions/accountConcurrencyResource.ts', timeout: Duration.minutes(1),
      description: 'Warren: fails the deploy when the account\'s Lambda concurrency cannot run every trigger',
      unscopedActions: { actions: ['lambda:GetAccountSettings'], reason: 'lambda:GetAccountSettings is account-wide and takes no resource.' },
    });
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::WarrenAccountConcurrency',
      properties: { Required: String(props.need.total), Triggers: String(props.need.triggers) },
    });
  }
}
