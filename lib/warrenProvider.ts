/**
 * The CDK Provider framework around a Warren `onEvent` function, with its cdk-nag acknowledgements. The framework's
 * function (outside the VPC) calls `onEvent` and answers CloudFormation; an error thrown by `onEvent` fails the
 * resource with the error's message as the reason CloudFormation shows.
 *
 * With `asyncCompletion`, the same function is also the `isCompleteHandler`: the framework's Step Functions waiter
 * calls it every `queryInterval` until it answers complete, up to `totalTimeout` (lib/functions/asyncCompletion.ts).
 * Used by the resources whose Delete can take long (shard drain, trigger teardown).
 */
import { type CfnResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { ASYNC_COMPLETION_DEFAULTS } from './functions/asyncCompletion.js';
import { WarrenFunction, type WarrenFunctionProps } from './WarrenFunction.js';

export function warrenProvider(scope: Construct, id: string, onEvent: lambda.Function, logRetention?: logs.RetentionDays, asyncCompletion = false): cr.Provider {
  const logGroup = (name: string) => new logs.LogGroup(scope, name, { retention: logRetention ?? logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
  const provider = new cr.Provider(scope, id, {
    onEventHandler: onEvent,
    // Deleted with the stack (and with a failed first deploy's rollback), like every Warren function's log group.
    logGroup: logGroup(`${id}Logs`),
    ...(asyncCompletion ? {
      isCompleteHandler: onEvent,
      queryInterval: Duration.seconds(ASYNC_COMPLETION_DEFAULTS.queryIntervalSeconds),
      totalTimeout: Duration.minutes(ASYNC_COMPLETION_DEFAULTS.totalTimeoutMinutes),
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: { destination: logGroup(`${id}WaiterLogs`), level: sfn.LogLevel.ALL },
    } : {}),
  });
  for (const [ackId, reason] of [
    ['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', 'The CDK Provider framework function uses the AWS managed basic execution role; it only writes its logs.'],
    ['AwsSolutions-L1', 'The CDK Provider framework function\'s runtime is chosen by aws-cdk-lib, not by Warren.'],
    ...(asyncCompletion ? [
      ['AwsSolutions-SF2', 'The CDK Provider framework\'s waiter state machine only polls the isComplete function; X-Ray tracing would add nothing.'],
      ['AwsSolutions-IAM5[Resource::*]', 'CloudWatch Logs delivery for a state machine (logs:CreateLogDelivery and the like) takes no resource; CDK generates this grant for the waiter\'s log group.'],
    ] as const : []),
  ] as const) {
    Validations.of(provider).acknowledge({ id: ackId, reason });
  }
  const stack = Stack.of(scope);
  const onEventLogicalId = stack.resolve(stack.getLogicalId(onEvent.node.defaultChild as CfnResource)) as string;
  for (const child of ['framework-isComplete', 'framework-onTimeout']) {
    const fn = provider.node.tryFindChild(child);
    if (fn === undefined) continue;
    const logicalId = stack.resolve(stack.getLogicalId(fn.node.defaultChild as CfnResource)) as string;
    Validations.of(provider).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
      reason: 'The Provider framework\'s waiter state machine invokes any version of its isComplete and onTimeout functions (CDK generates this grant).',
    });
  }
  Validations.of(provider).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${onEventLogicalId}.Arn>:*]`,
    reason: 'The Provider framework invokes any version of the onEvent function (CDK generates this grant).',
  });
  return provider;
}

/** What an `onEvent` function outside the VPC needs: it calls account-wide AWS APIs only, never the broker or database. */
export type AccountApiFunctionProps = Pick<WarrenFunctionProps, 'projectRoot' | 'entry' | 'timeout' | 'logRetention' | 'description'> &
  Required<Pick<WarrenFunctionProps, 'unscopedActions'>> & {
    /** The function is also the provider's `isCompleteHandler` (lib/functions/asyncCompletion.ts). @default false */
    readonly asyncCompletion?: boolean;
  };

/**
 * A WarrenFunction `OnEvent` (256 MB, outside the VPC, so it can run before the network's NAT exists) behind the
 * Provider framework `Provider`, both in `scope`: the trigger-teardown and account-concurrency resources.
 */
export function accountApiProvider(scope: Construct, props: AccountApiFunctionProps): cr.Provider {
  const { asyncCompletion, ...functionProps } = props;
  const onEvent = new WarrenFunction(scope, 'OnEvent', { ...functionProps, memorySize: 256 });
  return warrenProvider(scope, 'Provider', onEvent, props.logRetention, asyncCompletion ?? false);
}
