import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig, type ResolvedConfig } from '../../config/config.js';
import { createWarrenApp } from '../../lib/app.js';
import type { WarrenStack } from '../../lib/WarrenStack.js';
import { relayTargets } from '../../lib/WarrenOutboxRelay.js';

/** The example app (a team's project): the stack's `projectRoot`. */
const root = resolve(import.meta.dirname, '../../examples/orders');
const config: ResolvedConfig = resolveConfig({
  handlers: [
    { name: 'orders', entry: 'functions/orders.ts', queue: 'orders', batchSize: 50, batchingWindowSeconds: 2, concurrency: 4, timeoutSeconds: 30, publishes: [{ exchange: 'orders.events', type: 'topic' }] },
    { name: 'audit', entry: 'functions/orders.ts', queue: 'audit-events', vhost: 'jobs', batchSize: 10, concurrency: 2 },
  ],
});

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

let stack: WarrenStack;
/** The parent stack's template (shared parts) and the handlers' nested stack template. */
let template: Template;
let handlers: Template;
let synthMs = 0;

beforeAll(async () => {
  const started = Date.now();
  ({ stack } = await createWarrenApp({ projectRoot: root, config: { ...config, migrations: ['functions/schema.sql'] }, nag: true, context: { 'warren:maxConnections': '100' } }));
  template = Template.fromStack(stack);
  handlers = Template.fromStack(stack.handlerGroups[0]!);
  synthMs = Date.now() - started;
  console.log(`synth with bundling and cdk-nag: ${synthMs} ms`);
});

function functionLogicalId(handler: string, t: Template = handlers): string {
  const fns = t.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { WARREN_HANDLER: handler } } } });
  const ids = Object.keys(fns);
  expect(ids).toHaveLength(1);
  return ids[0] as string;
}

