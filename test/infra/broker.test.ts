/** WarrenBroker alone (no functions, so no bundling): deployment mode, maintenance window, console URL, validation. */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { describe, expect, it } from 'vitest';
import { WarrenBroker, type WarrenBrokerProps } from '../../lib/WarrenBroker.js';

function broker(props: Partial<WarrenBrokerProps> = {}): { stack: Stack; broker: WarrenBroker } {
  const stack = new Stack(new App(), 'B');
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 3, natGateways: 0, subnetConfiguration: [{ name: 'p', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  return { stack, broker: new WarrenBroker(stack, 'Broker', { vpc, subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }, ...props }) };
}

describe('Class: WarrenBroker', () => {
  it('defaults to one instance in one subnet with a Sunday 03:00 UTC maintenance window', () => {
    const { stack } = broker();
    const [resource] = Object.values(Template.fromStack(stack).findResources('AWS::AmazonMQ::Broker'));
    const props = resource?.Properties as { DeploymentMode: string; SubnetIds: unknown[]; MaintenanceWindowStartTime: unknown };
    expect(props.DeploymentMode).toBe('SINGLE_INSTANCE');
    expect(props.SubnetIds).toHaveLength(1);
    expect(props.MaintenanceWindowStartTime).toEqual({ DayOfWeek: 'SUNDAY', TimeOfDay: '03:00', TimeZone: 'UTC' });
  });

  it('spreads a CLUSTER_MULTI_AZ broker over the private subnets of every zone', () => {
    const { stack } = broker({ deploymentMode: 'CLUSTER_MULTI_AZ', maintenanceWindow: { dayOfWeek: 'TUESDAY', timeOfDay: '04:30' } });
    const [resource] = Object.values(Template.fromStack(stack).findResources('AWS::AmazonMQ::Broker'));
    const props = resource?.Properties as { DeploymentMode: string; SubnetIds: { Ref: string }[]; MaintenanceWindowStartTime: unknown };
    expect(props.DeploymentMode).toBe('CLUSTER_MULTI_AZ');
    expect(props.SubnetIds.length).toBeGreaterThanOrEqual(2);
    expect(props.MaintenanceWindowStartTime).toEqual({ DayOfWeek: 'TUESDAY', TimeOfDay: '04:30', TimeZone: 'UTC' });
  });

  it('rejects a malformed maintenance window, naming the context key and the format', () => {
    expect(() => broker({ maintenanceWindow: { dayOfWeek: 'SUNDAY', timeOfDay: '25:00' } }))
      .toThrow('Invalid config at "warren:brokerMaintenanceWindow": expected "<DAY> HH:MM" in UTC such as "SUNDAY 03:00", received "SUNDAY 25:00"');
  });

  it('derives the console URL of an imported broker from its AMQPS endpoint, and rejects a non-AMQPS one', () => {
    const existing = { brokerArn: 'arn:aws:mq:eu-west-1:111122223333:broker:shop:b-1234abcd-56ef', secretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:b-AbCdEf', amqpsEndpoint: 'amqps://b-1234abcd.mq.eu-west-1.amazonaws.com:5671' };
    expect(broker({ existing }).broker.consoleUrl).toBe('https://b-1234abcd.mq.eu-west-1.amazonaws.com');
    expect(() => broker({ existing: { ...existing, amqpsEndpoint: 'amqp://b:5672' } }))
      .toThrow('Invalid config at "warren:brokerAmqpsEndpoint": expected amqps://<host>:5671, received "amqp://b:5672"; use the broker\'s AMQP endpoint');
  });
});

describe('Class: WarrenBroker, message size', () => {
  it('gives a RabbitMQ 4 broker a configuration with max_message_size = 4715520, so a publisher gets an error instead of Lambda dropping the message', () => {
    const { stack, broker: created } = broker();
    const template = Template.fromStack(stack);
    const configurations = Object.entries(template.findResources('AWS::AmazonMQ::Configuration'));
    expect(configurations).toHaveLength(1);
    const [logicalId, configuration] = configurations[0]!;
    const props = configuration.Properties as { EngineType: string; EngineVersion: string; Data: string };
    expect(props.EngineType).toBe('RABBITMQ');
    expect(props.EngineVersion).toBe('4.2');
    expect(Buffer.from(props.Data, 'base64').toString('utf8')).toBe('max_message_size = 4715520\n');
    const [brokerResource] = Object.values(template.findResources('AWS::AmazonMQ::Broker'));
    expect((brokerResource?.Properties as { Configuration: unknown }).Configuration).toEqual({
      Id: { 'Fn::GetAtt': [logicalId, 'Id'] },
      Revision: { 'Fn::GetAtt': [logicalId, 'Revision'] },
    });
    expect(created.maxMessageSize).toBe(4_715_520);
  });

  it('sets no configuration on RabbitMQ 3.13 (Amazon MQ takes no resource-limit overrides there) nor on an imported broker', () => {
    const { stack, broker: old } = broker({ engineVersion: '3.13' });
    expect(Object.keys(Template.fromStack(stack).findResources('AWS::AmazonMQ::Configuration'))).toHaveLength(0);
    expect((Object.values(Template.fromStack(stack).findResources('AWS::AmazonMQ::Broker'))[0]?.Properties as { Configuration?: unknown }).Configuration).toBeUndefined();
    expect(old.maxMessageSize).toBeUndefined();
    const existing = { brokerArn: 'arn:aws:mq:eu-west-1:111122223333:broker:shop:b-1234abcd-56ef', secretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:b-AbCdEf', amqpsEndpoint: 'amqps://b-1234abcd.mq.eu-west-1.amazonaws.com:5671' };
    expect(broker({ existing }).broker.maxMessageSize).toBeUndefined();
  });
});
