/**
 * The Warren stack, read top to bottom: budget check, network, broker, database + proxy, topology, one WarrenHandler
 * per handler of `warren.config.ts`, the outbox relay (when a handler publishes), then the proxy alarms. Env-agnostic and lookup-free, so `cdk synth` needs no AWS
 * account.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Duration } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ResolvedConfig } from '../runtime/config.js';
import { checkConnectionBudget, type ConnectionBudget } from './connectionBudget.js';
import { WarrenBroker, type ExistingBroker } from './WarrenBroker.js';
import { WarrenDatabase, type ExistingDatabase } from './WarrenDatabase.js';
import { WarrenHandler } from './WarrenHandler.js';
import { WarrenNetwork, type ExistingNetwork } from './WarrenNetwork.js';
import { WarrenTopology } from './WarrenTopology.js';
import { WARREN_RELAY_DEFAULTS, WarrenOutboxRelay } from './WarrenOutboxRelay.js';

export interface WarrenStackProps extends StackProps {
  /** The resolved `warren.config.ts` (the same file the local runner reads). */
  readonly config: ResolvedConfig;
  /** Directory that handler entries are relative to. */
  readonly projectRoot: string;
  /** @default a new VPC */
  readonly network?: ExistingNetwork;
  /** @default 1 */
  readonly natGateways?: number;
  /** @default a new Amazon MQ for RabbitMQ broker */
  readonly broker?: ExistingBroker;
  /** @default 'mq.m7g.large' */
  readonly brokerInstanceType?: string;
  /** @default '4.2' */
  readonly brokerEngineVersion?: string;
  /** @default a new RDS MySQL 8.0 instance */
  readonly database?: ExistingDatabase;
  /** @default 't4g.micro' */
  readonly databaseInstanceType?: string;
  /** @default false */
  readonly databaseMultiAz?: boolean;
  /** @default 'warren' */
  readonly databaseUser?: string;
  /** @default 'warren' */
  readonly databaseName?: string;
  /**
   * The database's `max_connections` (pinned on a created instance; give your value for an imported one).
   * @default 60
   */
  readonly maxConnections?: number;
  /**
   * The proxy's share of `max_connections`, in percent.
   * @default 90
   */
  readonly maxConnectionsPercent?: number;
  /**
   * Connections counted per handler on top of its shards, for environments Lambda has not reclaimed yet.
   * @default 1
   */
  readonly reclaimAllowance?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** SNS topic that every alarm notifies. @default no alarm actions */
  readonly alarmTopicArn?: string;
}

export const WARREN_STACK_DEFAULTS = {
  maxConnections: 60,
  maxConnectionsPercent: 90,
  reclaimAllowance: 1,
  /** Proxy client connections alarm at this share of the connection budget. */
  clientConnectionsAlarmRatio: 0.8,
} as const;

function wholeNumber(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`WarrenStack: ${name} must be a whole number from ${min} to ${max}, received ${value}`);
  }
  return value;
}

export class WarrenStack extends Stack {
  public readonly budget: ConnectionBudget;
  public readonly network: WarrenNetwork;
  public readonly broker: WarrenBroker;
  public readonly database: WarrenDatabase;
  public readonly topology: WarrenTopology;
  public readonly handlers: WarrenHandler[];
  /** Present when a handler declares `publishes`. */
  public readonly outboxRelay?: WarrenOutboxRelay;
  public readonly alarms: cloudwatch.Alarm[] = [];

