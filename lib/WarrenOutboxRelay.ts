/**
 * The scheduled outbox relay: a function (`lib/functions/relayFunction.ts`) that an EventBridge rule runs every minute. It
 * publishes outbox rows their handler's environments left behind, for handlers whose queues went quiet since.
 * Created only when a handler declares `publishes`.
 *
 * No reserved concurrency: Lambda refuses a reservation that would leave the account less than its minimum unreserved
 * concurrency, which fails the deploy on accounts with a low limit (Lambda developer guide, "Configuring reserved
 * concurrency"). Runs do not overlap in practice (timeout 50 s < schedule 1 min, no async retries), and if two ever
 * do, `flushOutbox` takes the rows with `SELECT ... FOR UPDATE` in one transaction, so the second waits and finds
 * them sent: no row is published twice by two relays, nor out of order.
 */
import { Duration } from 'aws-cdk-lib';
import { ownFunctionEntry } from './ownFunctions.js';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { ResolvedHandlerConfig } from '../config/config.js';
import { ENV } from '../runtime/env.js';
import type { WarrenBroker } from './WarrenBroker.js';
import type { WarrenDatabase } from './WarrenDatabase.js';
import { WarrenFunction } from './WarrenFunction.js';

export interface WarrenOutboxRelayProps {
  readonly projectRoot: string;
  /** The handlers that publish (their names and vhosts go to the relay). */
  readonly handlers: readonly ResolvedHandlerConfig[];
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** The security group every Warren function shares. */
  readonly securityGroup: ec2.ISecurityGroup;
  readonly broker: WarrenBroker;
  /** The application broker user's secret: the relay publishes as that user. */
  readonly brokerAppSecret: secretsmanager.ISecret;
  readonly database: WarrenDatabase;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default Duration.minutes(1) */
  readonly schedule?: Duration;
}

export const WARREN_RELAY_DEFAULTS = {
  schedule: Duration.minutes(1),
  timeout: Duration.seconds(50),
  /** Client connections the relay is counted for in the connection budget (one run at a time, see above). */
  connections: 1,
} as const;

/**
 * What the relay gets per publishing handler. `minAgeMs`: the handler's timeout plus a margin (the relay uses it when
 * above its own 30 s), so the relay never takes rows an invocation still running may publish itself ("Timeout is the maximum
 * amount of time in seconds that a Lambda function can run", Lambda developer guide, "Configure Lambda function
 * timeout"; rule in runtime/outbox/leftBehind.ts).
 */
export function relayTargets(handlers: readonly ResolvedHandlerConfig[]): { name: string; vhost: string; minAgeMs: number }[] {
  return handlers.map((h) => ({ name: h.name, vhost: h.vhost, minAgeMs: (h.timeoutSeconds + RELAY_AGE_MARGIN_SECONDS) * 1000 }));
}

/** Added to a handler's timeout for the relay's minimum row age (clock steps, the end of the last statement). */
export const RELAY_AGE_MARGIN_SECONDS = 10;

export class WarrenOutboxRelay extends Construct {
  public readonly function: WarrenFunction;
  public readonly rule: events.Rule;

  public constructor(scope: Construct, id: string, props: WarrenOutboxRelayProps) {
    super(scope, id);
    this.function = new WarrenFunction(this, 'Function', {
      projectRoot: props.projectRoot,
      entry: ownFunctionEntry('relayFunction'),
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [props.securityGroup],
      timeout: WARREN_RELAY_DEFAULTS.timeout,
      description: 'Warren outbox relay: publishes outbox rows left behind',
      environment: {
        [ENV.handler]: 'outbox-relay',
        [ENV.amqpEndpoint]: props.broker.amqpsEndpoint,
        [ENV.amqpSecretArn]: props.brokerAppSecret.secretArn,
        ...props.database.environment(),
      },
      // The handler list is compiled into the bundle: 200 publishing handlers would exceed Lambda's 4 KB of
      // environment variables (lib/functions/relayFunction.ts reads process.env.WARREN_RELAY_HANDLERS, ENV.relayHandlers, literally).
      define: { [`process.env.${ENV.relayHandlers}`]: JSON.stringify(JSON.stringify(relayTargets(props.handlers))) },
      ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
    });
    // A failed run is not retried by Lambda's async invocation (the next scheduled run is the retry).
    this.function.configureAsyncInvoke({ retryAttempts: 0 });
    props.database.grantConnect(this.function);
    props.brokerAppSecret.grantRead(this.function);
    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Runs the Warren outbox relay',
      schedule: events.Schedule.rate(props.schedule ?? WARREN_RELAY_DEFAULTS.schedule),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 0 })],
    });
  }
}
