/**
 * A nested stack holding up to `handlersPerStack` handlers. CloudFormation allows 500 resources and 200 outputs per
 * stack, and a nested stack counts as one resource in its parent (CloudFormation User Guide, "Understand CloudFormation
 * quotas"), so 200 handlers deploy in one `cdk deploy`: the parent holds the shared parts and one resource per group.
 * A handler takes 8 resources plus two per shard (trigger and drain resource, see WarrenHandler) and one output (its DLQ URL).
 */
import { NestedStack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct, IDependable } from 'constructs';
import type { ResolvedHandlerConfig } from '../runtime/config.js';
import type { WarrenBroker } from './WarrenBroker.js';
import type { WarrenDatabase } from './WarrenDatabase.js';
import { WarrenHandler } from './WarrenHandler.js';
import type { WarrenTriggerTeardown } from './WarrenTriggerTeardown.js';

export interface WarrenHandlerGroupProps {
  readonly projectRoot: string;
  readonly handlers: readonly ResolvedHandlerConfig[];
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly broker: WarrenBroker;
  /** The application broker user's secret (triggers, `ctx.publish`). */
  readonly brokerAppSecret: secretsmanager.ISecret;
  readonly database: WarrenDatabase;
  readonly dependsOn: readonly IDependable[];
  /** Places the custom resource that keeps the roles until the triggers' network interfaces are gone. */
  readonly teardown: WarrenTriggerTeardown;
  /** The topology function's service token, for the shards' drain resources (lib/WarrenShardDrain.ts). @default none */
  readonly shardDrainServiceToken?: string;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

export class WarrenHandlerGroup extends NestedStack {
  public readonly handlers: WarrenHandler[];

  public constructor(scope: Construct, id: string, props: WarrenHandlerGroupProps) {
    super(scope, id, { description: `Warren handlers ${props.handlers.map((h) => h.name).join(', ')}`.slice(0, 1024) });
    this.handlers = props.handlers.map((handler) => new WarrenHandler(this, `Handler-${handler.name}`, {
      projectRoot: props.projectRoot,
      handler,
      vpc: props.vpc,
      subnets: props.subnets,
      securityGroup: props.securityGroup,
      broker: props.broker,
      brokerAppSecret: props.brokerAppSecret,
      database: props.database,
      dependsOn: props.dependsOn,
      ...(props.shardDrainServiceToken === undefined ? {} : { shardDrainServiceToken: props.shardDrainServiceToken }),
      ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
    }));
    // Deletion order: triggers, then the teardown resource (waits for the pollers' interfaces), then the roles.
    const teardown = props.teardown.place(this, this.handlers.map((h) => h.function.role));
    for (const trigger of this.handlers.flatMap((h) => h.triggers)) trigger.node.addDependency(teardown);
  }
}

/** Splits `items` into chunks of at most `size`, in order. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
