/**
 * The Amazon MQ for RabbitMQ broker: created (private, in the VPC, credentials generated into Secrets Manager), or an
 * existing one imported by ARN, secret and AMQPS endpoint.
 */
import { Fn, Names, Validations } from 'aws-cdk-lib';
import * as amazonmq from 'aws-cdk-lib/aws-amazonmq';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ConfigError } from './errors.js';
import { LAMBDA_MAX_BODY_BYTES } from '../runtime/payloadLimit.js';

/** An existing broker. Its secret must be JSON `{"username": "...", "password": "..."}` (what MQ triggers read). */
export interface ExistingBroker {
  /** `arn:aws:mq:<region>:<account>:broker:<name>:<id>` */
  readonly brokerArn: string;
  readonly secretArn: string;
  /** `amqps://b-....mq.<region>.amazonaws.com:5671` */
  readonly amqpsEndpoint: string;
}

export interface WarrenBrokerProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** @default a new broker */
  readonly existing?: ExistingBroker;
  /** @default 'mq.m7g.large' */
  readonly instanceType?: string;
  /** @default '4.2' */
  readonly engineVersion?: string;
  /** @default 'warren' */
  readonly username?: string;
  /**
   * `SINGLE_INSTANCE` (one node: unavailable during its maintenance window) or `CLUSTER_MULTI_AZ` (three nodes in
   * three zones; quorum queues replicate across them). Amazon MQ developer guide, "Broker architecture".
   * @default 'SINGLE_INSTANCE'
   */
  readonly deploymentMode?: BrokerDeploymentMode;
  /**
   * Weekly maintenance window start (UTC). A single-instance broker is offline while Amazon MQ patches it, so pick a
   * quiet hour. CloudFormation `AWS::AmazonMQ::Broker MaintenanceWindowStartTime`.
   * @default { dayOfWeek: 'SUNDAY', timeOfDay: '03:00' }
   */
  readonly maintenanceWindow?: { readonly dayOfWeek: string; readonly timeOfDay: string };
}

export const BROKER_DEPLOYMENT_MODES = ['SINGLE_INSTANCE', 'CLUSTER_MULTI_AZ'] as const;
export type BrokerDeploymentMode = (typeof BROKER_DEPLOYMENT_MODES)[number];
const DAYS = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];

/**
 * The RabbitMQ version a created broker runs, kept in one place (create-only on `AWS::AmazonMQ::Configuration`: a
 * changed default must not reach a deployed broker unnoticed). 4.2, not 4.3: on 4.2 every return of a message counts
 * toward a quorum queue's delivery limit; 4.3 counts only `basic.reject` and a client crash, not `basic.nack` or a
 * consumer timeout (RabbitMQ "Quorum Queues"; blog "RabbitMQ 4.3 release", "unlimited returns"). The runner returns a
 * failed batch with `basic.reject` (test/integration/crashReturn.test.ts), but how the Lambda MQ trigger returns one is
 * not documented, so on 4.3 the broker's backstop against a message that keeps crashing the function rests on an
 * undocumented detail (docs/aws-facts.md). Choose 4.3 with `warren:brokerEngineVersion` knowing that.
 */
export const DEFAULT_RABBITMQ_ENGINE_VERSION = '4.2';

export const WARREN_BROKER_DEFAULTS = {
  instanceType: 'mq.m7g.large',
  engineVersion: DEFAULT_RABBITMQ_ENGINE_VERSION,
  username: 'warren',
  amqpsPort: 5671,
  /** The RabbitMQ web console and management API (HTTPS) of an Amazon MQ broker. */
  httpsPort: 443,
  deploymentMode: 'SINGLE_INSTANCE',
  maintenanceWindow: { dayOfWeek: 'SUNDAY', timeOfDay: '03:00' },
} as const;

/** Cuttlefish keys Warren sets in the broker's configuration. */
export const BROKER_CONFIGURATION_KEYS = { maxMessageSize: 'max_message_size' } as const;

const ARN_PATTERN = /^arn:aws[a-z-]*:mq:[a-z0-9-]+:\d{12}:broker:([A-Za-z0-9_-]{1,50}):b-[0-9a-f-]+$/;

