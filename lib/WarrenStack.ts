/**
 * The Warren stack, read top to bottom: connection budget, network, one security group for every Warren function,
 * broker, database + proxy, migrations and topology (custom resources), the handlers in nested stacks of
 * `handlersPerStack`, the outbox relay (when a handler publishes), the broker monitor, alarms and outputs.
 * Env-agnostic and lookup-free, so `cdk synth` needs no AWS account.
 */
import { Annotations, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { usesOutbox, type ResolvedConfig } from '../config/config.js';
import { checkConnectionBudget, type ConnectionBudget, type ConnectionBudgetMode } from './connectionBudget.js';
import { wholeNumber } from './errors.js';
import { concurrencyNeed, concurrencyNotice, WarrenAccountConcurrency } from './WarrenAccountConcurrency.js';
import { WarrenBroker, type BrokerDeploymentMode, type ExistingBroker } from './WarrenBroker.js';
import { WarrenBrokerMonitor } from './WarrenBrokerMonitor.js';
import { WarrenBrokerUser } from './WarrenBrokerUser.js';
import { WarrenDatabase, type DatabaseStage, type ExistingDatabase } from './WarrenDatabase.js';
import type { WarrenHandler } from './WarrenHandler.js';
import { chunk, handlerRange, WarrenHandlerGroup } from './WarrenHandlerGroup.js';
import { WarrenMigrations } from './WarrenMigrations.js';
import { WarrenNetwork, type ExistingNetwork } from './WarrenNetwork.js';
import { WARREN_RELAY_DEFAULTS, WarrenOutboxRelay } from './WarrenOutboxRelay.js';
import { WarrenTopology } from './WarrenTopology.js';
import { WarrenTriggerTeardown } from './WarrenTriggerTeardown.js';

export interface WarrenStackProps extends StackProps {
  /** The resolved `warren.config.ts` (the same file the local runner reads). */
  readonly config: ResolvedConfig;
  /** Directory that handler entries and migrations are relative to. */
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
  /** @default 'SINGLE_INSTANCE' */
  readonly brokerDeploymentMode?: BrokerDeploymentMode;
  /** Weekly maintenance window start, UTC. @default { dayOfWeek: 'SUNDAY', timeOfDay: '03:00' } */
  readonly brokerMaintenanceWindow?: { readonly dayOfWeek: string; readonly timeOfDay: string };
  /** @default a new RDS MySQL 8.4 instance */
  readonly database?: ExistingDatabase;
  /** @default 't4g.micro' */
  readonly databaseInstanceType?: string;
  /** @default false */
  readonly databaseMultiAz?: boolean;
  /** Storage of a created database instance, in GiB (gp3). @default 20 */
  readonly databaseAllocatedStorage?: number;
  /**
   * `development`: a failed first deploy and `cdk destroy` leave nothing behind, the database included.
   * `production`: the database instance outlives the stack and replacements (a failed first deploy still removes it).
   * @default 'development'
   */
  readonly stage?: DatabaseStage;
  /** RDS deletion protection on the created instance; turn on once the stack exists (see README). @default false */
  readonly databaseDeletionProtection?: boolean;
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
   * Client connections counted per handler on top of its shards, for environments Lambda has not reclaimed yet.
   * @default 1
   */
  readonly reclaimAllowance?: number;
  /**
   * `multiplexed`: client connections may exceed the proxy's database connections (RDS Proxy multiplexes them at
   * transaction boundaries); `strict`: synth fails unless every client can hold a database connection at once.
   * @default 'multiplexed'
   */
  readonly connectionBudget?: ConnectionBudgetMode;
  /**
   * Handlers per nested stack (each handler is 8 resources + 1 per shard; CloudFormation allows 500 per stack).
   * @default 25
   */
  readonly handlersPerStack?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** SNS topic that every alarm notifies. @default no alarm actions */
  readonly alarmTopicArn?: string;
}

export const WARREN_STACK_DEFAULTS = {
  maxConnections: 60,
  maxConnectionsPercent: 90,
  reclaimAllowance: 1,
  connectionBudget: 'multiplexed',
  handlersPerStack: 25,
  /** Alarm when the proxy's average borrow latency stays above this (microseconds, as RDS Proxy reports it). */
  borrowLatencyAlarmMicros: 1_000_000,
  /**
   * Alarm on pinned proxy sessions only when some stay pinned this many minutes in a row: the migrations custom
   * resource pins its session while a deploy's migration runs (at most its function's 10-minute timeout), a handler
   * that pins does so on every batch, all day.
   */
  pinnedSessionsAlarmMinutes: 15,
} as const;

export class WarrenStack extends Stack {
  public readonly budget: ConnectionBudget;
  /** The deploy-time check that the account's Lambda concurrency can run every trigger (before the broker and database). */
  public readonly accountConcurrency: WarrenAccountConcurrency;
  public readonly network: WarrenNetwork;
  /** One security group for every Warren function: the broker admits it on 5671 (and 443), the proxy on 3306. */
  public readonly functionsSecurityGroup: ec2.SecurityGroup;
  public readonly broker: WarrenBroker;
  public readonly database: WarrenDatabase;
  public readonly migrations: WarrenMigrations;
  public readonly topology: WarrenTopology;
  /** The application broker user (triggers, `ctx.publish`, relay); the administrator stays with the custom resources and the monitor. */
  public readonly brokerUser: WarrenBrokerUser;
  public readonly handlerGroups: WarrenHandlerGroup[];
  public readonly handlers: WarrenHandler[];
  /** Present when a handler declares `publishes`. */
  public readonly outboxRelay?: WarrenOutboxRelay;
  public readonly brokerMonitor: WarrenBrokerMonitor;
  public readonly alarms: cloudwatch.Alarm[] = [];

  public constructor(scope: Construct, id: string, props: WarrenStackProps) {
    super(scope, id, props);
    const handlers = props.config.handlers;

    // 1. Validation first: the connection budget (clients against the proxy, database connections against MySQL).
    const maxConnections = wholeNumber('warren:maxConnections', props.maxConnections ?? WARREN_STACK_DEFAULTS.maxConnections, 10, 100_000);
    const maxConnectionsPercent = wholeNumber('warren:maxConnectionsPercent', props.maxConnectionsPercent ?? WARREN_STACK_DEFAULTS.maxConnectionsPercent, 1, 100);
    const reclaimAllowance = wholeNumber('warren:reclaimAllowance', props.reclaimAllowance ?? WARREN_STACK_DEFAULTS.reclaimAllowance, 0, 100);
    const handlersPerStack = wholeNumber('warren:handlersPerStack', props.handlersPerStack ?? WARREN_STACK_DEFAULTS.handlersPerStack, 1, 40);
    const publishers = handlers.filter((h) => usesOutbox(h));
    this.budget = checkConnectionBudget(handlers, {
      maxConnections, maxConnectionsPercent, reclaimAllowance,
      mode: props.connectionBudget ?? WARREN_STACK_DEFAULTS.connectionBudget,
      extra: [
        ...(publishers.length === 0 ? [] : [{ name: 'outbox relay', connections: WARREN_RELAY_DEFAULTS.connections }]),
        { name: 'migrations', connections: 1 },
      ],
    });
    if (this.budget.clients > this.budget.databaseConnections) {
      Annotations.of(this).addInfo(`Warren: ${this.budget.clients} client connections share ${this.budget.databaseConnections} database connections through RDS Proxy (x${this.budget.multiplexing}); a transaction waits for a free one up to the borrow timeout (120 s). Alarms watch borrow latency and pinning.`);
    }

    // The account must run every trigger at once: printed at synth, checked first thing at deploy (below).
    const need = concurrencyNeed(handlers);
    Annotations.of(this).addInfo(concurrencyNotice(need));
    this.accountConcurrency = new WarrenAccountConcurrency(this, 'AccountConcurrency', {
      projectRoot: props.projectRoot, need, ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
    });

    // 2. Network; one security group for every Warren function.
    this.network = new WarrenNetwork(this, 'Network', {
      ...(props.network === undefined ? {} : { existing: props.network }),
      ...(props.natGateways === undefined ? {} : { natGateways: props.natGateways }),
    });
    const { vpc, privateSubnets: subnets } = this.network;
    this.functionsSecurityGroup = new ec2.SecurityGroup(this, 'FunctionsSecurityGroup', { vpc, description: 'Warren functions (handlers, outbox relay, custom resources, broker monitor)', allowAllOutbound: true });

    // 3. Broker: admits AMQPS (ctx.publish, relay, topology, monitor) and HTTPS (management API: vhosts) from the functions.
    this.broker = new WarrenBroker(this, 'Broker', {
      vpc,
      subnets,
      ...(props.broker === undefined ? {} : { existing: props.broker }),
      ...(props.brokerInstanceType === undefined ? {} : { instanceType: props.brokerInstanceType }),
      ...(props.brokerEngineVersion === undefined ? {} : { engineVersion: props.brokerEngineVersion }),
      ...(props.brokerDeploymentMode === undefined ? {} : { deploymentMode: props.brokerDeploymentMode }),
      ...(props.brokerMaintenanceWindow === undefined ? {} : { maintenanceWindow: props.brokerMaintenanceWindow }),
    });
    // A refused account fails the deploy before the broker (15-20 minutes to create) and the database are started.
    this.broker.node.addDependency(this.accountConcurrency.resource);
    this.broker.allowAmqpsFrom(this.functionsSecurityGroup, 'Warren functions (AMQPS)');
    this.broker.allowHttpsFrom(this.functionsSecurityGroup, 'Warren topology custom resource (management API)');

    // 4. Database behind RDS Proxy; the functions reach the proxy.
    this.database = new WarrenDatabase(this, 'Database', {
      vpc,
      subnets,
      maxConnections,
      maxConnectionsPercent,
      ...(props.database === undefined ? {} : { existing: props.database }),
      ...(props.databaseInstanceType === undefined ? {} : { instanceType: props.databaseInstanceType }),
      ...(props.databaseMultiAz === undefined ? {} : { multiAz: props.databaseMultiAz }),
      ...(props.databaseAllocatedStorage === undefined ? {} : { allocatedStorage: props.databaseAllocatedStorage }),
      ...(props.stage === undefined ? {} : { stage: props.stage }),
      ...(props.databaseDeletionProtection === undefined ? {} : { deletionProtection: props.databaseDeletionProtection }),
      ...(props.databaseUser === undefined ? {} : { user: props.databaseUser }),
      ...(props.databaseName === undefined ? {} : { databaseName: props.databaseName }),
      ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
    });
    this.database.node.addDependency(this.accountConcurrency.resource);
    this.database.allowFrom(this.functionsSecurityGroup, 'Warren functions');

    // 5. Migrations and topology (custom resources), before any trigger polls.
    const shared = {
      projectRoot: props.projectRoot,
      vpc,
      subnets,
      securityGroup: this.functionsSecurityGroup,
      ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
    };
    // Always: besides the config's SQL files, the migrations resource creates Warren's tables and the application DB user.
    this.migrations = new WarrenMigrations(this, 'Migrations', { ...shared, files: props.config.migrations, database: this.database });
    this.topology = new WarrenTopology(this, 'Topology', { ...shared, handlers, broker: this.broker });
    this.brokerUser = new WarrenBrokerUser(this, 'BrokerUser', { ...shared, handlers, broker: this.broker, dependsOn: [this.topology.resource] });

    // 6. Handlers, in nested stacks of `handlersPerStack`.
    const dependsOn = [this.topology.resource, this.brokerUser.resource, this.migrations.resource];
    const teardown = new WarrenTriggerTeardown(this, 'TriggerTeardown', { projectRoot: props.projectRoot, vpc, ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }) });
    this.handlerGroups = chunk(handlers, handlersPerStack).map((group, i) => new WarrenHandlerGroup(this, `Handlers${i + 1}`, {
      ...shared, handlers: group, broker: this.broker, brokerAppSecret: this.brokerUser.secret, database: this.database, dependsOn, teardown,
      shardDrainServiceToken: this.topology.serviceToken,
    }));
    this.handlers = this.handlerGroups.flatMap((g) => g.handlers);

    // 7. The outbox relay, when a handler publishes; the broker monitor (dead letters the broker gave up on, consumers).
    if (publishers.length > 0) {
      this.outboxRelay = new WarrenOutboxRelay(this, 'OutboxRelay', { ...shared, handlers: publishers, broker: this.broker, brokerAppSecret: this.brokerUser.secret, database: this.database });
    }
    this.brokerMonitor = new WarrenBrokerMonitor(this, 'BrokerMonitor', { ...shared, handlers, broker: this.broker });
    this.alarms.push(...this.brokerMonitor.alarms);

    // 8. Alarms: consumers on the broker, proxy borrow latency and pinning.
    const shards = handlers.reduce((sum, h) => sum + h.concurrency, 0);
    this.alarms.push(
      // Amazon MQ vends no per-queue metrics on RabbitMQ 4 (Amazon MQ developer guide, "Available CloudWatch metrics
      // for Amazon MQ for RabbitMQ brokers"); the broker-wide ConsumerCount below the number of triggers means a
      // trigger stopped consuming (the broker monitor names the shard).
      new cloudwatch.Metric({
        // Maximum: every 5 minutes of 15 below the count, so the minutes before the pollers first connect (a fresh
        // deploy) or a poller's reconnect do not alarm.
        namespace: 'AWS/AmazonMQ', metricName: 'ConsumerCount', dimensionsMap: { Broker: this.broker.brokerName }, statistic: 'Maximum', period: Duration.minutes(5),
      }).createAlarm(this, 'BrokerConsumersMissing', {
        alarmDescription: `Fewer consumers on the broker than the ${shards} Warren triggers for 15 minutes: a trigger is disabled or failing; the broker monitor's ShardsWithoutConsumer names it, see its StateTransitionReason (aws lambda get-event-source-mapping)`,
        threshold: shards,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 3,
        // Not breaching: a fresh broker reports nothing until it runs (the alarm would start in ALARM); a broker that
        // stops answering fails the broker monitor, whose MonitorFailing alarm reports it.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
    // RDS Proxy metrics (RDS User Guide, "Monitoring RDS Proxy metrics with Amazon CloudWatch").
    const proxyMetric = (metricName: string, statistic: string) => new cloudwatch.Metric({
      namespace: 'AWS/RDS', metricName, dimensionsMap: { ProxyName: this.database.proxy.dbProxyName }, statistic, period: Duration.minutes(1),
    });
    this.alarms.push(
      proxyMetric('DatabaseConnectionsBorrowLatency', 'Average').createAlarm(this, 'ProxyBorrowLatencyHigh', {
        alarmDescription: `RDS Proxy takes over ${WARREN_STACK_DEFAULTS.borrowLatencyAlarmMicros / 1_000_000} s to lend a database connection: ${this.budget.clients} clients share ${this.budget.databaseConnections} database connections; raise max_connections or lower concurrency`,
        threshold: WARREN_STACK_DEFAULTS.borrowLatencyAlarmMicros,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      proxyMetric('DatabaseConnectionsCurrentlySessionPinned', 'Maximum').createAlarm(this, 'ProxySessionsPinned', {
        alarmDescription: `RDS Proxy sessions stayed pinned for ${WARREN_STACK_DEFAULTS.pinnedSessionsAlarmMinutes} minutes (prepared statements, user variables, temporary tables, GET_LOCK, statements over 16 KB): each pins a database connection and defeats multiplexing`,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: WARREN_STACK_DEFAULTS.pinnedSessionsAlarmMinutes,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    // 9. Alarm actions, when a topic is given.
    if (props.alarmTopicArn !== undefined) {
      const action = new actions.SnsAction(sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn));
      for (const alarm of [...this.alarms, ...this.handlers.flatMap((h) => h.alarms)]) alarm.addAlarmAction(action);
    }

    // 10. Outputs (each handler's DLQ URL is an output of its nested stack: CloudFormation allows 200 per template).
    new CfnOutput(this, 'BrokerAmqpsEndpoint', { value: this.broker.amqpsEndpoint, description: 'AMQPS endpoint of the broker' });
    new CfnOutput(this, 'BrokerConsoleUrl', { value: this.broker.consoleUrl, description: 'RabbitMQ web console (and management API) of the broker' });
    new CfnOutput(this, 'BrokerSecretArn', { value: this.broker.secret.secretArn, description: 'Secrets Manager secret of the broker administrator ({"username", "password"})' });
    new CfnOutput(this, 'BrokerAppSecretArn', { value: this.brokerUser.secret.secretArn, description: 'Secrets Manager secret of the broker application user (triggers, ctx.publish, relay)' });
    new CfnOutput(this, 'ProxyEndpoint', { value: this.database.proxy.endpoint, description: 'RDS Proxy endpoint (IAM auth, TLS)' });
    new CfnOutput(this, 'HandlerStacks', {
      // First and last handler per group (groups keep the config's order), not every name: bounded whatever the count.
      value: this.handlerGroups.map((g, i) => `Handlers${i + 1}: ${handlerRange(g.handlers.map((h) => h.node.id.replace(/^Handler-/, '')))}`).join('; ').slice(0, 4000),
      description: 'Which nested stack holds each handler; its outputs list the handlers\' DLQ URLs',
    });
  }
}
