/**
 * One handler on AWS: its function (in the VPC, reaching RDS Proxy with IAM auth), its dead-letter queue, one Amazon MQ
 * trigger per shard queue `<queue>.<i>`, and its alarms.
 *
 * aws-cdk-lib has no Amazon MQ event source and its `EventSourceMapping` has no `queues` prop, so the triggers are L1
 * `CfnEventSourceMapping`s. Each trigger runs at most one execution environment, so `concurrency` triggers mean at most
 * `concurrency` environments and connections.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IDependable } from 'constructs';
import { shardQueues, type ResolvedHandlerConfig } from '../runtime/config.js';
import type { WarrenBroker } from './WarrenBroker.js';
import type { WarrenDatabase } from './WarrenDatabase.js';
import { WarrenFunction } from './WarrenFunction.js';

export interface WarrenHandlerProps {
  readonly projectRoot: string;
  readonly handler: ResolvedHandlerConfig;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly broker: WarrenBroker;
  readonly database: WarrenDatabase;
  /** Triggers are created after this (the topology custom resource), so their queues exist. */
  readonly topology: IDependable;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Periods (5 min each) a shard queue may have no consumer before its alarm fires.
   * @default 3
   */
  readonly consumerMissingPeriods?: number;
}

export const WARREN_HANDLER_DEFAULTS = {
  consumerMissingPeriods: 3,
  dlqRetention: Duration.days(14),
  memorySize: 512,
} as const;

/** The environment variable that carries the dead-letter queue URL. */
export const DLQ_URL_ENV = 'WARREN_DLQ_URL';

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

    // Function: in the VPC, configured for RDS Proxy through WARREN_DB_* (see runtime/rdsIam.ts).
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', { vpc: props.vpc, description: `Warren handler ${h.name}`, allowAllOutbound: true });
    this.function = new WarrenFunction(this, 'Function', {
      projectRoot: props.projectRoot,
      entry: h.entry,
      handler: h.export,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [securityGroup],
      timeout: Duration.seconds(h.timeoutSeconds),
      memorySize: WARREN_HANDLER_DEFAULTS.memorySize,
      description: `Warren handler ${h.name} (${h.concurrency} shard(s) of ${h.queue})`,
      environment: {
        WARREN_HANDLER: h.name,
        [DLQ_URL_ENV]: this.deadLetterQueue.queueUrl,
        ...props.database.environment(),
        // ctx.publish(): the outbox is flushed after each commit over one AMQPS connection per environment.
        ...(h.publishes.length === 0 ? {} : {
          WARREN_AMQP_ENDPOINT: props.broker.amqpsEndpoint,
          WARREN_AMQP_SECRET_ARN: props.broker.secret.secretArn,
          WARREN_AMQP_VHOST: h.vhost,
        }),
      },
      ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
    });
    const role = this.function.role;

    // Grants: DLQ send, proxy connect as the DB user, and what MQ triggers need (broker description, broker secret).
    this.deadLetterQueue.grantSendMessages(this.function);
    props.database.allowFunction(this.function);
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['mq:DescribeBroker'], resources: [props.broker.brokerArn] }));
    props.broker.secret.grantRead(this.function);

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
          { type: 'BASIC_AUTH', uri: props.broker.secret.secretArn },
          { type: 'VIRTUAL_HOST', uri: h.vhost },
        ],
      });
      trigger.node.addDependency(props.topology);
      trigger.node.addDependency(role);
      return trigger;
    });

    // Alarms: DLQ not empty, function errors, a shard queue without its trigger consuming.
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
    const periods = props.consumerMissingPeriods ?? WARREN_HANDLER_DEFAULTS.consumerMissingPeriods;
    shardQueues(h).forEach((queue, i) => {
      const consumers = new cloudwatch.Metric({
        namespace: 'AWS/AmazonMQ',
        metricName: 'ConsumerCount',
        dimensionsMap: { Broker: props.broker.brokerName, VirtualHost: h.vhost, Queue: queue },
        statistic: 'Minimum',
        period: Duration.minutes(5),
      });
      this.alarms.push(consumers.createAlarm(this, `Shard${i}TriggerNotConsuming`, {
        alarmDescription: `No consumer on ${queue}: the trigger of handler ${h.name} shard ${i} is disabled or failing; see its StateTransitionReason (aws lambda get-event-source-mapping)`,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: periods,
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
      }));
    });
  }
}
