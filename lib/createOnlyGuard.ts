/**
 * The synth-time guard against replacing a stateful resource. CloudFormation replaces a resource when one of its
 * create-only properties changes (the registry schema's `createOnlyProperties`; cfn-lint 1.51 bundles the schemas),
 * and it cannot replace one with a custom name at all (the broker's BrokerName, the configuration's Name, the proxy's
 * DBProxyName): the update fails after a long wait. `cdk synth` cannot see what is deployed, so the last synthesized
 * values are recorded in the committed `warren.lock.json` and every later synth compares with them: a difference
 * stops synth with a `ReplacementRefusedError` that names the setting, before anything reaches CloudFormation.
 */
import { Stack, type CfnResource } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ReplacementRefusedError } from './errors.js';
import type { LockedResource, WarrenLock } from './warrenLock.js';

/**
 * The create-only properties Warren records, per resource: CloudFormation name and the L1 construct's field. The
 * lists are the registry schemas' `createOnlyProperties` (cfn-lint 1.51, us-east-1; pinned by test/infra/updateRehearsal.test.ts).
 */
export const CREATE_ONLY: Readonly<Record<LockedResource, { readonly type: string; readonly properties: Readonly<Record<string, string>> }>> = {
  Broker: {
    type: 'AWS::AmazonMQ::Broker',
    properties: { BrokerName: 'brokerName', StorageType: 'storageType', DeploymentMode: 'deploymentMode', EngineType: 'engineType', SubnetIds: 'subnetIds', AuthenticationStrategy: 'authenticationStrategy', EncryptionOptions: 'encryptionOptions', PubliclyAccessible: 'publiclyAccessible' },
  },
  BrokerConfiguration: {
    type: 'AWS::AmazonMQ::Configuration',
    properties: { AuthenticationStrategy: 'authenticationStrategy', EngineType: 'engineType', EngineVersion: 'engineVersion', Name: 'name' },
  },
  DatabaseInstance: {
    type: 'AWS::RDS::DBInstance',
    properties: {
      BackupTarget: 'backupTarget', CharacterSetName: 'characterSetName', CustomIAMInstanceProfile: 'customIamInstanceProfile', DBClusterIdentifier: 'dbClusterIdentifier',
      DBInstanceIdentifier: 'dbInstanceIdentifier', DBName: 'dbName', DBSubnetGroupName: 'dbSubnetGroupName', DBSystemId: 'dbSystemId', KmsKeyId: 'kmsKeyId',
      MasterUsername: 'masterUsername', NcharCharacterSetName: 'ncharCharacterSetName', SourceRegion: 'sourceRegion', StorageEncrypted: 'storageEncrypted', Timezone: 'timezone',
    },
  },
  DatabaseProxy: {
    type: 'AWS::RDS::DBProxy',
    properties: { DBProxyName: 'dbProxyName', EngineFamily: 'engineFamily', EndpointNetworkType: 'endpointNetworkType', TargetConnectionNetworkType: 'targetConnectionNetworkType', VpcSubnetIds: 'vpcSubnetIds' },
  },
};

/** Which Warren setting changes a create-only property (the rest only change with Warren itself). */
const SETTING: Readonly<Record<string, string>> = {
  'Broker.DeploymentMode': 'warren:brokerDeploymentMode',
  'Broker.SubnetIds': 'the broker\'s subnets (warren:privateSubnetIds, warren:brokerDeploymentMode)',
  'Broker.BrokerName': 'the broker\'s name (warren:stackName or the construct id)',
  'BrokerConfiguration.EngineVersion': 'warren:brokerEngineVersion',
  'BrokerConfiguration.Name': 'the broker configuration\'s name (warren:stackName or the construct id)',
  'DatabaseInstance.DBName': 'warren:databaseName',
  'DatabaseInstance.MasterUsername': 'warren:databaseUser',
  'DatabaseInstance.DBSubnetGroupName': 'the database\'s subnets (warren:privateSubnetIds)',
  'DatabaseProxy.VpcSubnetIds': 'the proxy\'s subnets (warren:privateSubnetIds)',
  'DatabaseProxy.DBProxyName': 'the proxy\'s name (warren:stackName, @aws-cdk/aws-rds:databaseProxyUniqueResourceName)',
};