describe('WarrenStack: triggers', () => {
  it('creates one trigger per shard queue with the batch size, window, BASIC_AUTH and VIRTUAL_HOST', () => {
    const secretRef = { Ref: Match.stringLikeRegexp('BrokerUserSecret') }; // the application user's, not the administrator's
    for (let i = 0; i < 4; i += 1) {
      handlers.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        Queues: [`orders.${i}`],
        BatchSize: 50,
        MaximumBatchingWindowInSeconds: 2,
        Enabled: true,
        EventSourceArn: { Ref: Match.stringLikeRegexp('Broker[0-9A-F]{8}Arn') },
        FunctionName: { 'Fn::GetAtt': [functionLogicalId('orders'), 'Arn'] },
        SourceAccessConfigurations: [{ Type: 'BASIC_AUTH', URI: secretRef }, { Type: 'VIRTUAL_HOST', URI: '/' }],
      });
    }
    for (let i = 0; i < 2; i += 1) {
      handlers.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        Queues: [`audit-events.${i}`],
        BatchSize: 10,
        MaximumBatchingWindowInSeconds: Match.absent(), // the config's default is Lambda's own (500 ms)
        SourceAccessConfigurations: [{ Type: 'BASIC_AUTH', URI: secretRef }, { Type: 'VIRTUAL_HOST', URI: 'jobs' }],
      });
    }
    handlers.resourceCountIs('AWS::Lambda::EventSourceMapping', 6);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
  });

  it('creates the handlers (and so their triggers) only after the topology and migrations custom resources', () => {
    const topologyId = Object.keys(template.findResources('Custom::WarrenTopology'))[0];
    const migrationsId = Object.keys(template.findResources('Custom::WarrenMigrations'))[0];
    const nested = Object.values(template.findResources('AWS::CloudFormation::Stack'));
    expect(nested).toHaveLength(1);
    expect(nested[0]?.DependsOn).toEqual(expect.arrayContaining([topologyId, migrationsId]));
    for (const trigger of Object.values(handlers.findResources('AWS::Lambda::EventSourceMapping'))) {
      expect(trigger.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/FunctionRoleDefaultPolicy/)]));
    }
  });

  it('gives the nested stack one teardown resource between all its handlers\' roles and all their triggers, so removing a handler waits for its pollers\' interfaces', () => {
    const teardowns = handlers.findResources('Custom::WarrenTriggerTeardown');
    expect(Object.keys(teardowns)).toEqual([expect.stringMatching(/^TriggerTeardown[0-9A-F]{8}$/)]);
    const [teardownId, teardown] = Object.entries(teardowns)[0]!;
    // deleted before every role and its policy (it depends on them) ...
    for (const name of ['orders', 'audit']) {
      expect(teardown.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^Handler${name}FunctionRole[0-9A-F]{8}$`)), expect.stringMatching(new RegExp(`^Handler${name}FunctionRoleDefaultPolicy`))]));
    }
    // ... and after every trigger (they depend on it)
    const triggers = Object.values(handlers.findResources('AWS::Lambda::EventSourceMapping'));
    expect(triggers).toHaveLength(6);
    for (const trigger of triggers) expect(trigger.DependsOn).toContain(teardownId);
    expect((teardown.Properties as { BrokerArn: unknown }).BrokerArn).toEqual({ Ref: expect.stringMatching(/Broker[0-9A-F]{8}Arn/) });
    template.hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['ec2:DescribeNetworkInterfaces', 'lambda:ListEventSourceMappings'], Resource: '*' })]) } });
  });

  it('gives the nested stack one drain resource listing every shard, which every trigger depends on, so lowering concurrency deletes the trigger first and then drains the shard', () => {
    const drains = handlers.findResources('Custom::WarrenShardDrain');
    expect(Object.keys(drains)).toEqual([expect.stringMatching(/^ShardDrain[0-9A-F]{8}$/)]);
    const [drainId, drain] = Object.entries(drains)[0]!;
    const props = drain.Properties as { Shards: string; AppUser: string };
    expect(JSON.parse(props.Shards)).toEqual([{ vhost: '/', exchange: 'orders', concurrency: 4 }, { vhost: 'jobs', exchange: 'audit-events', concurrency: 2 }]);
    expect(props.AppUser).toBe('warren_app');
    for (const trigger of Object.values(handlers.findResources('AWS::Lambda::EventSourceMapping'))) expect(trigger.DependsOn).toContain(drainId);
    // the same generation in both logical ids: they change together when a handler or a shard goes
    expect(drainId.replace('ShardDrain', '')).toBe(Object.keys(handlers.findResources('Custom::WarrenTriggerTeardown'))[0]!.replace('TriggerTeardown', ''));
    // the broker settings reach the drains through the topology function's environment, resolved in the parent stack
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ WARREN_BROKER_ENDPOINT: Match.anyValue(), WARREN_BROKER_CONSOLE_URL: Match.anyValue(), WARREN_BROKER_SECRET_ARN: Match.anyValue() }) } });
  });

  it('passes every handler config to the topology custom resource with the broker endpoint and secret', () => {
    const [resource] = Object.values(template.findResources('Custom::WarrenTopology'));
    const props = resource?.Properties as { Handlers: string; BrokerEndpoint: unknown; SecretArn: unknown };
    expect(JSON.parse(props.Handlers)).toEqual(config.handlers);
    expect(props.BrokerEndpoint).toEqual({ 'Fn::Select': [0, { 'Fn::GetAtt': [expect.stringMatching(/^Broker[0-9A-F]{8}$/), 'AmqpEndpoints'] }] });
    expect(JSON.stringify((resource?.Properties as { ConsoleUrl: unknown }).ConsoleUrl)).toContain('https://');
    expect(props.SecretArn).toEqual({ Ref: expect.stringMatching(/^BrokerSecret/) });
  });
});

describe('WarrenStack: functions', () => {
  it('runs each handler on Node.js 22, arm64, in the VPC, with the timeout and the expected environment', () => {
    handlers.hasResourceProperties('AWS::Lambda::Function', {
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
          WARREN_DB_HOST: { Ref: Match.stringLikeRegexp('DatabaseProxy.*Endpoint') },
          WARREN_DB_PORT: '3306',
          WARREN_DB_USER: 'warren_app', // the application user (DML only), not the master user
          WARREN_DB_NAME: 'warren',
          WARREN_DB_IAM_AUTH: 'true',
          WARREN_DB_TLS: 'true',
        },
      },
    });
  });

  it('tells a handler that publishes where the broker and the application user\'s secret are, and only that handler', () => {
    // the one broker of the parent stack, and the generated secret its administrator's password comes from
    const brokers = template.findResources('AWS::AmazonMQ::Broker');
    expect(Object.keys(brokers)).toEqual(['Broker9AB50882']);
    expect(JSON.stringify(brokers.Broker9AB50882)).toContain('BrokerSecret449037E1');
    // the nested handler stack receives the broker's endpoints and the application user's secret (not the administrator's)
    const [nested] = Object.values(template.findResources('AWS::CloudFormation::Stack'));
    // the endpoint is selected from the broker's AmqpEndpoints list in the parent and passed as a string: a list
    // cannot cross into a nested stack (cfn-lint E1020 on a Fn::Select of the String parameter)
    const parameters = (nested?.Properties as { Parameters: Record<string, unknown> }).Parameters;
    expect(parameters).toMatchObject({
      BrokerAmqpsEndpoint: { 'Fn::Select': [0, { 'Fn::GetAtt': ['Broker9AB50882', 'AmqpEndpoints'] }] },
      referencetoWarrenBrokerUserSecretF9B1E562Ref: { Ref: 'BrokerUserSecretB69A2C4C' },
    });
    expect(Object.keys(parameters).filter((k) => k.includes('AmqpEndpoints'))).toEqual([]);
    handlers.hasParameter('BrokerAmqpsEndpoint', { Type: 'String' });
    handlers.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          WARREN_HANDLER: 'orders',
          WARREN_AMQP_ENDPOINT: { Ref: 'BrokerAmqpsEndpoint' },
          WARREN_AMQP_SECRET_ARN: { Ref: 'referencetoWarrenBrokerUserSecretF9B1E562Ref' },
          WARREN_AMQP_VHOST: '/',
        },
      },
    });
    handlers.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { WARREN_HANDLER: 'audit', WARREN_AMQP_ENDPOINT: Match.absent() } },
    });
  });

  it('runs the outbox relay every minute without reserved concurrency (which can fail the deploy) and without async retries', () => {
    const relays = template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { WARREN_HANDLER: 'outbox-relay' } } } });
    expect(Object.keys(relays)).toHaveLength(1);
    const [id, relay] = Object.entries(relays)[0]!;
    const props = (relay as { Properties: { ReservedConcurrentExecutions?: number; Environment: { Variables: Record<string, unknown> } } }).Properties;
    expect(props.ReservedConcurrentExecutions).toBeUndefined();
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: id }, MaximumRetryAttempts: 0 });
    // The handler list is compiled into the bundle (too large for environment variables with many publishers).
    expect(props.Environment.Variables.WARREN_RELAY_HANDLERS).toBeUndefined();
    expect(relayTargets(config.handlers.filter((h) => h.publishes.length > 0))).toEqual([{ name: 'orders', vhost: '/', minAgeMs: 40_000 }]); // its timeoutSeconds 30 + 10 s
    expect(props.Environment.Variables).toMatchObject({ WARREN_DB_IAM_AUTH: 'true', WARREN_AMQP_ENDPOINT: expect.anything(), WARREN_AMQP_SECRET_ARN: expect.anything() });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [id, 'Arn'] } })],
    });
  });

  it('compiles the relay\'s handler list and the monitor\'s queue list into their bundles', () => {
    const assembly = (stack.node.root as import('aws-cdk-lib').App).synth();
    const bundleOf = (props: object) => {
      const [fn] = Object.values(template.findResources('AWS::Lambda::Function', { Properties: props }));
      const key = String((fn?.Properties as { Code: { S3Key: string } }).Code.S3Key).replace(/\.zip$/, '');
      return readFileSync(join(assembly.directory, `asset.${key}`, 'index.js'), 'utf8');
    };
    expect(bundleOf({ Environment: { Variables: { WARREN_HANDLER: 'outbox-relay' } } })).toContain('[{"name":"orders","vhost":"/","minAgeMs":40000}]');
    expect(bundleOf({ Description: Match.stringLikeRegexp('^Warren broker monitor') })).toContain('[{"handler":"orders","vhost":"/","queue":"orders","shards":4},{"handler":"audit","vhost":"jobs","queue":"audit-events","shards":2}]');
  });

  it('gives every function log group a retention', () => {
    const groups = [...Object.values(template.findResources('AWS::Logs::LogGroup')), ...Object.values(handlers.findResources('AWS::Logs::LogGroup'))];
    expect(groups.length).toBeGreaterThanOrEqual(8);
    for (const group of groups) expect(group.Properties?.RetentionInDays).toBe(30);
  });
});

describe('WarrenStack: database and broker', () => {
  it('puts RDS Proxy in front of the database with TLS required, IAM auth and the configured share of connections', () => {
    template.hasResourceProperties('AWS::RDS::DBProxy', {
      EngineFamily: 'MYSQL',
      RequireTLS: true,
      // the master user's secret and the application user's
      Auth: [Match.objectLike({ AuthScheme: 'SECRETS', IAMAuth: 'REQUIRED' }), Match.objectLike({ AuthScheme: 'SECRETS', IAMAuth: 'REQUIRED' })],
    });
    template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', {
      ConnectionPoolConfigurationInfo: Match.objectLike({ MaxConnectionsPercent: 90 }),
    });
    template.hasResourceProperties('AWS::RDS::DBParameterGroup', { Family: 'mysql8.4', Parameters: { max_connections: '100', slow_query_log: '1', long_query_time: '1', log_output: 'FILE' } });
    template.hasResourceProperties('AWS::RDS::DBInstance', { StorageEncrypted: true, EnableIAMDatabaseAuthentication: true, PubliclyAccessible: false });
  });

  it('runs MySQL 8.4.9 (a full version cfn-lint knows) on 20 GiB of gp3 without paid Extended Support, exporting error and slow query logs kept 30 days', () => {
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'mysql',
      EngineVersion: '8.4.9',
      AllocatedStorage: '20',
      EngineLifecycleSupport: 'open-source-rds-extended-support-disabled',
      StorageType: 'gp3',
      EnableCloudwatchLogsExports: ['error', 'slowquery'],
    });
    template.hasResourceProperties('Custom::LogRetention', { LogGroupName: Match.anyValue(), RetentionInDays: 30 });
  });

  it('admits the proxy on the database port with one rule only (CDK\'s proxy target adds it)', () => {
    const rules = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress'))
      .filter((r) => JSON.stringify(r.Properties).includes('DatabaseInstanceSecurityGroup') && JSON.stringify(r.Properties).includes('ProxySecurityGroup'));
    expect(rules).toHaveLength(1);
  });

  it('admits AMQPS (5671) and the management API (443) on the broker from the functions\' shared security group', () => {
    const fnSg = { 'Fn::GetAtt': [Match.stringLikeRegexp('^FunctionsSecurityGroup'), 'GroupId'] };
    const brokerSg = { 'Fn::GetAtt': [Match.stringLikeRegexp('^BrokerSecurityGroup'), 'GroupId'] };
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { IpProtocol: 'tcp', FromPort: 5671, ToPort: 5671, GroupId: brokerSg, SourceSecurityGroupId: fnSg });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, GroupId: brokerSg, SourceSecurityGroupId: fnSg });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('ProxySecurityGroup'), 'GroupId'] }, SourceSecurityGroupId: fnSg });
    // Handlers and relay run in that group, so ctx.publish and the relay reach the broker.
    handlers.hasResourceProperties('AWS::Lambda::Function', { VpcConfig: { SecurityGroupIds: [{ Ref: Match.stringLikeRegexp('FunctionsSecurityGroup') }] } });
    handlers.resourceCountIs('AWS::EC2::SecurityGroup', 0);
  });

  it('runs the migrations custom resource through the proxy with IAM auth, re-run when the SQL hash changes', () => {
    const [resource] = Object.values(template.findResources('Custom::WarrenMigrations'));
    const props = resource?.Properties as { Files: string; Sha256: string };
    expect(JSON.parse(props.Files)).toEqual(['functions/schema.sql']);
    expect(props.Sha256).toMatch(/^[0-9a-f]{64}$/);
    template.hasResourceProperties('AWS::Lambda::Function', { Description: 'Runs Warren migrations through RDS Proxy', Environment: { Variables: Match.objectLike({ WARREN_DB_IAM_AUTH: 'true', WARREN_DB_TLS: 'true' }) } });
  });

  it('runs the migrations only after the proxy\'s target group exists, with time to retry the connect inside the function timeout', () => {
    const [targetGroupId] = Object.keys(template.findResources('AWS::RDS::DBProxyTargetGroup'));
    const [migrations] = Object.values(template.findResources('Custom::WarrenMigrations'));
    expect(migrations?.DependsOn).toEqual(expect.arrayContaining([targetGroupId]));
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Description: 'Runs Warren migrations through RDS Proxy' } }));
    // 5 minutes of connect retries (lib/functions/migrationResource.ts) plus the last 10-second attempt, and time for the SQL.
    expect((fn?.Properties as { Timeout: number }).Timeout).toBeGreaterThanOrEqual(300 + 10 + 240);
  });

  it('outputs the AMQPS endpoint, console URL, broker secret, proxy endpoint, and each handler\'s DLQ URL in its nested stack', () => {
    for (const name of ['BrokerAmqpsEndpoint', 'BrokerConsoleUrl', 'BrokerSecretArn', 'ProxyEndpoint', 'HandlerStacks']) template.hasOutput(name, Match.anyValue());
    expect(Object.keys(handlers.findOutputs('*')).filter((k) => k.includes('DeadLetterQueueUrl'))).toHaveLength(2);
  });

  it('creates a private RabbitMQ broker whose user comes from a generated secret', () => {
    template.hasResourceProperties('AWS::AmazonMQ::Broker', {
      EngineType: 'RABBITMQ',
      PubliclyAccessible: false,
      DeploymentMode: 'SINGLE_INSTANCE',
      MaintenanceWindowStartTime: { DayOfWeek: 'SUNDAY', TimeOfDay: '03:00', TimeZone: 'UTC' },
      Users: [{ Username: 'warren', Password: Match.anyValue() }],
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"warren"}', GenerateStringKey: 'password' }),
    });
  });
});

describe('WarrenStack: dead-letter queues and grants', () => {
  it('creates an encrypted dead-letter queue with 14-day retention per handler', () => {
    handlers.resourceCountIs('AWS::SQS::Queue', 2);
    handlers.allResourcesProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
  });

  it('grants each handler role exactly send on its DLQ, rds-db:connect as the application user, DescribeBroker and the application broker secret', () => {
    const policies = handlers.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^HandlerordersFunctionRole') }] } });
    const statements = Object.values(policies).flatMap((p) => (p.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement);
    const byAction = (action: string) => statements.filter((s) => ([] as string[]).concat(s.Action).includes(action));
    expect(byAction('sqs:SendMessage')[0]?.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^HandlerordersDeadLetterQueue/), 'Arn'] });
    expect(JSON.stringify(byAction('rds-db:connect')[0]?.Resource)).toMatch(/:dbuser:.*DatabaseProxy.*\/warren_app"/);
    expect(byAction('mq:DescribeBroker')[0]?.Resource).toEqual({ Ref: expect.stringMatching(/Broker[0-9A-F]{8}Arn/) });
    expect(byAction('secretsmanager:GetSecretValue')[0]?.Resource).toEqual({ Ref: expect.stringMatching(/BrokerUserSecret/) });
    expect(byAction('logs:PutLogEvents')[0]?.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^HandlerordersFunctionLogs/), 'Arn'] });
  });

  it('uses no wildcard action anywhere and a wildcard resource only for the EC2 and Lambda actions AWS cannot scope', () => {
    // CDK's LogRetention function (retention of the log groups RDS creates) is CDK's own and acknowledged; all others:
    const ours = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) => !id.startsWith('LogRetention')).map(([, p]) => p);
    const statements = [...ours, ...Object.values(handlers.findResources('AWS::IAM::Policy'))]
      .flatMap((p) => (p.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement);
    expect(statements.length).toBeGreaterThan(5);
    for (const s of statements) {
      for (const action of ([] as string[]).concat(s.Action)) expect(action).not.toMatch(/\*/);
      if (s.Resource === '*') {
        // logs:*LogDelivery and friends: the asynchronous providers' waiter state machines log to CloudWatch Logs, and
        // those vended-log actions take no resource (Step Functions Developer Guide, "Using CloudWatch Logs to log
        // execution history in Step Functions": its IAM policy grants them on "*").
        for (const action of ([] as string[]).concat(s.Action)) expect(action).toMatch(/^(ec2:(CreateNetworkInterface|DeleteNetworkInterface|Describe(NetworkInterfaces|Subnets|SecurityGroups|Vpcs)|(Assign|Unassign)PrivateIpAddresses)|lambda:(ListEventSourceMappings|GetAccountSettings)|logs:(CreateLogDelivery|CreateLogStream|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutLogEvents|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups))$/);
      }
    }
    // only the CDK Provider frameworks' (topology, shard drain, broker user, migrations, trigger teardown, account
    // concurrency: 6 onEvent, plus isComplete and onTimeout for the two asynchronous ones) and CDK's LogRetention
    // function: Warren's own functions, the two outside the VPC included, are WarrenFunctions whose roles write only
    // to their own log group
    template.resourcePropertiesCountIs('AWS::IAM::Role', { ManagedPolicyArns: Match.anyValue() }, 11);
    handlers.resourcePropertiesCountIs('AWS::IAM::Role', { ManagedPolicyArns: Match.anyValue() }, 0);
  });

  it('runs the trigger-teardown and account-concurrency functions outside the VPC, each with a role of its own', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    for (const prefix of ['TriggerTeardownOnEvent', 'AccountConcurrencyOnEvent']) {
      const [id, fn] = Object.entries(functions).find(([logicalId]) => logicalId.startsWith(prefix)) ?? [];
      expect(id, prefix).toBeDefined();
      const props = fn!.Properties as { VpcConfig?: unknown; Role: { 'Fn::GetAtt': [string, string] }; Runtime: string; Architectures: string[] };
      expect(props.VpcConfig).toBeUndefined();
      expect(props.Runtime).toBe('nodejs22.x');
      expect(props.Architectures).toEqual(['arm64']);
      expect(props.Role['Fn::GetAtt'][0]).toMatch(new RegExp(`^${prefix}Role`));
    }
  });
});

describe('WarrenStack: alarms', () => {
  it('alarms per handler when its DLQ is not empty or its function errors, and has no per-queue alarm (RabbitMQ 4 has no per-queue metrics)', () => {
    handlers.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible', Namespace: 'AWS/SQS', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    handlers.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'AWS/Lambda', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    handlers.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    for (const t of [template, handlers]) {
      for (const alarm of Object.values(t.findResources('AWS::CloudWatch::Alarm'))) expect(JSON.stringify(alarm.Properties)).not.toContain('"Queue"');
    }
  });

  it('alarms when the broker has fewer consumers than the 6 triggers for 15 minutes, starting OK while a fresh broker reports nothing', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ConsumerCount', Namespace: 'AWS/AmazonMQ', Dimensions: [{ Name: 'Broker', Value: Match.anyValue() }], Statistic: 'Maximum', Period: 300,
      Threshold: 6, ComparisonOperator: 'LessThanThreshold', EvaluationPeriods: 3, TreatMissingData: 'notBreaching',
    });
  });

  it('alarms on dead letters the broker gave up on, shards without a consumer and a failing monitor, for this stack only', () => {
    const stack = { Ref: 'AWS::StackName' };
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'BrokerDeadLetters', Namespace: 'Warren', Dimensions: [{ Name: 'Stack', Value: stack }], Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ShardsWithoutConsumer', Namespace: 'Warren', Dimensions: [{ Name: 'Stack', Value: stack }], Threshold: 0, TreatMissingData: 'notBreaching' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'AWS/Lambda', Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^BrokerMonitorFunction') } }], EvaluationPeriods: 2, TreatMissingData: 'notBreaching' });
    template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('^Warren broker monitor'), Environment: { Variables: Match.objectLike({ WARREN_STACK_NAME: stack }) } });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
  });

  it('no alarm of the stack treats missing data as breaching, so a fresh deploy starts without alarms', () => {
    for (const t of [template, handlers]) {
      for (const alarm of Object.values(t.findResources('AWS::CloudWatch::Alarm'))) expect((alarm.Properties as { TreatMissingData: string }).TreatMissingData).toBe('notBreaching');
    }
  });

  it('alarms on the proxy borrow latency, and on sessions pinned 15 minutes in a row (a migration run pins its session briefly)', () => {
    // clients: orders 4 + 1, audit 2 + 1, relay 1, migrations 1, pruning 1
    expect(stack.budget).toMatchObject({ mode: 'multiplexed', clients: 11, databaseConnections: 90 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'DatabaseConnectionsBorrowLatency', Namespace: 'AWS/RDS', Statistic: 'Average', Threshold: 1_000_000, ComparisonOperator: 'GreaterThanThreshold' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'DatabaseConnectionsCurrentlySessionPinned', Namespace: 'AWS/RDS', Threshold: 0, Period: 60, EvaluationPeriods: 15 });
    // consumers + borrow latency + pinning + free storage + broker dead letters + shards without consumer + monitor failing
    template.resourceCountIs('AWS::CloudWatch::Alarm', 7);
  });
});

describe('WarrenStack: pruning and storage', () => {
  it('prunes every hour as the application user, with the config\'s retention, without reserved concurrency or async retries', () => {
    const id = functionLogicalId('prune', template);
    const fn = template.toJSON().Resources[id] as { Properties: { ReservedConcurrentExecutions?: number; Timeout: number; Environment: { Variables: Record<string, unknown> } } };
    expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
    expect(fn.Properties.Timeout).toBe(300);
    expect(fn.Properties.Environment.Variables).toMatchObject({ WARREN_PRUNE_RETENTION_DAYS: '7', WARREN_DB_USER: 'warren_app', WARREN_DB_IAM_AUTH: 'true', WARREN_DB_TLS: 'true' });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: id }, MaximumRetryAttempts: 0 });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)', Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [id, 'Arn'] } })] });
    // Its role: rds-db:connect as the application user, nothing of Secrets Manager or the broker.
    const roleId = (fn as unknown as { Properties: { Role: { 'Fn::GetAtt': [string, string] } } }).Properties.Role['Fn::GetAtt'][0];
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]));
    const actions = policies.flatMap((p) => (p.Properties.PolicyDocument.Statement as Statement[]).flatMap((st) => st.Action));
    expect(actions).toContain('rds-db:connect');
    expect(actions.filter((a) => /^(secretsmanager|mq):/.test(a))).toEqual([]);
    expect(JSON.stringify(policies)).toContain('/warren_app');
  });

  it('lets RDS grow the storage up to 100 GiB and alarms when under 2 GiB stay free for 15 minutes', () => {
    template.hasResourceProperties('AWS::RDS::DBInstance', { AllocatedStorage: '20', MaxAllocatedStorage: 100 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'FreeStorageSpace', Namespace: 'AWS/RDS', Statistic: 'Minimum', Period: 300, EvaluationPeriods: 3,
      Threshold: 2_147_483_648, ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'notBreaching',
    });
  });
});

describe('WarrenStack: first deploy', () => {
  it('checks the account\'s Lambda concurrency for 6 triggers + relay + pruning + monitor + 8 deploy-time + 2 headroom before the broker and the database', () => {
    template.hasResourceProperties('Custom::WarrenAccountConcurrency', { Required: '19', Triggers: '6' });
    const [checkId] = Object.keys(template.findResources('Custom::WarrenAccountConcurrency'));
    for (const type of ['AWS::AmazonMQ::Broker', 'AWS::RDS::DBInstance', 'AWS::RDS::DBProxy']) {
      for (const resource of Object.values(template.findResources(type))) expect(resource.DependsOn).toContain(checkId);
    }
    template.hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'lambda:GetAccountSettings', Resource: '*' })]) } });
  });

  it('prints the concurrency the app needs at synth', () => {
    const infos = Annotations.fromStack(stack).findInfo('/Warren', Match.stringLikeRegexp('needs 19 concurrent Lambda executions'));
    expect(infos.map((i) => i.entry.data)).toEqual(['Warren: this app needs 19 concurrent Lambda executions (6 MQ triggers + 1 outbox relay + 1 pruning + 1 broker monitor + 8 deploy-time custom resources + 2 headroom). Check the account\'s UnreservedConcurrentExecutions with `aws lambda get-account-settings` in the target region; the deploy fails early if it is lower.']);
  });

  it('development (the default): the database has no deletion protection and is deleted with the stack, so a failed first deploy rolls back to nothing', () => {
    template.hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete', Properties: Match.objectLike({ DeletionProtection: false }) });
    for (const [id, group] of Object.entries(template.findResources('AWS::Logs::LogGroup'))) expect([id, group.DeletionPolicy]).toEqual([id, 'Delete']);
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
