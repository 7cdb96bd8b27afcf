/**
 * Custom resource that declares the shard topology of every handler on the broker, by running
 * `runtime/topologyResource.ts` (which calls `declareTopology`, the code the local runner uses). Triggers depend on it,
 * so their queues exist before Lambda starts polling. Deleting the stack leaves the queues on the broker.
 */
import { CfnResource, CustomResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { ResolvedHandlerConfig } from '../runtime/config.js';
import type { WarrenBroker } from './WarrenBroker.js';
import { WarrenFunction } from './WarrenFunction.js';

export interface WarrenTopologyProps {
  readonly projectRoot: string;
  readonly handlers: readonly ResolvedHandlerConfig[];
  readonly broker: WarrenBroker;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

export class WarrenTopology extends Construct {
  public readonly resource: CustomResource;
  public readonly function: WarrenFunction;

  public constructor(scope: Construct, id: string, props: WarrenTopologyProps) {
    super(scope, id);

    // The onEvent function: in the VPC (the broker is private), reads the broker secret.
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', { vpc: props.vpc, description: 'Warren topology custom resource', allowAllOutbound: true });
    this.function = new WarrenFunction(this, 'OnEvent', {
      projectRoot: props.projectRoot,
      entry: 'runtime/topologyResource.ts',
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [securityGroup],
      timeout: Duration.minutes(2),
      memorySize: 256,
      description: 'Declares Warren shard topology on the broker',
      ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
    });
    props.broker.secret.grantRead(this.function);
    props.broker.allowAmqpsFrom(securityGroup, 'Warren topology custom resource');

    // The provider framework (outside the VPC) calls onEvent and answers CloudFormation.
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.function,
      logGroup: new logs.LogGroup(this, 'ProviderLogs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH }),
    });
    for (const [id, reason] of [
      ['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', 'The CDK Provider framework function uses the AWS managed basic execution role; it only writes its logs.'],
      ['AwsSolutions-L1', 'The CDK Provider framework function\'s runtime is chosen by aws-cdk-lib, not by Warren.'],
    ] as const) {
      Validations.of(provider).acknowledge({ id, reason });
    }
    const onEventLogicalId = Stack.of(this).resolve(Stack.of(this).getLogicalId(this.function.node.defaultChild as CfnResource)) as string;
    Validations.of(provider).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${onEventLogicalId}.Arn>:*]`,
      reason: 'The Provider framework invokes any version of the onEvent function (CDK generates this grant).',
    });

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::WarrenTopology',
      properties: {
        BrokerEndpoint: props.broker.amqpsEndpoint,
        SecretArn: props.broker.secret.secretArn,
        Handlers: JSON.stringify(props.handlers),
      },
    });
  }
}
