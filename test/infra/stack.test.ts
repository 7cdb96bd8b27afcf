import { Match, Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig, type ResolvedConfig } from '../../runtime/config.js';
import { createWarrenApp } from '../../lib/app.js';
import type { WarrenStack } from '../../lib/WarrenStack.js';

const root = resolve(import.meta.dirname, '../..');
const config: ResolvedConfig = resolveConfig({
  handlers: [
    { name: 'orders', entry: 'functions/orders.ts', queue: 'orders', batchSize: 50, batchingWindowSeconds: 2, concurrency: 4, timeoutSeconds: 30, publishes: [{ exchange: 'orders.events', type: 'topic' }] },
    { name: 'audit', entry: 'functions/orders.ts', queue: 'audit-events', vhost: 'jobs', batchSize: 10, concurrency: 2 },
  ],
});

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

let stack: WarrenStack;
let template: Template;
let synthMs = 0;

beforeAll(async () => {
  const started = Date.now();
  ({ stack } = await createWarrenApp({ projectRoot: root, config, nag: true, context: { 'warren:maxConnections': '100' } }));
  template = Template.fromStack(stack);
  synthMs = Date.now() - started;
  console.log(`synth with bundling and cdk-nag: ${synthMs} ms`);
});

function functionLogicalId(handler: string): string {
  const fns = template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { WARREN_HANDLER: handler } } } });
  const ids = Object.keys(fns);
  expect(ids).toHaveLength(1);
  return ids[0] as string;
}

describe('WarrenStack: triggers', () => {
  it('creates one trigger per shard queue with the batch size, window, BASIC_AUTH and VIRTUAL_HOST', () => {
    const secretRef = { Ref: Match.stringLikeRegexp('^BrokerSecret') };
    for (let i = 0; i < 4; i += 1) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        Queues: [`orders.${i}`],
        BatchSize: 50,
        MaximumBatchingWindowInSeconds: 2,
        Enabled: true,
        EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Broker[0-9A-F]{8}$'), 'Arn'] },
        FunctionName: { 'Fn::GetAtt': [functionLogicalId('orders'), 'Arn'] },
        SourceAccessConfigurations: [{ Type: 'BASIC_AUTH', URI: secretRef }, { Type: 'VIRTUAL_HOST', URI: '/' }],
      });
    }
    for (let i = 0; i < 2; i += 1) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        Queues: [`audit-events.${i}`],
        BatchSize: 10,
        MaximumBatchingWindowInSeconds: Match.absent(), // the config's default is Lambda's own (500 ms)
        SourceAccessConfigurations: [{ Type: 'BASIC_AUTH', URI: secretRef }, { Type: 'VIRTUAL_HOST', URI: 'jobs' }],
      });
    }
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 6);
  });

  it('creates triggers only after the topology custom resource and the role policy', () => {
    const triggers = template.findResources('AWS::Lambda::EventSourceMapping');
    const topologyId = Object.keys(template.findResources('Custom::WarrenTopology'))[0];
    for (const trigger of Object.values(triggers)) {
      expect(trigger.DependsOn).toEqual(expect.arrayContaining([topologyId, expect.stringMatching(/FunctionRoleDefaultPolicy/)]));
    }
  });

  it('passes every handler config to the topology custom resource with the broker endpoint and secret', () => {
    const [resource] = Object.values(template.findResources('Custom::WarrenTopology'));
    const props = resource?.Properties as { Handlers: string; BrokerEndpoint: unknown; SecretArn: unknown };
    expect(JSON.parse(props.Handlers)).toEqual(config.handlers);
    expect(props.BrokerEndpoint).toEqual({ 'Fn::Select': [0, { 'Fn::GetAtt': [expect.stringMatching(/^Broker[0-9A-F]{8}$/), 'AmqpEndpoints'] }] });
    expect(props.SecretArn).toEqual({ Ref: expect.stringMatching(/^BrokerSecret/) });
  });
});

