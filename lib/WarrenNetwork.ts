/**
 * The VPC the broker, the proxy and the functions share: created (two AZs, private subnets with NAT egress, flow
 * logs), or imported from attributes (no lookup, so synth needs no AWS account).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ConfigError } from './errors.js';

/** An existing VPC; its private subnets must reach Secrets Manager, STS and Lambda (NAT or VPC endpoints). */
export interface ExistingNetwork {
  readonly vpcId: string;
  readonly availabilityZones: readonly string[];
  /** One per availability zone, same order. */
  readonly privateSubnetIds: readonly string[];
}

export interface WarrenNetworkProps {
  /** @default a new VPC */
  readonly existing?: ExistingNetwork;
  /**
   * NAT gateways of a new VPC (Lambda's MQ pollers and the functions reach AWS APIs through them).
   * @default 1
   */
  readonly natGateways?: number;
}

export const WARREN_NETWORK_DEFAULTS = { natGateways: 1, maxAzs: 2 } as const;

export class WarrenNetwork extends Construct {
  public readonly vpc: ec2.IVpc;
  /** Where the broker, the proxy and the functions go. */
  public readonly privateSubnets: ec2.SubnetSelection;

  public constructor(scope: Construct, id: string, props: WarrenNetworkProps = {}) {
    super(scope, id);
    const existing = props.existing;
    if (existing !== undefined) {
      if (existing.privateSubnetIds.length !== existing.availabilityZones.length || existing.privateSubnetIds.length < 2) {
        throw new ConfigError('warren:privateSubnetIds', `expected one private subnet per availability zone (at least 2), received ${existing.privateSubnetIds.length} subnet(s) for ${existing.availabilityZones.length} zone(s); list one subnet per zone of warren:availabilityZones, in the same order`);
      }
      this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: existing.vpcId,
        availabilityZones: [...existing.availabilityZones],
        privateSubnetIds: [...existing.privateSubnetIds],
      });
      this.privateSubnets = { subnets: this.vpc.privateSubnets };
      return;
    }
    const natGateways = props.natGateways ?? WARREN_NETWORK_DEFAULTS.natGateways;
    if (!Number.isInteger(natGateways) || natGateways < 1) {
      throw new ConfigError('warren:natGateways', `expected a whole number of at least 1 (the MQ trigger's pollers need to reach AWS APIs), received ${natGateways}`);
    }
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: WARREN_NETWORK_DEFAULTS.maxAzs,
      natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
    });
    vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(this, 'FlowLogs', {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      })),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });
    this.vpc = vpc;
    this.privateSubnets = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  }
}
