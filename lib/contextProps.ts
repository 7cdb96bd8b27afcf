/**
 * Reads the stack's options from CDK context (`cdk deploy -c warren:maxConnections=200`, or `context` in cdk.json).
 * Values given on the command line arrive as strings; numbers, booleans and lists are parsed here and a malformed value
 * fails synth with a message naming the key.
 */
import type { Node } from 'constructs';
import { CONNECTION_BUDGET_MODES, type ConnectionBudgetMode } from './connectionBudget.js';
import { ConfigError } from './errors.js';
import { BROKER_DEPLOYMENT_MODES, type BrokerDeploymentMode } from './WarrenBroker.js';
import { DATABASE_STAGES, type DatabaseStage } from './WarrenDatabase.js';
import { LOCK_MODES, type LockMode } from './warrenLock.js';
import type { WarrenStackProps } from './WarrenStack.js';

/** Every context key Warren reads. */
export const CONTEXT_KEYS = {
  stackName: 'warren:stackName',
  config: 'warren:config',
  maxConnections: 'warren:maxConnections',
  maxConnectionsPercent: 'warren:maxConnectionsPercent',
  reclaimAllowance: 'warren:reclaimAllowance',
  connectionBudget: 'warren:connectionBudget',
  handlersPerStack: 'warren:handlersPerStack',
  natGateways: 'warren:natGateways',
  vpcId: 'warren:vpcId',
  availabilityZones: 'warren:availabilityZones',
  privateSubnetIds: 'warren:privateSubnetIds',
  brokerArn: 'warren:brokerArn',
  brokerSecretArn: 'warren:brokerSecretArn',
  brokerAmqpsEndpoint: 'warren:brokerAmqpsEndpoint',
  brokerInstanceType: 'warren:brokerInstanceType',
  brokerEngineVersion: 'warren:brokerEngineVersion',
  brokerDeploymentMode: 'warren:brokerDeploymentMode',
  brokerMaintenanceWindow: 'warren:brokerMaintenanceWindow',
  databaseInstanceIdentifier: 'warren:databaseInstanceIdentifier',
  databaseEndpoint: 'warren:databaseEndpoint',
  databasePort: 'warren:databasePort',
  databaseSecretArn: 'warren:databaseSecretArn',
  databaseSecurityGroupId: 'warren:databaseSecurityGroupId',
  databaseInstanceType: 'warren:databaseInstanceType',
  databaseMultiAz: 'warren:databaseMultiAz',
  databaseAllocatedStorage: 'warren:databaseAllocatedStorage',
  databaseMaxAllocatedStorage: 'warren:databaseMaxAllocatedStorage',
  databaseDeletionProtection: 'warren:databaseDeletionProtection',
  stage: 'warren:stage',
  databaseUser: 'warren:databaseUser',
  databaseName: 'warren:databaseName',
  alarmTopicArn: 'warren:alarmTopicArn',
  lockFile: 'warren:lockFile',
  lock: 'warren:lock',
} as const;

export type ContextOptions = Omit<WarrenStackProps, 'config' | 'projectRoot' | 'lock' | 'lockMode' | 'lockFile'> & {
  readonly stackName: string;
  readonly configPath: string;
  /** `warren:lockFile`: where the committed record is, relative to the project root. */
  readonly lockFile?: string;
  /** `warren:lock`: `locked` refuses a record that lacks an entry (CI), `write` adds them. */
  readonly lockMode?: LockMode;
};

type Reader = (key: string) => unknown;

function str(read: Reader, key: string): string | undefined {
  const value = read(key);
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new ConfigError(key, `expected a string, received ${JSON.stringify(value)}`);
  return value;
}

function num(read: Reader, key: string): number | undefined {
  const value = read(key);
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  if (!Number.isFinite(n)) throw new ConfigError(key, `expected a number, received ${JSON.stringify(value)}; pass -c ${key}=<number>`);
  return n;
}

function bool(read: Reader, key: string): boolean | undefined {
  const value = read(key);
  if (value === undefined || value === '') return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new ConfigError(key, `expected true or false, received ${JSON.stringify(value)}`);
}

function list(read: Reader, key: string): string[] | undefined {
  const value = read(key);
  if (value === undefined || value === '') return undefined;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  if (typeof value === 'string') return value.split(',').map((v) => v.trim()).filter((v) => v !== '');
  throw new ConfigError(key, `expected a comma-separated list, received ${JSON.stringify(value)}`);
}

/** All keys of a group or none: names the missing ones. */
function group<T extends Record<string, unknown>>(name: string, values: T): { [K in keyof T]: NonNullable<T[K]> } | undefined {
  const keys = Object.keys(values);
  const missing = keys.filter((k) => values[k] === undefined);
  if (missing.length === keys.length) return undefined;
  if (missing.length > 0) {
    const ck = CONTEXT_KEYS as Record<string, string>;
    throw new ConfigError(missing.map((k) => ck[k] ?? k).join(', '), `importing an existing ${name} needs ${keys.map((k) => ck[k] ?? k).join(', ')}; set the missing ones too, or none to create a new ${name}`);
  }
  return values as { [K in keyof T]: NonNullable<T[K]> };
}

