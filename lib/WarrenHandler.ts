/**
 * One handler on AWS: its function (in the VPC, reaching RDS Proxy with IAM auth), its dead-letter queue, one Amazon MQ
 * trigger per shard queue `<queue>.<i>`, and its alarms (DLQ not empty, function errors). 8 resources plus two per
 * shard (its trigger and its drain resource, lib/WarrenShardDrain.ts); the security group is shared by every Warren
 * function (`WarrenStack`), the role stays per handler so it can send only to its own DLQ.
 *
 * aws-cdk-lib has no Amazon MQ event source and its `EventSourceMapping` has no `queues` prop, so the triggers are L1
 * `CfnEventSourceMapping`s. Each trigger runs at most one execution environment, so `concurrency` triggers mean at most
 * `concurrency` environments and connections.
 */
import { CfnOutput, Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IDependable } from 'constructs';
import { shardQueues, usesOutbox, type ResolvedHandlerConfig } from '../config/config.js';
import { ENV } from '../runtime/env.js';
import type { WarrenBroker } from './WarrenBroker.js';
import type { WarrenDatabase } from './WarrenDatabase.js';
import { WarrenFunction } from './WarrenFunction.js';
import { placeShardDrains } from './WarrenShardDrain.js';

export interface WarrenHandlerProps {
  readonly projectRoot: string;
  readonly handler: ResolvedHandlerConfig;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** The security group every Warren function shares (admitted by the broker and the proxy). */
  readonly securityGroup: ec2.ISecurityGroup;
  readonly broker: WarrenBroker;
  /** The application broker user's secret (WarrenBrokerUser): the triggers and `ctx.publish` log in with it. */
  readonly brokerAppSecret: secretsmanager.ISecret;
  /**
   * The broker's AMQPS endpoint as a string valid in the handler's own stack (a nested stack's parameter: see
   * WarrenHandlerGroup). @default broker.amqpsEndpoint
   */
  readonly amqpsEndpoint?: string;
  readonly database: WarrenDatabase;
  /**
   * Triggers are created after these (the topology and migrations custom resources), so their queues and tables
   * exist before Lambda starts polling.
   */
  readonly dependsOn: readonly IDependable[];
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The topology function's service token: each trigger then depends on a `Custom::WarrenShardDrain` that drains its
   * shard when a lower `concurrency` removes it (lib/WarrenShardDrain.ts). @default no drain resources
   */
  readonly shardDrainServiceToken?: string;
}

export const WARREN_HANDLER_DEFAULTS = {
  dlqRetention: Duration.days(14),
  memorySize: 512,
} as const;

export class WarrenHandler extends Construct {
  public readonly function: WarrenFunction;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly triggers: lambda.CfnEventSourceMapping[];
  public readonly alarms: cloudwatch.Alarm[] = [];

  public constructor(scope: Construct, id: string, props: WarrenHandlerProps) {
    super(scope, id);
    const h = props.handler;

    // Dead-letter queue: the runtime sends permanent failures here (MQ triggers have no on-failure destination).
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      retentionPeriod: WARREN_HANDLER_DEFAULTS.dlqRetention,
      enforceSSL: true,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue: the runtime sends permanent failures to it directly, since MQ triggers have no on-failure destination.',
    });

    // Function: in the VPC, configured for RDS Proxy through WARREN_DB_* (see runtime/db/rdsIam.ts).
    this.function = new WarrenFunction(this, 'Function', {
      projectRoot: props.projectRoot,
      entry: h.entry,
      handler: h.export,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [props.securityGroup],
      timeout: Duration.seconds(h.timeoutSeconds),
      memorySize: WARREN_HANDLER_DEFAULTS.memorySize,
      description: `Warren handler ${h.name} (${h.concurrency} shard(s) of ${h.queue})`,
      environment: {
        [ENV.handler]: h.name,
        [ENV.dlqUrl]: this.deadLetterQueue.queueUrl,
        ...props.database.environment(),
        // ctx.publish() and ctx.reply() (`publishes`, `replies`, `repliesTo`): the outbox is flushed after each commit over one AMQPS connection per environment.
        ...(!usesOutbox(h) ? {} : {
          [ENV.amqpEndpoint]: props.amqpsEndpoint ?? props.broker.amqpsEndpoint,
          [ENV.amqpSecretArn]: props.brokerAppSecret.secretArn,
          [ENV.amqpVhost]: h.vhost,
        }),
      },
      ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
    });
    const role = this.function.role;

    // Grants: DLQ send, proxy connect as the application DB user, and what MQ triggers need (broker description, the
    // application broker user's secret; never the administrator's).
    this.deadLetterQueue.grantSendMessages(this.function);
    props.database.grantConnect(this.function);
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['mq:DescribeBroker'], resources: [props.broker.brokerArn] }));
    props.brokerAppSecret.grantRead(this.function);

    // Triggers: one per shard queue, after the topology exists and the role holds its permissions.
    // The config allows whole seconds only; its default (0.5) is Lambda's own default for MQ, so it is left unset.
    const windowSeconds = Number.isInteger(h.batchingWindowSeconds) ? h.batchingWindowSeconds : undefined;
    this.triggers = shardQueues(h).map((queue, i) => {
      const trigger = new lambda.CfnEventSourceMapping(this, `Shard${i}`, {
        functionName: this.function.functionArn,
        eventSourceArn: props.broker.brokerArn,
        queues: [queue],
        batchSize: h.batchSize,
        maximumBatchingWindowInSeconds: windowSeconds,
        enabled: true,
        sourceAccessConfigurations: [
          { type: 'BASIC_AUTH', uri: props.brokerAppSecret.secretArn },
          { type: 'VIRTUAL_HOST', uri: h.vhost },
        ],
      });
      for (const dependency of props.dependsOn) trigger.node.addDependency(dependency);
      trigger.node.addDependency(role);
      return trigger;
    });
    if (props.shardDrainServiceToken !== undefined) placeShardDrains(this, h, props.shardDrainServiceToken, this.triggers);

    // Alarms: DLQ not empty, function errors. (Consumers are watched stack-wide: Amazon MQ has no per-queue metrics on
    // RabbitMQ 4, so WarrenStack alarms on the broker's ConsumerCount and the broker monitor checks each shard.)
    this.alarms.push(
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }).createAlarm(this, 'DeadLetterQueueNotEmpty', {
        alarmDescription: `Handler ${h.name} dead-lettered messages (permanent failures); inspect and redrive ${this.deadLetterQueue.node.path}`,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      this.function.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }).createAlarm(this, 'FunctionErrors', {
        alarmDescription: `Handler ${h.name} failed invocations (each failed batch is retried whole)`,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    // The DLQ's URL, as an output of the stack that holds this handler (a nested stack for large configs).
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.deadLetterQueue.queueUrl, description: `Dead-letter queue of handler ${h.name}` });
  }
}
