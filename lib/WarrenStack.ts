/**
 * The Warren stack, read top to bottom: connection budget, network, one security group for every Warren function,
 * broker, database + proxy, migrations and topology (custom resources), the handlers in nested stacks of
 * `handlersPerStack`, the outbox relay (when a handler publishes), the pruning function, the broker monitor, alarms and
 * outputs.
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
import { StaleLockError, wholeNumber } from './errors.js';
import { concurrencyNeed, concurrencyNotice, WarrenAccountConcurrency } from './WarrenAccountConcurrency.js';
import { WarrenBroker, type BrokerDeploymentMode, type ExistingBroker } from './WarrenBroker.js';
import { WarrenBrokerMonitor } from './WarrenBrokerMonitor.js';
import { WarrenBrokerUser } from './WarrenBrokerUser.js';
import { WarrenDatabase, type DatabaseStage, type ExistingDatabase } from './WarrenDatabase.js';
import type { WarrenHandler } from './WarrenHandler.js';
import { handlerRange, WarrenHandlerGroup } from './WarrenHandlerGroup.js';
import { WarrenMigrations } from './WarrenMigrations.js';
import { WarrenNetwork, type ExistingNetwork } from './WarrenNetwork.js';
import { WARREN_RELAY_DEFAULTS, WarrenOutboxRelay } from './WarrenOutboxRelay.js';
import { WARREN_PRUNER_DEFAULTS, WarrenPruner } from './WarrenPruner.js';
import { WarrenTopology } from './WarrenTopology.js';
import { WarrenTriggerTeardown } from './WarrenTriggerTeardown.js';
import { checkCreateOnly, pinnedSettings, recordCreateOnly } from './createOnlyGuard.js';
import { emptyLock, placeHandlers, WARREN_LOCK_FILE, type LockMode, type WarrenLock } from './warrenLock.js';

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
  /** Storage autoscaling ceiling of a created database instance, in GiB (RDS `MaxAllocatedStorage`). @default 100 */
  readonly databaseMaxAllocatedStorage?: number;
  /**
   * `development`: a failed first deploy and `cdk destroy` leave nothing behind, the database included.
   * `production`: the database instance outlives the stack and replacements (a failed first deploy still removes it).
   * @default 'development'
   */
  readonly stage?: DatabaseStage;
  /** RDS deletion protection on the created instance; turn on once the stack exists (see docs/deploy-to-aws.md). @default false */
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
   * How many handlers a NEW handler may join in a nested stack (each handler is about 9 resources + 2 per shard;
   * CloudFormation allows 500 per stack). Handlers already placed (`lock`) never move when this changes.
   * @default 25
   */
  readonly handlersPerStack?: number;
  /**
   * This stack's entry of the committed `warren.lock.json` (lib/warrenLock.ts): the nested stack of each handler and
   * the create-only settings of the broker, database and proxy. The stack keeps both and refuses a change that would
   * replace a stateful resource; `lock` on the stack is the record to write back.
   * @default an empty record (a first synth)
   */
  readonly lock?: WarrenLock;
  /** `locked` (CI): a handler or resource the record lacks fails synth (`StaleLockError`). @default 'write' */
  readonly lockMode?: LockMode;
  /** The record's file name, for messages. @default 'warren.lock.json' */
  readonly lockFile?: string;
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
  /**
   * A new handler joins a nested stack only while its estimated resources stay within this (of CloudFormation's 500):
   * the rest is room for the stack's own resources and for raising the concurrency of handlers placed there.
   */
  handlerStackResourceBudget: 400,
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
  /** Deletes old inbox and sent outbox rows every hour (runner.inboxRetentionDays). */
  public readonly pruner: WarrenPruner;
  public readonly brokerMonitor: WarrenBrokerMonitor;
  public readonly alarms: cloudwatch.Alarm[] = [];
  /** The record to commit: the handlers' nested stacks and the stateful resources' create-only properties. */
  public readonly lock: WarrenLock;
  /** What this synth added to the record (handlers placed, resources pinned); empty when nothing changed. */
  public readonly lockAdded: string[];
  public readonly lockMode: LockMode;

  public constructor(scope: Construct, id: string, props: WarrenStackProps) {
    super(scope, id, props);
    const handlers = props.config.handlers;
    const previous = props.lock ?? emptyLock();
    const lockFile = props.lockFile ?? WARREN_LOCK_FILE;
    // Settings a deployed stack recorded and this synth does not set: the recorded value, not today's default.
    const pinned = pinnedSettings(previous);
    const settings = {
      brokerEngineVersion: props.brokerEngineVersion ?? pinned.brokerEngineVersion,
      brokerDeploymentMode: props.brokerDeploymentMode ?? pinned.brokerDeploymentMode,
      databaseUser: props.databaseUser ?? pinned.databaseUser,
      databaseName: props.databaseName ?? pinned.databaseName,
    };

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
        { name: 'pruning', connections: WARREN_PRUNER_DEFAULTS.connections },
      ],
    });
    if (this.budget.clients > this.budget.databaseConnections) {
      Annotations.of(this).addInfo(`Warren: ${this.budget.clients} client connections share ${this.budget.databaseConnections} database connections through RDS Proxy (x${this.budget.multiplexing}); a transaction waits for a free one up to the borrow timeout (120 s). Alarms watch borrow latency and pinning.`);
    }

    // The account must run every trigger at once: printed at synth, checked first thing at deploy (below); the need
    // counts the nested stacks' custom resources, so it is read once the handlers are placed (step 6).
    const need = () => concurrencyNeed(handlers, this.handlerGroups.length);
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
      ...(settings.brokerEngineVersion === undefined ? {} : { engineVersion: settings.brokerEngineVersion }),
      ...(settings.brokerDeploymentMode === undefined ? {} : { deploymentMode: settings.brokerDeploymentMode }),
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
      ...(props.databaseMaxAllocatedStorage === undefined ? {} : { maxAllocatedStorage: props.databaseMaxAllocatedStorage }),
      ...(props.stage === undefined ? {} : { stage: props.stage }),
      ...(props.databaseDeletionProtection === undefined ? {} : { deletionProtection: props.databaseDeletionProtection }),
      ...(settings.databaseUser === undefined ? {} : { user: settings.databaseUser }),
      ...(settings.databaseName === undefined ? {} : { databaseName: settings.databaseName }),
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

    // 6. Handlers, each in the nested stack the record gives it (a new one: the first with room). Never by position:
    // a handler's resources keep their template and logical ids whatever is added, removed or reordered around it.
    const placement = placeHandlers(handlers, previous.handlers, {
      handlersPerStack,
      resourceBudget: WARREN_STACK_DEFAULTS.handlerStackResourceBudget,
      cost: (h) => 9 + 2 * h.concurrency,
    });
    const placedNew = handlers.filter((h) => previous.handlers[h.name] === undefined).map((h) => `handler ${h.name} (${placement[h.name] ?? ''})`);
    const dependsOn = [this.topology.resource, this.brokerUser.resource, this.migrations.resource];
    const teardown = new WarrenTriggerTeardown(this, 'TriggerTeardown', { projectRoot: props.projectRoot, vpc, ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }) });
    const stackIds = [...new Set(Object.values(placement))].sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)));
    this.handlerGroups = stackIds.map((stackId) => new WarrenHandlerGroup(this, stackId, {
      ...shared, handlers: handlers.filter((h) => placement[h.name] === stackId), broker: this.broker, brokerAppSecret: this.brokerUser.secret, database: this.database, dependsOn, teardown,
      shardDrainServiceToken: this.topology.drainServiceToken, appUser: this.brokerUser.username,
    }));
    this.handlers = this.handlerGroups.flatMap((g) => g.handlers);
    Annotations.of(this).addInfo(concurrencyNotice(need()));

    // 7. The outbox relay, when a handler publishes; the pruning of old inbox and outbox rows; the broker monitor (dead letters the broker gave up on, consumers).
    if (publishers.length > 0) {
      this.outboxRelay = new WarrenOutboxRelay(this, 'OutboxRelay', { ...shared, handlers: publishers, broker: this.broker, brokerAppSecret: this.brokerUser.secret, database: this.database });
    }
    this.pruner = new WarrenPruner(this, 'Pruner', { ...shared, retentionDays: props.config.runner.inboxRetentionDays, database: this.database });
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

    // The disk of a created instance: storage autoscaling grows it (up to warren:databaseMaxAllocatedStorage, at most
    // once every 6 hours); the alarm says when it did not and the disk is about to fill.
    if (this.database.instance !== undefined) this.alarms.push(this.database.freeStorageAlarm());

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
      value: this.handlerGroups.map((g) => `${g.node.id}: ${handlerRange(g.handlers.map((h) => h.node.id.replace(/^Handler-/, '')))}`).join('; ').slice(0, 4000),
      description: `Which nested stack holds each handler (all of them: ${lockFile}); its outputs list the handlers' DLQ URLs`,
    });

    // 11. The record: refuse a change that would replace the broker, the database or the proxy; in CI, refuse a
    // record that lacks an entry (a placement or pin that is not committed would be made again by the next synth).
    const createOnly = recordCreateOnly(this, {
      Broker: this.broker.node.tryFindChild('Broker'),
      BrokerConfiguration: this.broker.node.tryFindChild('Configuration'),
      DatabaseInstance: this.database.instance,
      DatabaseProxy: this.database.proxy,
    });
    checkCreateOnly(previous.createOnly, createOnly);
    const pinnedNew = Object.keys(createOnly).filter((r) => !(r in previous.createOnly)).map((r) => `create-only settings of ${r}`);
    this.lock = { handlers: placement, createOnly };
    this.lockAdded = [...placedNew, ...pinnedNew];
    this.lockMode = props.lockMode ?? 'write';
    if (this.lockAdded.length > 0) {
      if (this.lockMode === 'locked') throw new StaleLockError(lockFile, this.lockAdded);
      // Only when the record is a file (bin/warren.ts writes it); a stack built in code keeps `lock` itself.
      if (props.lockFile !== undefined) Annotations.of(this).addWarningV2('warren:lockChanged', `Warren: ${lockFile} gains ${this.lockAdded.length} entr${this.lockAdded.length === 1 ? 'y' : 'ies'} (${this.lockAdded.slice(0, 5).join(', ')}${this.lockAdded.length > 5 ? ', ...' : ''}); commit ${lockFile} with this change, or the next synth elsewhere may place handlers differently.`);
    }
  }
}