function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Reads every `warren:*` context key of `node`. */
export function contextOptions(node: Node): ContextOptions {
  const read: Reader = (key) => node.tryGetContext(key);
  const K = CONTEXT_KEYS;
  const network = group('VPC', { vpcId: str(read, K.vpcId), availabilityZones: list(read, K.availabilityZones), privateSubnetIds: list(read, K.privateSubnetIds) });
  const broker = group('broker', { brokerArn: str(read, K.brokerArn), brokerSecretArn: str(read, K.brokerSecretArn), brokerAmqpsEndpoint: str(read, K.brokerAmqpsEndpoint) });
  const database = group('database', {
    databaseInstanceIdentifier: str(read, K.databaseInstanceIdentifier),
    databaseEndpoint: str(read, K.databaseEndpoint),
    databaseSecretArn: str(read, K.databaseSecretArn),
    databaseSecurityGroupId: str(read, K.databaseSecurityGroupId),
  });
  if (broker !== undefined && network === undefined) {
    throw new ConfigError(K.vpcId, `an imported broker (${K.brokerArn}) needs its VPC: set ${K.vpcId}, ${K.availabilityZones} and ${K.privateSubnetIds}`);
  }
  const budgetMode = str(read, K.connectionBudget);
  if (budgetMode !== undefined && !(CONNECTION_BUDGET_MODES as readonly string[]).includes(budgetMode)) {
    throw new ConfigError(K.connectionBudget, `expected ${CONNECTION_BUDGET_MODES.join(' or ')}, received ${JSON.stringify(budgetMode)}`);
  }
  const deploymentMode = str(read, K.brokerDeploymentMode);
  if (deploymentMode !== undefined && !(BROKER_DEPLOYMENT_MODES as readonly string[]).includes(deploymentMode)) {
    throw new ConfigError(K.brokerDeploymentMode, `expected ${BROKER_DEPLOYMENT_MODES.join(' or ')}, received ${JSON.stringify(deploymentMode)}`);
  }
  const window = str(read, K.brokerMaintenanceWindow);
  const [dayOfWeek, timeOfDay] = window === undefined ? [] : window.trim().split(/\s+/);
  const databasePort = num(read, K.databasePort);
  const stage = str(read, K.stage);
  if (stage !== undefined && !(DATABASE_STAGES as readonly string[]).includes(stage)) {
    throw new ConfigError(K.stage, `expected ${DATABASE_STAGES.join(' or ')}, received ${JSON.stringify(stage)}`);
  }
  const lockMode = str(read, K.lock);
  if (lockMode !== undefined && !(LOCK_MODES as readonly string[]).includes(lockMode)) {
    throw new ConfigError(K.lock, `expected ${LOCK_MODES.join(' or ')}, received ${JSON.stringify(lockMode)}`);
  }
  return defined({
    stackName: str(read, K.stackName) ?? 'Warren',
    configPath: str(read, K.config) ?? 'warren.config.ts',
    maxConnections: num(read, K.maxConnections),
    maxConnectionsPercent: num(read, K.maxConnectionsPercent),
    reclaimAllowance: num(read, K.reclaimAllowance),
    connectionBudget: budgetMode as ConnectionBudgetMode | undefined,
    handlersPerStack: num(read, K.handlersPerStack),
    natGateways: num(read, K.natGateways),
    network,
    broker: broker === undefined ? undefined : { brokerArn: broker.brokerArn, secretArn: broker.brokerSecretArn, amqpsEndpoint: broker.brokerAmqpsEndpoint },
    brokerInstanceType: str(read, K.brokerInstanceType),
    brokerEngineVersion: str(read, K.brokerEngineVersion),
    brokerDeploymentMode: deploymentMode as BrokerDeploymentMode | undefined,
    brokerMaintenanceWindow: window === undefined ? undefined : { dayOfWeek: (dayOfWeek ?? '').toUpperCase(), timeOfDay: timeOfDay ?? '' },
    database: database === undefined ? undefined : defined({
      instanceIdentifier: database.databaseInstanceIdentifier,
      endpoint: database.databaseEndpoint,
      secretArn: database.databaseSecretArn,
      securityGroupId: database.databaseSecurityGroupId,
      port: databasePort,
    }),
    databaseInstanceType: str(read, K.databaseInstanceType),
    databaseMultiAz: bool(read, K.databaseMultiAz),
    databaseAllocatedStorage: num(read, K.databaseAllocatedStorage),
    databaseMaxAllocatedStorage: num(read, K.databaseMaxAllocatedStorage),
    databaseDeletionProtection: bool(read, K.databaseDeletionProtection),
    stage: stage as DatabaseStage | undefined,
    databaseUser: str(read, K.databaseUser),
    databaseName: str(read, K.databaseName),
    alarmTopicArn: str(read, K.alarmTopicArn),
    lockFile: str(read, K.lockFile),
    lockMode: lockMode as LockMode | undefined,
  });
}
