/**
 * The scheduled outbox relay: a function (`runtime/relayFunction.ts`) that an EventBridge rule runs every minute, with
 * reserved concurrency 1, so it holds at most one database connection (counted in the connection budget). It
 * publishes outbox rows their handler's environments left behind, for handlers whose queues went quiet since.
 * Created only when a handler declares `publishes`.
 */
import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ResolvedHandlerConfig } from '../runtime/config.js';
import type { WarrenBroker } from './WarrenBroker.js';
import type { WarrenDatabase } from './WarrenDatabase.js';
import { WarrenFunction } from './WarrenFunction.js';

export interface WarrenOutboxRelayProps {
  readonly projectRoot: string;
  /** The handlers that publish (their names and vhosts go to the relay). */
  readonly handlers: readonly ResolvedHandlerConfig[];
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly broker: WarrenBroker;
  readonly database: WarrenDatabase;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default Duration.minutes(1) */
  readonly schedule?: Duration;
}

export const WARREN_RELAY_DEFAULTS = {
  schedule: Duration.minutes(1),
  timeout: Duration.seconds(50),
  /** Database connections the relay may hold (reserved concurrency). */
  connections: 1,
} as const;

export class WarrenOutboxRelay extends Construct {
  public readonly function: WarrenFunction;
  public readonly rule: events.Rule;

  public constructor(scope: Construct, id: string, props: WarrenOutboxRelayProps) {
    super(scope, id);
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', { vpc: props.vpc, description: 'Warren outbox relay', allowAllOutbound: true });
    this.function = new WarrenFunction(this, 'Function', {
      projectRoot: props.projectRoot,
      entry: 'runtime/relayFunction.ts',
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [securityGroup],
      timeout: WARREN_RELAY_DEFAULTS.timeout,
      description: 'Warren outbox relay: publishes outbox rows left behind',
      environment: {
        WARREN_HANDLER: 'outbox-relay',
        WARREN_RELAY_HANDLERS: JSON.stringify(props.handlers.map((h) => ({ name: h.name, vhost: h.vhost }))),
        WARREN_AMQP_ENDPOINT: props.broker.amqpsEndpoint,
        WARREN_AMQP_SECRET_ARN: props.broker.secret.secretArn,
        ...props.database.environment(),
      },
      ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
    });
    // One relay at a time: one database connection, and rows are never published by two relays at once.
    (this.function.node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions = WARREN_RELAY_DEFAULTS.connections;
    props.database.allowFunction(this.function);
    props.broker.secret.grantRead(this.function);
    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Runs the Warren outbox relay',
      schedule: events.Schedule.rate(props.schedule ?? WARREN_RELAY_DEFAULTS.schedule),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 0 })],
    });
  }
}
