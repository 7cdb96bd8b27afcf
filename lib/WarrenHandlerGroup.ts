/**
 * A nested stack holding the handlers the committed placement gives it (lib/warrenLock.ts). CloudFormation allows
 * 500 resources and 200 outputs per stack, and a nested stack counts as one resource in its parent (CloudFormation
 * User Guide, "Understand CloudFormation quotas"), so 200 handlers deploy in one `cdk deploy`: the parent holds the
 * shared parts and one resource per group.
 * A handler takes 8 resources plus one per shard (its trigger, see WarrenHandler) and one output (its DLQ URL); the
 * group adds two custom resources for all its handlers: the shard drain (lib/WarrenShardDrain.ts) and the trigger
 * teardown (lib/WarrenTriggerTeardown.ts). One per group, not per shard or handler: each costs two invocations at once
 * when created (the Provider framework's and the function's), and 200 handlers used to create about 400 at once.
 */
import { CfnParameter, NestedStack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct, IDependable } from 'constructs';
import type { ResolvedHandlerConfig } from '../config/config.js';
import type { WarrenBroker } from './WarrenBroker.js';
import type { WarrenDatabase } from './WarrenDatabase.js';
import { WarrenHandler } from './WarrenHandler.js';
import { lifecycleGeneration, placeShardDrain } from './WarrenShardDrain.js';
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
  /** Places, per group, the custom resource that keeps the roles until their triggers' network interfaces are gone. */
  readonly teardown: WarrenTriggerTeardown;
  /** The drain provider's service token, for the group's shard drain resource (lib/WarrenShardDrain.ts). @default none */
  readonly shardDrainServiceToken?: string;
  /** The application broker user, whose read permission the drain takes a drained shard out of. @default none */
  readonly appUser?: string;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

export class WarrenHandlerGroup extends NestedStack {
  public readonly handlers: WarrenHandler[];

  public constructor(scope: Construct, id: string, props: WarrenHandlerGroupProps) {
    super(scope, id, { description: handlerGroupDescription(props.handlers.map((h) => h.name)) });
    // The broker's AMQPS endpoint, selected in the parent and passed as a string: CDK passes a cross-stack list (the
    // broker's AmqpEndpoints) as a String parameter, on which an `Fn::Select` in here fails (cfn-lint E1020), and
    // CloudFormation cannot pass a list into a nested stack (AWS Knowledge Center, "parameters-nested-stacks").
    // Only when a handler here publishes: an unused parameter is a cfn-lint warning (W2001), and which handlers share a
    // nested stack follows the committed placement (lib/warrenLock.ts), not the config's order.
    let endpoint: CfnParameter | undefined;
    if (props.handlers.some((h) => h.publishes.length > 0)) {
      endpoint = new CfnParameter(this, 'BrokerAmqpsEndpoint', { type: 'String', description: 'AMQPS endpoint of the broker (amqps://<host>:5671)' });
      this.setParameter(endpoint.logicalId, props.broker.amqpsEndpoint);
    }
    this.handlers = props.handlers.map((handler) => new WarrenHandler(this, `Handler-${handler.name}`, {
      projectRoot: props.projectRoot,
      handler,
      vpc: props.vpc,
      subnets: props.subnets,
      securityGroup: props.securityGroup,
      broker: props.broker,
      brokerAppSecret: props.brokerAppSecret,
      ...(endpoint === undefined ? {} : { amqpsEndpoint: endpoint.valueAsString }),
      database: props.database,
      dependsOn: props.dependsOn,
      ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
    }));
    // Deletion order (so also when a handler or a shard is removed in an update: the generation in both resources'
    // logical ids changes, and the old ones go in the cleanup phase): the triggers, then the shard drain (moves what a
    // surplus shard holds) and the teardown (waits for the pollers' interfaces), then the roles.
    const generation = lifecycleGeneration(props.handlers);
    const triggers = this.handlers.flatMap((h) => h.triggers);
    props.teardown.place(this, generation, this.handlers.map((h) => h.function.role), triggers, props.broker.brokerArn);
    if (props.shardDrainServiceToken !== undefined) placeShardDrain(this, generation, props.handlers, props.shardDrainServiceToken, props.appUser ?? '', triggers);
  }
}

/** `first .. last (n)` of a group's handler names (at most 48 characters each), or the one name: bounded in size. */
export function handlerRange(names: readonly string[]): string {
  const [first, last] = [names[0] ?? '', names[names.length - 1] ?? ''];
  return names.length === 1 ? first : `${first} .. ${last} (${names.length})`;
}

/**
 * The nested stack's description: the first and last handler and the count, never the whole list. CloudFormation
 * allows 1,024 bytes (CDK refuses more than 512 characters: `StackDescriptionTooLong`); this stays under 130.
 */
export function handlerGroupDescription(names: readonly string[]): string {
  return `Warren handlers ${handlerRange(names)}`;
}

