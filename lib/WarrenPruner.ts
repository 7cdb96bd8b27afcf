/**
 * The scheduled pruning of Warren's tables on AWS: a function (`lib/functions/pruneFunction.ts`) that an EventBridge
 * rule runs every hour. It deletes `warren_inbox` rows and sent `warren_outbox` rows older than the config's
 * `runner.inboxRetentionDays` (the retention the local runner uses), in bounded batches, within its timeout. Without
 * it the tables only grow: at 50 msg/s, over 4 million inbox rows a day.
 *
 * Connects as the application user (DML: DELETE, and SELECT for the WHERE columns) through RDS Proxy with IAM, like
 * the outbox relay. No reserved concurrency (see WarrenOutboxRelay.ts); runs do not overlap (timeout 5 min, schedule
 * 1 hour, no async retries), and if they did, two DELETE ... LIMIT loops would only share the work.
 */
import { Duration } from 'aws-cdk-lib';
import { ownFunctionEntry } from './ownFunctions.js';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV } from '../runtime/env.js';
import type { WarrenDatabase } from './WarrenDatabase.js';
import { WarrenFunction } from './WarrenFunction.js';

export interface WarrenPrunerProps {
  readonly projectRoot: string;
  /** Rows older than this many days go (the config's `runner.inboxRetentionDays`). */
  readonly retentionDays: number;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** The security group every Warren function shares. */
  readonly securityGroup: ec2.ISecurityGroup;
  readonly database: WarrenDatabase;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default Duration.hours(1) */
  readonly schedule?: Duration;
}

export const WARREN_PRUNER_DEFAULTS = {
  schedule: Duration.hours(1),
  timeout: Duration.minutes(5),
  /** Client connections the pruner is counted for in the connection budget (one run at a time). */
  connections: 1,
} as const;

export class WarrenPruner extends Construct {
  public readonly function: WarrenFunction;
  public readonly rule: events.Rule;

  public constructor(scope: Construct, id: string, props: WarrenPrunerProps) {
    super(scope, id);
    this.function = new WarrenFunction(this, 'Function', {
      projectRoot: props.projectRoot,
      entry: ownFunctionEntry('pruneFunction'),
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [props.securityGroup],
      timeout: WARREN_PRUNER_DEFAULTS.timeout,
      description: 'Warren pruning: deletes old inbox and sent outbox rows in batches',
      environment: {
        [ENV.handler]: 'prune',
        [ENV.pruneRetentionDays]: String(props.retentionDays),
        ...props.database.environment(),
      },
      ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
    });
    // A failed run is not retried by Lambda's async invocation (the next scheduled run is the retry).
    this.function.configureAsyncInvoke({ retryAttempts: 0 });
    props.database.grantConnect(this.function);
    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Runs the Warren pruning function',
      schedule: events.Schedule.rate(props.schedule ?? WARREN_PRUNER_DEFAULTS.schedule),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 0 })],
    });
  }
}