export class WarrenBroker extends Construct {
  public readonly brokerArn: string;
  /** Broker name (the `Broker` dimension of its CloudWatch metrics). */
  public readonly brokerName: string;
  public readonly secret: secretsmanager.ISecret;
  public readonly amqpsEndpoint: string;
  /** The broker's security group when created here (MQ trigger pollers use it too). */
  public readonly securityGroup?: ec2.SecurityGroup;
  /** `https://<host>`: the RabbitMQ web console and its management API (vhosts are created through it). */
  public readonly consoleUrl: string;
  public readonly deploymentMode: BrokerDeploymentMode;
  /**
   * The broker's `max_message_size` (bytes) when set here: RabbitMQ 4 brokers created by the stack refuse a bigger
   * message at publish time (the publisher's channel is closed with an error) instead of Lambda dropping it later.
   * Undefined for an imported broker or RabbitMQ 3, where Amazon MQ offers no override.
   */
  public readonly maxMessageSize: number | undefined;

  public constructor(scope: Construct, id: string, props: WarrenBrokerProps) {
    super(scope, id);
    if (props.existing !== undefined) {
      const match = ARN_PATTERN.exec(props.existing.brokerArn);
      if (match?.[1] === undefined) throw new ConfigError('warren:brokerArn', `expected arn:aws:mq:<region>:<account>:broker:<name>:<id>, received ${JSON.stringify(props.existing.brokerArn)}; copy the ARN from \`aws mq describe-broker\``);
      if (!props.existing.amqpsEndpoint.startsWith('amqps://')) throw new ConfigError('warren:brokerAmqpsEndpoint', `expected amqps://<host>:5671, received ${JSON.stringify(props.existing.amqpsEndpoint)}; use the broker's AMQP endpoint`);
      this.brokerArn = props.existing.brokerArn;
      this.brokerName = match[1];
      this.secret = secretsmanager.Secret.fromSecretCompleteArn(this, 'Secret', props.existing.secretArn);
      this.amqpsEndpoint = props.existing.amqpsEndpoint;
      this.consoleUrl = `https://${new URL(props.existing.amqpsEndpoint).hostname}`;
      this.deploymentMode = 'SINGLE_INSTANCE';
      this.maxMessageSize = undefined;
      return;
    }

    // Credentials: generated into Secrets Manager in the shape MQ triggers read.
    const username = props.username ?? WARREN_BROKER_DEFAULTS.username;
    const secret = new secretsmanager.Secret(this, 'Secret', {
      description: 'Amazon MQ broker user for Warren (MQ triggers and the topology custom resource)',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username }),
        generateStringKey: 'password',
        passwordLength: 32,
        // Amazon MQ forbids commas, colons and equal signs; the rest keeps the URL-free password simple.
        excludeCharacters: ',:=/@"\'\\`[]{}%+&#?<> ',
      },
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'Amazon MQ has no Secrets Manager rotation integration; rotate by updating the secret and the broker user together.',
    });

    // Network: private broker; pollers of the MQ triggers use the broker's security group, so it admits itself.
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', { vpc: props.vpc, description: 'Amazon MQ broker (AMQPS)', allowAllOutbound: true });
    securityGroup.addIngressRule(securityGroup, ec2.Port.tcp(WARREN_BROKER_DEFAULTS.amqpsPort), 'MQ trigger pollers');

    const deploymentMode = props.deploymentMode ?? WARREN_BROKER_DEFAULTS.deploymentMode;
    if (!(BROKER_DEPLOYMENT_MODES as readonly string[]).includes(deploymentMode)) {
      throw new ConfigError('warren:brokerDeploymentMode', `expected ${BROKER_DEPLOYMENT_MODES.join(' or ')}, received ${JSON.stringify(deploymentMode)}`);
    }
    const window = props.maintenanceWindow ?? WARREN_BROKER_DEFAULTS.maintenanceWindow;
    if (!DAYS.includes(window.dayOfWeek) || !/^([01]\d|2[0-3]):[0-5]\d$/.test(window.timeOfDay)) {
      throw new ConfigError('warren:brokerMaintenanceWindow', `expected "<DAY> HH:MM" in UTC such as "SUNDAY 03:00", received ${JSON.stringify(`${window.dayOfWeek} ${window.timeOfDay}`)}`);
    }
    const brokerName = Names.uniqueResourceName(this, { maxLength: 50, separator: '-' });
    const subnetIds = props.vpc.selectSubnets(props.subnets).subnetIds;
    const engineVersion = props.engineVersion ?? WARREN_BROKER_DEFAULTS.engineVersion;

    // Message size: Lambda drops a message whose aws:rmq event passes its 6 MB invocation payload ("Troubleshoot
    // Amazon MQ event source mapping errors"; runtime/payloadLimit.ts). On RabbitMQ 4, Amazon MQ lets a configuration
    // set `max_message_size` (developer guide, "Resource Limit Configuration": configuration key max_message_size;
    // "Maximum resource limits": at most 134,217,728 bytes on m7g), so the broker refuses a body Lambda could never
    // deliver and its publisher gets an error instead of a silent loss. RabbitMQ 3 brokers take no resource-limit
    // overrides ("Default resource limits"). `Data` is the base64 of the Cuttlefish (rabbitmq.conf) text
    // (CloudFormation, AWS::AmazonMQ::Configuration).
    const configuration = engineVersion.startsWith('3.') ? undefined : new amazonmq.CfnConfiguration(this, 'Configuration', {
      name: Names.uniqueResourceName(this, { maxLength: 150, separator: '-' }),
      description: 'Warren: refuse messages Lambda would drop (over 6 MB as an aws:rmq event)',
      engineType: 'RABBITMQ',
      engineVersion,
      data: Buffer.from(`${BROKER_CONFIGURATION_KEYS.maxMessageSize} = ${LAMBDA_MAX_BODY_BYTES}\n`).toString('base64'),
    });
    const broker = new amazonmq.CfnBroker(this, 'Broker', {
      brokerName,
      engineType: 'RABBITMQ',
      engineVersion,
      ...(configuration === undefined ? {} : { configuration: { id: configuration.attrId, revision: configuration.attrRevision } }),
      hostInstanceType: props.instanceType ?? WARREN_BROKER_DEFAULTS.instanceType,
      deploymentMode,
      publiclyAccessible: false,
      autoMinorVersionUpgrade: true,
      maintenanceWindowStartTime: { dayOfWeek: window.dayOfWeek, timeOfDay: window.timeOfDay, timeZone: 'UTC' },
      // A single-instance broker lives in one subnet; a cluster spreads over the subnets of (at least) two zones.
      subnetIds: deploymentMode === 'SINGLE_INSTANCE' ? [Fn.select(0, subnetIds)] : subnetIds,
      securityGroups: [securityGroup.securityGroupId],
      users: [{ username, password: secret.secretValueFromJson('password').unsafeUnwrap() }],
      logs: { general: true },
    });

    this.brokerArn = broker.attrArn;
    this.brokerName = brokerName;
    this.secret = secret;
    this.amqpsEndpoint = Fn.select(0, broker.attrAmqpEndpoints);
    // The console URL has the AMQPS endpoint's host: amqps://b-<id>.mq.<region>.amazonaws.com:5671.
    this.consoleUrl = Fn.join('', ['https://', Fn.select(0, Fn.split(':', Fn.select(1, Fn.split('amqps://', this.amqpsEndpoint))))]);
    this.securityGroup = securityGroup;
    this.deploymentMode = deploymentMode;
    this.maxMessageSize = configuration === undefined ? undefined : LAMBDA_MAX_BODY_BYTES;
  }

  /** Lets `peer` open AMQPS connections to a broker created here (an imported broker's rules are yours to set). */
  public allowAmqpsFrom(peer: ec2.IConnectable, description: string): void {
    this.securityGroup?.connections.allowFrom(peer, ec2.Port.tcp(WARREN_BROKER_DEFAULTS.amqpsPort), description);
  }

  /** Lets `peer` reach the management API over HTTPS (the topology custom resource creates vhosts through it). */
  public allowHttpsFrom(peer: ec2.IConnectable, description: string): void {
    this.securityGroup?.connections.allowFrom(peer, ec2.Port.tcp(WARREN_BROKER_DEFAULTS.httpsPort), description);
  }
}
