/**
 * The CDK Provider framework around a Warren `onEvent` function, with its cdk-nag acknowledgements. The framework's
 * function (outside the VPC) calls `onEvent` and answers CloudFormation; an error thrown by `onEvent` fails the
 * resource with the error's message as the reason CloudFormation shows.
 */
import { type CfnResource, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { WarrenFunction, type WarrenFunctionProps } from './WarrenFunction.js';

export function warrenProvider(scope: Construct, id: string, onEvent: lambda.Function, logRetention?: logs.RetentionDays): cr.Provider {
  const provider = new cr.Provider(scope, id, {
    onEventHandler: onEvent,
    // Deleted with the stack (and with a failed first deploy's rollback), like every Warren function's log group.
    logGroup: new logs.LogGroup(scope, `${id}Logs`, { retention: logRetention ?? logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
  });
  for (const [ackId, reason] of [
    ['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', 'The CDK Provider framework function uses the AWS managed basic execution role; it only writes its logs.'],
    ['AwsSolutions-L1', 'The CDK Provider framework function\'s runtime is chosen by aws-cdk-lib, not by Warren.'],
  ] as const) {
    Validations.of(provider).acknowledge({ id: ackId, reason });
  }
  const stack = Stack.of(scope);
  const onEventLogicalId = stack.resolve(stack.getLogicalId(onEvent.node.defaultChild as CfnResource)) as string;
  Validations.of(provider).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${onEventLogicalId}.Arn>:*]`,
    reason: 'The Provider framework invokes any version of the onEvent function (CDK generates this grant).',
  });
  return provider;
}

/** What an `onEvent` function outside the VPC needs: it calls account-wide AWS APIs only, never the broker or database. */
export type AccountApiFunctionProps = Pick<WarrenFunctionProps, 'projectRoot' | 'entry' | 'timeout' | 'logRetention' | 'description'> &
  Required<Pick<WarrenFunctionProps, 'unscopedActions'>>;

/**
 * A WarrenFunction `OnEvent` (256 MB, outside the VPC, so it can run before the network's NAT exists) behind the
 * Provider framework `Provider`, both in `scope`: the trigger-teardown and account-concurrency resources.
 */
export function accountApiProvider(scope: Construct, props: AccountApiFunctionProps): cr.Provider {
  const onEvent = new WarrenFunction(scope, 'OnEvent', { ...props, memorySize: 256 });
  return warrenProvider(scope, 'Provider', onEvent, props.logRetention);
}
