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
    expect(() => contextOptions(app.node)).toThrow('Context: importing an existing broker needs warren:brokerArn, warren:brokerSecretArn, warren:brokerAmqpsEndpoint; missing warren:brokerSecretArn, warren:brokerAmqpsEndpoint');
  });

  it('requires the VPC of an imported broker', () => {
    const { 'warren:vpcId': _v, 'warren:availabilityZones': _a, 'warren:privateSubnetIds': _s, ...brokerOnly } = IMPORTS;
    expect(() => contextOptions(new App({ context: brokerOnly }).node)).toThrow('Context: an imported broker (warren:brokerArn) needs its VPC: set warren:vpcId, warren:availabilityZones and warren:privateSubnetIds');
  });

  it('rejects a value that is not a number, naming the key', () => {
    expect(() => contextOptions(new App({ context: { 'warren:maxConnections': 'lots' } }).node)).toThrow('Context warren:maxConnections: expected a number, received "lots"');
  });
});
