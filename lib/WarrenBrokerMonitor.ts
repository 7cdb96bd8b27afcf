/**
 * The broker monitor: one scheduled function for the whole stack (lib/functions/brokerMonitor.ts) that reads each handler's
 * `<queue>.dlq` depth and each shard's consumers from the broker every 5 minutes and writes them as EMF metrics
 * (namespace `Warren`, dimension `Stack`: two stacks in one region keep apart), with three alarms: the broker
 * dead-lettered a message, a shard has no consumer, and the monitor itself fails. The first two treat missing data as
 * not breaching, so a fresh deploy, whose monitor has not run yet, starts in OK rather than ALARM; a monitor that cannot
 * reach the broker fails its run and the third alarm (the function's Errors) reports it.
 */
import { Aws, Duration } from 'aws-cdk-lib';
import { ownFunctionEntry } from './ownFunctions.js';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { BROKER_MONITOR_NAMESPACE, type MonitoredHandler } from './functions/brokerMonitor.js';
import { ENV } from '../runtime/env.js';
import { brokerAdminFunction, type BrokerAdminFunctionProps } from './brokerAdminFunction.js';
import type { WarrenFunction } from './WarrenFunction.js';

export type WarrenBrokerMonitorProps = BrokerAdminFunctionProps;

export const WARREN_BROKER_MONITOR_DEFAULTS = { schedule: Duration.minutes(5), timeout: Duration.minutes(2) } as const;

export class WarrenBrokerMonitor extends Construct {
  public readonly function: WarrenFunction;
  public readonly alarms: cloudwatch.Alarm[];

  public constructor(scope: Construct, id: string, props: WarrenBrokerMonitorProps) {
    super(scope, id);
    const queues: MonitoredHandler[] = props.handlers.map((h) => ({ handler: h.name, vhost: h.vhost, queue: h.queue, shards: h.concurrency }));
    this.function = brokerAdminFunction(this, 'Function', props, {
      entry: ownFunctionEntry('brokerMonitor'),
      timeout: WARREN_BROKER_MONITOR_DEFAULTS.timeout,
      description: 'Warren broker monitor: dead letters the broker gave up on, shards without a consumer',
      environment: { [ENV.amqpEndpoint]: props.broker.amqpsEndpoint, [ENV.amqpSecretArn]: props.broker.secret.secretArn, [ENV.stackName]: Aws.STACK_NAME },
      define: { [`process.env.${ENV.monitorQueues}`]: JSON.stringify(JSON.stringify(queues)) },
    });
    new events.Rule(this, 'Schedule', {
      description: 'Runs the Warren broker monitor',
      schedule: events.Schedule.rate(WARREN_BROKER_MONITOR_DEFAULTS.schedule),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 0 })],
    });
    const metric = (metricName: string) => new cloudwatch.Metric({ namespace: BROKER_MONITOR_NAMESPACE, metricName, dimensionsMap: { Stack: Aws.STACK_NAME }, statistic: 'Maximum', period: WARREN_BROKER_MONITOR_DEFAULTS.schedule });
    this.alarms = [
      metric('BrokerDeadLetters').createAlarm(this, 'BrokerDeadLetters', {
        alarmDescription: 'The broker dead-lettered messages into <queue>.dlq (past the quorum queue delivery limit); the monitor log names the handler; list and replay with npm run dlq against the broker URL',
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      metric('ShardsWithoutConsumer').createAlarm(this, 'ShardsWithoutConsumer', {
        alarmDescription: 'A shard queue has no consumer: its trigger is disabled or failing; the monitor log names the queue; see the trigger\'s StateTransitionReason',
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      this.function.metricErrors({ period: WARREN_BROKER_MONITOR_DEFAULTS.schedule, statistic: 'Sum' }).createAlarm(this, 'MonitorFailing', {
        alarmDescription: 'The Warren broker monitor failed twice in a row (broker unreachable or refusing its user): dead letters and shards without a consumer go unwatched; see its log',
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
  }
}
