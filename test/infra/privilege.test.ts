/**
 * Least privilege in the synthesized templates (parent and nested handler stack): who may read the broker
 * administrator's secret and the database master secret, which database user each function may connect as
 * (`rds-db:connect`), which secret the MQ triggers log in with, and what the application broker user may do.
 * Nested-stack parameters are replaced by what the parent passes, so a reference reads the same in every template.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createWarrenApp } from '../../lib/app.js';
import type { WarrenStack } from '../../lib/WarrenStack.js';
import { resolveConfig } from '../../config/config.js';

/** The example app (a team's project): the stack's `projectRoot`. */
const root = resolve(import.meta.dirname, '../../examples/orders');
const config = resolveConfig({
  handlers: [
    { name: 'orders', entry: 'functions/orders.ts', queue: 'orders', concurrency: 2, publishes: [{ exchange: 'orders.events', type: 'topic' }] },
    { name: 'audit', entry: 'functions/orders.ts', queue: 'audit-events', vhost: 'jobs', concurrency: 1 },
  ],
});

type Resource = { Type: string; Properties?: Record<string, unknown>; DependsOn?: string[] };
type Statement = { Action: string | string[]; Resource: unknown };
/** Every resource of the parent and the nested stack, nested parameters replaced by the parent's values. */
let resources: Record<string, Resource>;
let stack: WarrenStack;

beforeAll(async () => {
  ({ stack } = await createWarrenApp({ projectRoot: root, config: { ...config, migrations: ['functions/schema.sql'] }, nag: true }));
  const parent = Template.fromStack(stack).toJSON() as { Resources: Record<string, Resource> };
  let nested = JSON.stringify(Template.fromStack(stack.handlerGroups[0]!).toJSON());
  const [, group] = Object.entries(parent.Resources).find(([, r]) => r.Type === 'AWS::CloudFormation::Stack') ?? [];
  for (const [name, value] of Object.entries((group?.Properties?.Parameters ?? {}) as Record<string, unknown>)) {
    nested = nested.split(JSON.stringify({ Ref: name })).join(JSON.stringify(value));
  }
  resources = { ...parent.Resources, ...(JSON.parse(nested) as { Resources: Record<string, Resource> }).Resources };
});

function logicalId(type: string, pathPart: RegExp): string {
  const ids = Object.keys(resources).filter((id) => resources[id]!.Type === type && pathPart.test(id));
  expect(ids, `${type} ${pathPart}`).toHaveLength(1);
  return ids[0]!;
}

/** Name of whatever uses a role: the function's description, or the role's logical id when no function uses it. */
function principal(roleId: string): string {
  const fn = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && JSON.stringify(r.Properties?.Role) === JSON.stringify({ 'Fn::GetAtt': [roleId, 'Arn'] }));
  return (fn?.Properties?.Description as string | undefined) ?? roleId;
}

/** Principals with a statement allowing `action` on a resource whose JSON contains one of `needles`. */
function allowed(action: string, needles: readonly string[]): string[] {
  const out = new Set<string>();
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    for (const st of (r.Properties!.PolicyDocument as { Statement: Statement[] }).Statement) {
      const actions = Array.isArray(st.Action) ? st.Action : [st.Action];
      if (!actions.includes(action)) continue;
      const json = JSON.stringify(st.Resource);
      if (!needles.some((n) => json.includes(`"${n}"`))) continue;
      for (const role of r.Properties!.Roles as { Ref: string }[]) out.add(principal(role.Ref));
    }
  }
  return [...out].sort();
}

/** `rds-db:connect` per principal: the database user at the end of each resource ARN. */
function connectUsers(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    for (const st of (r.Properties!.PolicyDocument as { Statement: Statement[] }).Statement) {
      const actions = Array.isArray(st.Action) ? st.Action : [st.Action];
      if (!actions.includes('rds-db:connect')) continue;
      const user = /"\/([^"]+)"\]\]\}$/.exec(JSON.stringify(st.Resource))?.[1] ?? JSON.stringify(st.Resource);
      for (const role of r.Properties!.Roles as { Ref: string }[]) (out[principal(role.Ref)] ??= []).push(user);
    }
  }
  return out;
}