describe('WarrenStack: functions', () => {
  it('runs each handler on Node.js 22, arm64, in the VPC, with the timeout and the expected environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 30,
      VpcConfig: { SubnetIds: Match.anyValue(), SecurityGroupIds: Match.anyValue() },
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^HandlerordersFunctionLogs') } },
      Environment: {
        Variables: {
          NODE_OPTIONS: '--enable-source-maps',
          WARREN_HANDLER: 'orders',
          WARREN_DLQ_URL: { Ref: Match.stringLikeRegexp('^HandlerordersDeadLetterQueue') },
          WARREN_DB_HOST: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseProxy'), 'Endpoint'] },
          WARREN_DB_PORT: '3306',
          WARREN_DB_USER: 'warren',
          WARREN_DB_NAME: 'warren',
          WARREN_DB_IAM_AUTH: 'true',
          WARREN_DB_TLS: 'true',
        },
      },
    });
  });

  it('tells a handler that publishes where the broker and its secret are, and only that handler', () => {
    // the one broker of the stack, and the generated secret its user's password comes from
    const brokers = template.findResources('AWS::AmazonMQ::Broker');
    expect(Object.keys(brokers)).toEqual(['Broker9AB50882']);
    expect(JSON.stringify(brokers.Broker9AB50882)).toContain('BrokerSecret449037E1');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          WARREN_HANDLER: 'orders',
          WARREN_AMQP_ENDPOINT: { 'Fn::Select': [0, { 'Fn::GetAtt': ['Broker9AB50882', 'AmqpEndpoints'] }] },
          WARREN_AMQP_SECRET_ARN: { Ref: 'BrokerSecret449037E1' },
          WARREN_AMQP_VHOST: '/',
        },
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { WARREN_HANDLER: 'audit', WARREN_AMQP_ENDPOINT: Match.absent() } },
    });
  });

  it('runs the outbox relay every minute, one at a time, for the handlers that publish', () => {
    const relays = template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { WARREN_HANDLER: 'outbox-relay' } } } });
    expect(Object.keys(relays)).toHaveLength(1);
    const [id, relay] = Object.entries(relays)[0]!;
    const props = (relay as { Properties: { ReservedConcurrentExecutions: number; Environment: { Variables: Record<string, unknown> } } }).Properties;
    expect(props.ReservedConcurrentExecutions).toBe(1);
    expect(JSON.parse(String(props.Environment.Variables.WARREN_RELAY_HANDLERS))).toEqual([{ name: 'orders', vhost: '/' }]);
    expect(props.Environment.Variables).toMatchObject({ WARREN_DB_IAM_AUTH: 'true', WARREN_AMQP_ENDPOINT: expect.anything(), WARREN_AMQP_SECRET_ARN: expect.anything() });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [id, 'Arn'] } })],
    });
  });

  it('gives every function log group a retention', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThanOrEqual(4);
    for (const group of groups) expect(group.Properties?.RetentionInDays).toBe(30);
  });
});

describe('WarrenStack: database and broker', () => {
  it('puts RDS Proxy in front of the database with TLS required, IAM auth and the configured share of connections', () => {
    template.hasResourceProperties('AWS::RDS::DBProxy', {
      EngineFamily: 'MYSQL',
      RequireTLS: true,
      Auth: [Match.objectLike({ AuthScheme: 'SECRETS', IAMAuth: 'REQUIRED' })],
    });
    template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', {
      ConnectionPoolConfigurationInfo: Match.objectLike({ MaxConnectionsPercent: 90 }),
    });
    template.hasResourceProperties('AWS::RDS::DBParameterGroup', { Parameters: { max_connections: '100' } });
    template.hasResourceProperties('AWS::RDS::DBInstance', { StorageEncrypted: true, EnableIAMDatabaseAuthentication: true, PubliclyAccessible: false });
  });

  it('creates a private RabbitMQ broker whose user comes from a generated secret', () => {
    template.hasResourceProperties('AWS::AmazonMQ::Broker', {
      EngineType: 'RABBITMQ',
      PubliclyAccessible: false,
      DeploymentMode: 'SINGLE_INSTANCE',
      Users: [{ Username: 'warren', Password: Match.anyValue() }],
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"warren"}', GenerateStringKey: 'password' }),
    });
  });
});

