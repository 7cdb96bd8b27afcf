/**
 * Warren's house `NodejsFunction`: Node.js 22 on arm64, esbuild bundling on this machine (no Docker), minified with
 * source maps and the rarely needed modules beside the bundle (lib/functionBundling.ts), an explicit log group with
 * retention, and a role of its own that holds only what the function needs (log writing, the VPC network-interface
 * actions Lambda requires when it runs in a VPC, and grants added later). Every function of the stack is one.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { type ICommandHooks, NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { dirname, isAbsolute, join } from 'node:path';
import { warrenBundling } from './functionBundling.js';
import { commonRoot, findLockFile } from './ownFunctions.js';

export interface WarrenFunctionProps {
  /** Project root: entries and the lock file are resolved from it. */
  readonly projectRoot: string;
  /** Handler module: relative to `projectRoot`, or absolute (the stack's own functions, lib/ownFunctions.ts). */
  readonly entry: string;
  /**
   * Exported handler function.
   * @default 'handler'
   */
  readonly handler?: string;
  /** The VPC to run in; without one the function runs outside any VPC (it then needs no network-interface actions). @default none */
  readonly vpc?: ec2.IVpc;
  /** @default none (only with `vpc`) */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** @default none (only with `vpc`) */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /** @default Duration.seconds(60) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default none */
  readonly environment?: Record<string, string>;
  /** @default none */
  readonly description?: string;
  /** Commands run around esbuild (e.g. to copy SQL files into the bundle). @default none */
  readonly commandHooks?: ICommandHooks;
  /** Replace identifiers at bundle time (esbuild `define`), for data too large for environment variables. @default none */
  readonly define?: Record<string, string>;
  /**
   * Actions AWS does not scope to a resource, granted on `*` with the reason (also the cdk-nag acknowledgement).
   * @default none
   */
  readonly unscopedActions?: { readonly actions: readonly string[]; readonly reason: string };
}

export const WARREN_FUNCTION_DEFAULTS = {
  handler: 'handler',
  timeout: Duration.seconds(60),
  memorySize: 512,
  logRetention: logs.RetentionDays.ONE_MONTH,
} as const;

/**
 * Actions Lambda needs to attach a function to a VPC, plus the Describe actions an Amazon MQ trigger needs to create its
 * pollers' network interfaces in the broker's VPC. AWS does not support resource-level scoping for the Describe ones.
 */
export const VPC_ENI_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeVpcs',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
] as const;

export class WarrenFunction extends NodejsFunction {
  public override readonly role: iam.Role;

  public constructor(scope: Construct, id: string, props: WarrenFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? WARREN_FUNCTION_DEFAULTS.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${id}`,
    });
    const entry = isAbsolute(props.entry) ? props.entry : join(props.projectRoot, props.entry);
    const depsLockFilePath = findLockFile(props.projectRoot);
    super(scope, id, {
      entry,
      handler: props.handler ?? WARREN_FUNCTION_DEFAULTS.handler,
      projectRoot: commonRoot(props.projectRoot, dirname(entry), dirname(depsLockFilePath)),
      depsLockFilePath,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout ?? WARREN_FUNCTION_DEFAULTS.timeout,
      memorySize: props.memorySize ?? WARREN_FUNCTION_DEFAULTS.memorySize,
      logGroup,
      role,
      ...(props.vpc === undefined ? {} : { vpc: props.vpc, vpcSubnets: props.vpcSubnets, securityGroups: props.securityGroups }),
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      description: props.description,
      bundling: warrenBundling(scope, props.projectRoot, { commandHooks: props.commandHooks, define: props.define }),
    });
    this.role = role;

    // Logs: only this function's log group.
    logGroup.grantWrite(role);
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Warren pins Node.js 22 (the runtime its code and tests target); move to a newer runtime deliberately, not by a linter.',
    });
    const unscoped = [
      // VPC attachment: the actions Lambda requires, which take no resource scoping.
      ...(props.vpc === undefined ? [] : [{ actions: VPC_ENI_ACTIONS, reason: 'The EC2 network-interface actions Lambda needs to run a function in a VPC do not support resource-level permissions.' }]),
      ...(props.unscopedActions === undefined ? [] : [props.unscopedActions]),
    ];
    for (const { actions } of unscoped) role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...actions], resources: ['*'] }));
    if (unscoped.length > 0) Validations.of(role).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: unscoped.map((u) => u.reason).join(' ') });
  }
}