/** The L1 resources the guard watches: those created by this stack (an imported broker or database has none). */
export interface StatefulResources {
  readonly Broker?: Construct | undefined;
  readonly BrokerConfiguration?: Construct | undefined;
  readonly DatabaseInstance?: Construct | undefined;
  readonly DatabaseProxy?: Construct | undefined;
  /**
   * Values the template carries only as a reference (CDK passes the master user name as a Secrets Manager dynamic
   * reference), recorded as the setting that produced them. @default none
   */
  readonly plain?: Partial<Record<LockedResource, Record<string, unknown>>>;
}

/** Each watched resource's create-only properties, resolved (tokens become `Ref`/`Fn::*` objects); unset ones left out. */
export function recordCreateOnly(stack: Stack, resources: StatefulResources): WarrenLock['createOnly'] {
  const out: Partial<Record<LockedResource, Record<string, unknown>>> = {};
  for (const name of Object.keys(CREATE_ONLY) as LockedResource[]) {
    const construct = resources[name];
    if (construct === undefined) continue;
    const cfn = (construct.node.defaultChild ?? construct) as CfnResource & Record<string, unknown>;
    const values: Record<string, unknown> = {};
    for (const [property, field] of Object.entries(CREATE_ONLY[name].properties)) {
      const value: unknown = stack.resolve(cfn[field]);
      if (value !== undefined) values[property] = value;
    }
    Object.assign(values, resources.plain?.[name] ?? {});
    out[name] = values;
  }
  return out;
}

/**
 * Throws `ReplacementRefusedError` when a recorded resource's create-only property differs now, or when a recorded
 * resource is gone (an imported broker or database in place of the created one: CloudFormation would delete it).
 */
export function checkCreateOnly(previous: WarrenLock['createOnly'], now: WarrenLock['createOnly']): void {
  for (const name of Object.keys(previous) as LockedResource[]) {
    const before = previous[name] ?? {};
    const after = now[name];
    if (after === undefined) {
      throw new ReplacementRefusedError(name, '(whole resource)', name.startsWith('Broker') ? 'warren:brokerArn (an imported broker)' : 'warren:databaseInstanceIdentifier (an imported database)', 'created by this stack', 'imported');
    }
    for (const property of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (JSON.stringify(before[property]) !== JSON.stringify(after[property])) {
        throw new ReplacementRefusedError(name, property, SETTING[`${name}.${property}`] ?? `this version of Warren (${CREATE_ONLY[name].type} ${property})`, before[property], after[property]);
      }
    }
  }
}

/** The settings a recorded stack keeps when this synth does not set them (a later Warren default must not replace). */
export function pinnedSettings(lock: WarrenLock): { brokerEngineVersion?: string; brokerDeploymentMode?: 'SINGLE_INSTANCE' | 'CLUSTER_MULTI_AZ'; databaseName?: string; databaseUser?: string } {
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const mode = text(lock.createOnly.Broker?.DeploymentMode);
  const out: ReturnType<typeof pinnedSettings> = {};
  const engineVersion = text(lock.createOnly.BrokerConfiguration?.EngineVersion);
  if (engineVersion !== undefined) out.brokerEngineVersion = engineVersion;
  if (mode === 'SINGLE_INSTANCE' || mode === 'CLUSTER_MULTI_AZ') out.brokerDeploymentMode = mode;
  const dbName = text(lock.createOnly.DatabaseInstance?.DBName);
  if (dbName !== undefined) out.databaseName = dbName;
  const user = text(lock.createOnly.DatabaseInstance?.MasterUsername);
  if (user !== undefined) out.databaseUser = user;
  return out;
}
