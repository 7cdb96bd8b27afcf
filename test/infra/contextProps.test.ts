import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { contextOptions } from '../../lib/contextProps.js';

const IMPORTS = {
  'warren:vpcId': 'vpc-0123456789abcdef0',
  'warren:availabilityZones': 'eu-west-1a,eu-west-1b',
  'warren:privateSubnetIds': 'subnet-0aaa, subnet-0bbb',
  'warren:brokerArn': 'arn:aws:mq:eu-west-1:111122223333:broker:shop:b-1234abcd-56ef-78ab-90cd-1234567890ab',
  'warren:brokerSecretArn': 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:shop-broker-AbCdEf',
  'warren:brokerAmqpsEndpoint': 'amqps://b-1234abcd.mq.eu-west-1.amazonaws.com:5671',
};

describe('Function: contextOptions()', () => {
  it('uses the defaults when no warren:* context is given', () => {
    expect(contextOptions(new App().node)).toEqual({ stackName: 'Warren', configPath: 'warren.config.ts' });
  });

  it('parses command-line strings into numbers, booleans, lists and import groups', () => {
    const app = new App({ context: { ...IMPORTS, 'warren:maxConnections': '200', 'warren:databaseMultiAz': 'true' } });
    expect(contextOptions(app.node)).toEqual({
      stackName: 'Warren',
      configPath: 'warren.config.ts',
      maxConnections: 200,
      databaseMultiAz: true,
      network: { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['eu-west-1a', 'eu-west-1b'], privateSubnetIds: ['subnet-0aaa', 'subnet-0bbb'] },
      broker: {
        brokerArn: IMPORTS['warren:brokerArn'],
        secretArn: IMPORTS['warren:brokerSecretArn'],
        amqpsEndpoint: IMPORTS['warren:brokerAmqpsEndpoint'],
      },
    });
  });

  it('names the missing keys of a partial import group', () => {
    const app = new App({ context: { 'warren:brokerArn': IMPORTS['warren:brokerArn'] } });
    expect(() => contextOptions(app.node)).toThrow('Invalid config at "warren:brokerSecretArn, warren:brokerAmqpsEndpoint": importing an existing broker needs warren:brokerArn, warren:brokerSecretArn, warren:brokerAmqpsEndpoint; set the missing ones too, or none to create a new broker');
  });

  it('requires the VPC of an imported broker', () => {
    const { 'warren:vpcId': _v, 'warren:availabilityZones': _a, 'warren:privateSubnetIds': _s, ...brokerOnly } = IMPORTS;
    expect(() => contextOptions(new App({ context: brokerOnly }).node)).toThrow('Invalid config at "warren:vpcId": an imported broker (warren:brokerArn) needs its VPC: set warren:vpcId, warren:availabilityZones and warren:privateSubnetIds');
  });

  it('rejects a value that is not a number, naming the key', () => {
    expect(() => contextOptions(new App({ context: { 'warren:maxConnections': 'lots' } }).node)).toThrow('Invalid config at "warren:maxConnections": expected a number, received "lots"; pass -c warren:maxConnections=<number>');
  });

  it('reads the broker deployment mode, maintenance window, budget mode and handlers per stack', () => {
    const app = new App({ context: { 'warren:brokerDeploymentMode': 'CLUSTER_MULTI_AZ', 'warren:brokerMaintenanceWindow': 'tuesday 04:30', 'warren:connectionBudget': 'strict', 'warren:handlersPerStack': '10' } });
    expect(contextOptions(app.node)).toEqual({
      stackName: 'Warren',
      configPath: 'warren.config.ts',
      brokerDeploymentMode: 'CLUSTER_MULTI_AZ',
      brokerMaintenanceWindow: { dayOfWeek: 'TUESDAY', timeOfDay: '04:30' },
      connectionBudget: 'strict',
      handlersPerStack: 10,
    });
  });

  it('reads the stage, the database storage, its autoscaling ceiling and deletion protection', () => {
    const app = new App({ context: { 'warren:stage': 'production', 'warren:databaseAllocatedStorage': '50', 'warren:databaseMaxAllocatedStorage': '400', 'warren:databaseDeletionProtection': 'true' } });
    expect(contextOptions(app.node)).toEqual({ stackName: 'Warren', configPath: 'warren.config.ts', stage: 'production', databaseAllocatedStorage: 50, databaseMaxAllocatedStorage: 400, databaseDeletionProtection: true });
    expect(() => contextOptions(new App({ context: { 'warren:stage': 'prod' } }).node)).toThrow('Invalid config at "warren:stage": expected development or production, received "prod"');
  });

  it('rejects an unknown broker deployment mode, naming the key and the choices', () => {
    expect(() => contextOptions(new App({ context: { 'warren:brokerDeploymentMode': 'ACTIVE_STANDBY_MULTI_AZ' } }).node))
      .toThrow('Invalid config at "warren:brokerDeploymentMode": expected SINGLE_INSTANCE or CLUSTER_MULTI_AZ, received "ACTIVE_STANDBY_MULTI_AZ"');
  });
});