describe('Least privilege: secrets', () => {
  it('lets only the topology and broker-user custom resources and the broker monitor read the broker administrator secret', () => {
    const admin = logicalId('AWS::SecretsManager::Secret', /^BrokerSecret/);
    expect(allowed('secretsmanager:GetSecretValue', [admin])).toEqual([
      'Creates the Warren application user on the broker (management API)',
      'Declares Warren shard topology on the broker',
      'Warren broker monitor: dead letters the broker gave up on, shards without a consumer',
    ]);
  });

  it('lets no function read the database master secret: only RDS Proxy\'s role does', () => {
    const master = logicalId('AWS::SecretsManager::Secret', /^WarrenDatabaseInstanceSecret/);
    const attachment = logicalId('AWS::SecretsManager::SecretTargetAttachment', /^DatabaseInstanceSecretAttachment/);
    const readers = allowed('secretsmanager:GetSecretValue', [master, attachment]);
    expect(readers).toHaveLength(1);
    expect(readers[0]).toMatch(/^DatabaseProxyIAMRole/);
  });

  it('gives the application broker secret to the handlers, the relay and the resource that creates the user', () => {
    const app = logicalId('AWS::SecretsManager::Secret', /^BrokerUserSecret/);
    expect(allowed('secretsmanager:GetSecretValue', [app])).toEqual([
      'Creates the Warren application user on the broker (management API)',
      'Warren handler audit (1 shard(s) of audit-events)',
      'Warren handler orders (2 shard(s) of orders)',
      'Warren outbox relay: publishes outbox rows left behind',
    ]);
  });

  it('puts both database secrets in the proxy, each with IAM auth required', () => {
    const proxy = resources[logicalId('AWS::RDS::DBProxy', /^DatabaseProxy/)]!;
    expect(proxy.Properties!.Auth).toEqual([
      { AuthScheme: 'SECRETS', IAMAuth: 'REQUIRED', SecretArn: { Ref: logicalId('AWS::SecretsManager::SecretTargetAttachment', /^DatabaseInstanceSecretAttachment/) } },
      { AuthScheme: 'SECRETS', IAMAuth: 'REQUIRED', SecretArn: { Ref: logicalId('AWS::SecretsManager::Secret', /^DatabaseAppSecret/) } },
    ]);
  });
});

describe('Least privilege: database users', () => {
  it('lets handlers, the relay and the pruning function connect only as the application user, and the migrations function alone as the master user', () => {
    expect(connectUsers()).toEqual({
      'Runs Warren migrations through RDS Proxy': ['warren'],
      'Warren handler audit (1 shard(s) of audit-events)': ['warren_app'],
      'Warren handler orders (2 shard(s) of orders)': ['warren_app'],
      'Warren outbox relay: publishes outbox rows left behind': ['warren_app'],
      'Warren pruning: deletes old inbox and sent outbox rows in batches': ['warren_app'],
    });
    const envUsers = Object.values(resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) => [r.Properties!.Description, ((r.Properties!.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}).WARREN_DB_USER])
      .filter(([, user]) => user !== undefined);
    expect(Object.fromEntries(envUsers)).toEqual({
      'Runs Warren migrations through RDS Proxy': 'warren',
      'Warren handler audit (1 shard(s) of audit-events)': 'warren_app',
      'Warren handler orders (2 shard(s) of orders)': 'warren_app',
      'Warren outbox relay: publishes outbox rows left behind': 'warren_app',
      'Warren pruning: deletes old inbox and sent outbox rows in batches': 'warren_app',
    });
  });

  it('hands the application secret to the migrations resource, which creates the user', () => {
    const migrations = Object.values(resources).find((r) => r.Type === 'Custom::WarrenMigrations');
    expect(migrations?.Properties?.AppSecretArn).toEqual({ Ref: logicalId('AWS::SecretsManager::Secret', /^DatabaseAppSecret/) });
  });
});

describe('Least privilege: broker user', () => {
  it('logs every trigger in with the application user\'s secret', () => {
    const app = { Ref: logicalId('AWS::SecretsManager::Secret', /^BrokerUserSecret/) };
    const triggers = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
    expect(triggers).toHaveLength(3);
    for (const t of triggers) expect((t.Properties!.SourceAccessConfigurations as unknown[])[0]).toEqual({ Type: 'BASIC_AUTH', URI: app });
  });

  it('grants read on the shard queues, write on the publishes exchanges and configure on nothing, per vhost', () => {
    const [user] = Object.values(resources).filter((r) => r.Type === 'Custom::WarrenBrokerUser');
    expect(JSON.parse(user!.Properties!.Permissions as string)).toEqual([
      { vhost: '/', configure: '^$', read: '^(?:orders\\.0|orders\\.1)$', write: '^(?:orders\\.events)$' },
      { vhost: 'jobs', configure: '^$', read: '^(?:audit\\-events\\.0)$', write: '^$' },
    ]);
  });

  it('creates the user after the topology, and the handlers\' triggers after the user', () => {
    const userId = logicalId('Custom::WarrenBrokerUser', /^BrokerUser/);
    expect(resources[userId]!.DependsOn).toContain(logicalId('Custom::WarrenTopology', /^Topology/));
    const [group] = Object.values(resources).filter((r) => r.Type === 'AWS::CloudFormation::Stack');
    expect(group!.DependsOn).toContain(userId);
  });
});