  public constructor(scope: Construct, id: string, props: WarrenStackProps) {
    super(scope, id, props);

    // 1. Validation first: the connection budget must fit the proxy's share of max_connections.
    const maxConnections = wholeNumber('maxConnections', props.maxConnections ?? WARREN_STACK_DEFAULTS.maxConnections, 10, 100_000);
    const maxConnectionsPercent = wholeNumber('maxConnectionsPercent', props.maxConnectionsPercent ?? WARREN_STACK_DEFAULTS.maxConnectionsPercent, 1, 100);
    const reclaimAllowance = wholeNumber('reclaimAllowance', props.reclaimAllowance ?? WARREN_STACK_DEFAULTS.reclaimAllowance, 0, 100);
    const publishers = props.config.handlers.filter((h) => h.publishes.length > 0);
    this.budget = checkConnectionBudget(props.config.handlers, {
      maxConnections, maxConnectionsPercent, reclaimAllowance,
      extra: publishers.length === 0 ? [] : [{ name: 'outbox relay', connections: WARREN_RELAY_DEFAULTS.connections }],
    });

    // 2. Network, broker, database behind RDS Proxy.
    this.network = new WarrenNetwork(this, 'Network', {
      ...(props.network === undefined ? {} : { existing: props.network }),
      ...(props.natGateways === undefined ? {} : { natGateways: props.natGateways }),
    });
    const { vpc, privateSubnets: subnets } = this.network;
    this.broker = new WarrenBroker(this, 'Broker', {
      vpc,
      subnets,
      ...(props.broker === undefined ? {} : { existing: props.broker }),
      ...(props.brokerInstanceType === undefined ? {} : { instanceType: props.brokerInstanceType }),
      ...(props.brokerEngineVersion === undefined ? {} : { engineVersion: props.brokerEngineVersion }),
    });
    this.database = new WarrenDatabase(this, 'Database', {
      vpc,
      subnets,
      maxConnections,
      maxConnectionsPercent,
      ...(props.database === undefined ? {} : { existing: props.database }),
      ...(props.databaseInstanceType === undefined ? {} : { instanceType: props.databaseInstanceType }),
      ...(props.databaseMultiAz === undefined ? {} : { multiAz: props.databaseMultiAz }),
      ...(props.databaseUser === undefined ? {} : { user: props.databaseUser }),
      ...(props.databaseName === undefined ? {} : { databaseName: props.databaseName }),
    });

    // 3. Topology (exchange + shard queues) declared by a custom resource, before any trigger.
    this.topology = new WarrenTopology(this, 'Topology', {
      projectRoot: props.projectRoot,
      handlers: props.config.handlers,
      broker: this.broker,
      vpc,
      subnets,
      ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
    });

    // 4. One function + DLQ + N triggers + alarms per handler.
    this.handlers = props.config.handlers.map((handler) => new WarrenHandler(this, `Handler-${handler.name}`, {
      projectRoot: props.projectRoot,
      handler,
      vpc,
      subnets,
      broker: this.broker,
      database: this.database,
      topology: this.topology.resource,
      ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
    }));

    // 5. The outbox relay, when a handler publishes.
    if (publishers.length > 0) {
      this.outboxRelay = new WarrenOutboxRelay(this, 'OutboxRelay', {
        projectRoot: props.projectRoot,
        handlers: publishers,
        vpc,
        subnets,
        broker: this.broker,
        database: this.database,
        ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
      });
    }

    // 6. Proxy alarms: client connections near the budget, any pinned session.
    const proxyMetric = (metricName: string) => new cloudwatch.Metric({
      namespace: 'AWS/RDS',
      metricName,
      dimensionsMap: { ProxyName: this.database.proxy.dbProxyName },
      statistic: 'Maximum',
      period: Duration.minutes(1),
    });
    this.alarms.push(
      proxyMetric('ClientConnections').createAlarm(this, 'ProxyClientConnectionsNearBudget', {
        alarmDescription: `RDS Proxy client connections above ${WARREN_STACK_DEFAULTS.clientConnectionsAlarmRatio * 100}% of the connection budget (${this.budget.limit})`,
        threshold: Math.floor(this.budget.limit * WARREN_STACK_DEFAULTS.clientConnectionsAlarmRatio),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      proxyMetric('DatabaseConnectionsCurrentlySessionPinned').createAlarm(this, 'ProxySessionsPinned', {
        alarmDescription: 'RDS Proxy sessions are pinned (prepared statements, user variables, temporary tables, GET_LOCK, statements over 16 KB): each pins a database connection',
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    // 7. Alarm actions, when a topic is given.
    if (props.alarmTopicArn !== undefined) {
      const action = new actions.SnsAction(sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn));
      for (const alarm of [...this.alarms, ...this.handlers.flatMap((h) => h.alarms)]) alarm.addAlarmAction(action);
    }
  }
}
