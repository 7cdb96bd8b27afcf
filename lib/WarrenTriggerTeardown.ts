/**
 * The provider of the trigger-teardown custom resource (lib/functions/triggerTeardownResource.ts): one function for the
 * stack, outside the VPC (it only calls EC2's DescribeNetworkInterfaces and Lambda's ListEventSourceMappings), behind a
 * Provider with asynchronous completion (it waits up to 10 minutes without a function waiting). Each nested stack of
 * handlers places one resource between its handlers' roles and their triggers with `place()`, under a logical id that
 * changes with the group's handlers and shards, so removing one handler in an update waits for its pollers'
 * interfaces as deleting the stack does (issue 26, fault 6: one resource per group, not per handler).
 */
import { Aws, CustomResource, Duration } from 'aws-cdk-lib';
import { ownFunctionEntry } from './ownFunctions.js';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, type IConstruct } from 'constructs';
import { accountApiProvider } from './warrenProvider.js';

export interface WarrenTriggerTeardownProps {
  readonly projectRoot: string;
  readonly vpc: ec2.IVpc;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

export const WARREN_TRIGGER_TEARDOWN_DEFAULTS = { waitSeconds: 600 } as const;

export class WarrenTriggerTeardown extends Construct {
  public readonly serviceToken: string;
  private readonly vpcId: string;

  public constructor(scope: Construct, id: string, props: WarrenTriggerTeardownProps) {
    super(scope, id);
    const { projectRoot, logRetention } = props;
    this.serviceToken = accountApiProvider(this, {
      projectRoot, logRetention, entry: ownFunctionEntry('triggerTeardownResource'), timeout: Duration.minutes(1), asyncCompletion: true,
      description: 'Warren: waits, when triggers are deleted, until their MQ pollers released their network interfaces',
      unscopedActions: { actions: ['ec2:DescribeNetworkInterfaces', 'lambda:ListEventSourceMappings'], reason: 'ec2:DescribeNetworkInterfaces and lambda:ListEventSourceMappings do not support resource-level permissions.' },
    }).serviceToken;
    this.vpcId = props.vpc.vpcId;
  }

  /**
   * Adds the resource to `scope` (a nested stack of handlers) as `TriggerTeardown<generation>`: created after `roles`
   * (and their policies), so deleted before them; each of `triggers` is made to depend on it, so they are deleted first.
   * `generation` must change whenever a trigger or a role of the group goes away (lifecycleGeneration()).
   */
  public place(scope: Construct, generation: string, roles: readonly IConstruct[], triggers: readonly IConstruct[], brokerArn: string): CustomResource {
    const resource = new CustomResource(scope, `TriggerTeardown${generation}`, {
      serviceToken: this.serviceToken,
      resourceType: 'Custom::WarrenTriggerTeardown',
      properties: { VpcId: this.vpcId, AccountId: Aws.ACCOUNT_ID, BrokerArn: brokerArn, WaitSeconds: String(WARREN_TRIGGER_TEARDOWN_DEFAULTS.waitSeconds) },
    });
    for (const role of roles) resource.node.addDependency(role);
    for (const trigger of triggers) trigger.node.addDependency(resource);
    return resource;
  }
}