describe('WarrenStack: dead-letter queues and grants', () => {
  it('creates an encrypted dead-letter queue with 14-day retention per handler', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.allResourcesProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
  });

  it('grants each handler role exactly send on its DLQ, rds-db:connect as its user, DescribeBroker and the broker secret', () => {
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^HandlerordersFunctionRole') }] } });
    const statements = Object.values(policies).flatMap((p) => (p.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement);
    const byAction = (action: string) => statements.filter((s) => ([] as string[]).concat(s.Action).includes(action));
    expect(byAction('sqs:SendMessage')[0]?.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^HandlerordersDeadLetterQueue/), 'Arn'] });
    expect(JSON.stringify(byAction('rds-db:connect')[0]?.Resource)).toMatch(/:dbuser:.*DatabaseProxy.*\/warren"/);
    expect(byAction('mq:DescribeBroker')[0]?.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Broker[0-9A-F]{8}$/), 'Arn'] });
    expect(byAction('secretsmanager:GetSecretValue')[0]?.Resource).toEqual({ Ref: expect.stringMatching(/^BrokerSecret/) });
    expect(byAction('logs:PutLogEvents')[0]?.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^HandlerordersFunctionLogs/), 'Arn'] });
  });

  it('uses no wildcard action anywhere and a wildcard resource only for the EC2 actions AWS cannot scope', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => (p.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement);
    expect(statements.length).toBeGreaterThan(5);
    for (const s of statements) {
      for (const action of ([] as string[]).concat(s.Action)) expect(action).not.toMatch(/\*/);
      if (s.Resource === '*') {
        for (const action of ([] as string[]).concat(s.Action)) expect(action).toMatch(/^ec2:(CreateNetworkInterface|DeleteNetworkInterface|Describe(NetworkInterfaces|Subnets|SecurityGroups|Vpcs)|(Assign|Unassign)PrivateIpAddresses)$/);
      }
    }
    template.resourcePropertiesCountIs('AWS::IAM::Role', { ManagedPolicyArns: Match.anyValue() }, 1); // only the CDK Provider framework's
  });
});

describe('WarrenStack: alarms', () => {
  it('alarms when a DLQ is not empty, a function errors, a shard has no consumer, the proxy nears its budget or pins sessions', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible', Namespace: 'AWS/SQS', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'AWS/Lambda', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    for (const queue of ['orders.0', 'orders.3', 'audit-events.1']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ConsumerCount',
        Namespace: 'AWS/AmazonMQ',
        Dimensions: Match.arrayWith([{ Name: 'Queue', Value: queue }]),
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
      });
    }
    // Budget: floor(100 * 90%) = 90; alarm above 80% of it = 72.
    expect(stack.budget.limit).toBe(90);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ClientConnections', Namespace: 'AWS/RDS', Threshold: 72, ComparisonOperator: 'GreaterThanThreshold' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'DatabaseConnectionsCurrentlySessionPinned', Namespace: 'AWS/RDS', Threshold: 0 });
    // 2 handlers x (DLQ + errors) + 6 shards + 2 proxy alarms
    template.resourceCountIs('AWS::CloudWatch::Alarm', 12);
  });
});

describe('WarrenStack: cdk-nag', () => {
  it('synthesises with AwsSolutionsChecks and no unacknowledged finding', () => {
    const assembly = stack.node.root as import('aws-cdk-lib').App;
    expect(() => assembly.synth({ force: true })).not.toThrow();
  });

  it('fails synth on an unacknowledged finding, so the check above is live', () => {
    const assembly = stack.node.root as import('aws-cdk-lib').App;
    new Queue(stack, 'UnencryptedProbe'); // no enforceSSL: AwsSolutions-SQS4
    expect(() => assembly.synth({ force: true })).toThrow(/AwsSolutions-SQS4/);
  });
});
