/**
 * How many concurrent Lambda executions the app needs, printed at synth, and the deploy-time check
 * (lib/functions/accountConcurrencyResource.ts) that fails the deploy early when the account cannot run every trigger.
 *
 * Need = one per MQ trigger (each holds one execution environment at all times: Lambda developer guide, "Using Lambda
 * with Amazon MQ") + the outbox relay (one run a minute) + the pruning function (one run an hour) + the broker monitor
 * + the deploy's custom resources at once + headroom for overlapping scheduled runs. None of Warren's functions reserves
 * concurrency, so they share the
 * account's unreserved concurrency in the region (Lambda API GetAccountSettings, UnreservedConcurrentExecutions).
 *
 * The deploy's custom resources (issue 26, fault 6): a custom resource keeps at most two invocations running at once,
 * the Provider framework's function and the Warren function it invokes synchronously, whether in `onEvent` or in one
 * `isComplete` call of the asynchronous ones (the waiter calls `isComplete` one at a time, with `queryInterval`
 * between calls, so polling adds invocations over time, never at once). The parent's custom resources (account
 * check, migrations, topology, broker user) run before any handler's: the triggers depend on them, so each nested
 * stack waits for them; at most 3 run at once, beside CDK's two `Custom::LogRetention` (one invocation each): 8
 * invocations. Each nested stack then has two (shard drain and trigger teardown), and all nested stacks deploy in
 * parallel. So at once: max(8, 2 x 2 x nested stacks).
 */
import { CustomResource, Duration, Lazy } from 'aws-cdk-lib';
import { ownFunctionEntry } from './ownFunctions.js';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { usesOutbox, type ResolvedHandlerConfig } from '../config/config.js';
import { accountApiProvider } from './warrenProvider.js';

export const WARREN_CONCURRENCY_DEFAULTS = {
  /** A relay or monitor run that overlaps the previous one. */
  headroom: 2,
  /** Invocations one custom resource keeps running at once: the Provider framework's function and the Warren function. */
  invocationsPerCustomResource: 2,
  /** Invocations the parent stack's custom resources keep running at once: 3 of Warren's (2 each) and CDK's 2 LogRetention (1 each). */
  parentInvocationsAtOnce: 8,
  /** Custom resources per nested stack of handlers (shard drain, trigger teardown). */
  customResourcesPerGroup: 2,
} as const;

export interface ConcurrencyNeed {
  readonly triggers: number;
  readonly relay: number;
  /** The scheduled pruning function (lib/WarrenPruner.ts). */
  readonly pruner: number;
  readonly monitor: number;
  /** The deploy's custom resources at once (see the file comment). */
  readonly deploy: number;
  readonly headroom: number;
  readonly total: number;
}

/** Invocations a deploy starts at once: two per custom resource running, the parent's or every nested stack's. */
export function deployInvocations(nestedStacks: number): number {
  const d = WARREN_CONCURRENCY_DEFAULTS;
  return Math.max(d.parentInvocationsAtOnce, d.invocationsPerCustomResource * d.customResourcesPerGroup * nestedStacks);
}

/** What `handlers` in `nestedStacks` need at once: one per shard trigger, the relay when one publishes, the pruner, the monitor, the deploy, the headroom. */
export function concurrencyNeed(handlers: readonly ResolvedHandlerConfig[], nestedStacks: number): ConcurrencyNeed {
  const triggers = handlers.reduce((sum, h) => sum + h.concurrency, 0);
  const relay = handlers.some((h) => usesOutbox(h)) ? 1 : 0;
  const pruner = 1;
  const monitor = 1;
  const deploy = deployInvocations(nestedStacks);
  const headroom = WARREN_CONCURRENCY_DEFAULTS.headroom;
  return { triggers, relay, pruner, monitor, deploy, headroom, total: triggers + relay + pruner + monitor + deploy + headroom };
}

/** The line `cdk synth` prints. */
export function concurrencyNotice(need: ConcurrencyNeed): string {
  return `Warren: this app needs ${need.total} concurrent Lambda executions (${need.triggers} MQ triggers + ${need.relay} outbox relay + ${need.pruner} pruning + ${need.monitor} broker monitor + ${need.deploy} deploy-time custom resources + ${need.headroom} headroom). ` +
    'Check the account\'s UnreservedConcurrentExecutions with `aws lambda get-account-settings` in the target region; the deploy fails early if it is lower.';
}

export interface WarrenAccountConcurrencyProps {
  readonly projectRoot: string;
  /** Read at synth time, after the stack placed its handlers in nested stacks. */
  readonly need: () => ConcurrencyNeed;
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
      projectRoot, logRetention, entry: ownFunctionEntry('accountConcurrencyResource'), timeout: Duration.minutes(1),
      description: 'Warren: fails the deploy when the account\'s Lambda concurrency cannot run every trigger',
      unscopedActions: { actions: ['lambda:GetAccountSettings'], reason: 'lambda:GetAccountSettings is account-wide and takes no resource.' },
    });
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::WarrenAccountConcurrency',
      properties: {
        Required: Lazy.string({ produce: () => String(props.need().total) }),
        Triggers: Lazy.string({ produce: () => String(props.need().triggers) }),
      },
    });
  }
}
