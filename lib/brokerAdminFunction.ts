/**
 * The functions that reach the broker as its administrator (the topology and broker-user resources, the broker monitor):
 * what they share is set up here once.
 */
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { ResolvedHandlerConfig } from '../config/config.js';
import type { WarrenBroker } from './WarrenBroker.js';
import { WarrenFunction, type WarrenFunctionProps } from './WarrenFunction.js';

export interface BrokerAdminFunctionProps {
  readonly projectRoot: string;
  readonly handlers: readonly ResolvedHandlerConfig[];
  readonly broker: WarrenBroker;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** The security group every Warren function shares (the broker admits it on 5671 and 443). */
  readonly securityGroup: ec2.ISecurityGroup;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/** A 256 MB WarrenFunction in the broker's VPC and the shared security group that may read the administrator's secret. */
export function brokerAdminFunction(scope: Construct, id: string, props: BrokerAdminFunctionProps, settings: Pick<WarrenFunctionProps, 'entry' | 'timeout' | 'description' | 'environment' | 'define'>): WarrenFunction {
  const fn = new WarrenFunction(scope, id, {
    projectRoot: props.projectRoot,
    vpc: props.vpc,
    vpcSubnets: props.subnets,
    securityGroups: [props.securityGroup],
    memorySize: 256,
    logRetention: props.logRetention,
    ...settings,
  });
  props.broker.secret.grantRead(fn);
  return fn;
}
