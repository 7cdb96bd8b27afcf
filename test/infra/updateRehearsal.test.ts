/**
 * The update rehearsal: the everyday changes to a deployed app, each synthesized before and after and diffed with
 * `@aws-cdk/cloudformation-diff` (the engine behind `cdk diff`), nested stacks included. For each change it asserts
 * exactly what CloudFormation would replace or delete: never the broker, the database, the proxy or a secret, and
 * nothing of a handler the change did not touch. The "after" synth reads the record the "before" synth wrote
 * (`warren.lock.json`, committed in a real repository), as a deploy from the repository would.
 *
 * Synths are shared: one base of 25 handlers (one full nested stack), a few "after" synths that each carry several
 * changes to distinct handlers (every resource is attributed to its handler by `aws:cdk:path`, so each change is
 * still asserted on its own), and one pair at 200 handlers.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig, type HandlerConfig, type ResolvedConfig } from '../../config/config.js';
import { createWarrenApp } from '../../lib/app.js';
import { CREATE_ONLY } from '../../lib/createOnlyGuard.js';
import { WARREN_BROKER_DEFAULTS } from '../../lib/WarrenBroker.js';
import { formatLock, readLock, saveLock, type WarrenLock } from '../../lib/warrenLock.js';
import { cfnLintAssembly, describeFindings } from '../helpers/cfnLint.js';
import { deployChanges, owners, projectRoot, removeSynths, synthTemplates, withNewCode, type DeployChanges, type Synth } from '../helpers/templateDiff.js';

type HandlerInput = HandlerConfig;
const h = (n: string, extra: Partial<HandlerConfig> = {}): HandlerConfig => ({ name: n, entry: 'functions/orders.ts', queue: n, ...extra });
const names = (count: number) => Array.from({ length: count }, (_, i) => `h${String(i + 1).padStart(2, '0')}`);
const app = (handlers: readonly HandlerInput[]): ResolvedConfig => resolveConfig({ migrations: ['functions/schema.sql'], handlers: [...handlers] });

/** The base: h01 .. h25, h06 at concurrency 2: one full nested stack at the default 25 per stack. */
const baseHandlers = names(25).map((n) => (n === 'h06' ? h(n, { concurrency: 2 }) : h(n)));
const STATEFUL = /AWS::AmazonMQ::Broker|AWS::AmazonMQ::Configuration|AWS::RDS::DBInstance|AWS::RDS::DBProxy|AWS::SecretsManager::Secret/;

let base: Synth;
let lock: WarrenLock;

beforeAll(async () => {
  base = await synthTemplates(app(baseHandlers));
  lock = base.stack.lock;
}, 600_000);

afterAll(removeSynths);

function expectNothingStatefulTouched(changes: DeployChanges): void {
  expect([...changes.replaced, ...changes.removed].filter((l) => STATEFUL.test(l))).toEqual([]);
}

describe('Update rehearsal: adding, removing, renaming, reordering handlers', () => {
  let added: Synth;
  let addedChanges: DeployChanges;
  let removed: DeployChanges;
  let reordered: Synth;

  beforeAll(async () => {
    // h00 first, h06a in the middle, h26 last (the app grows past 25); h05 concurrency 1 -> 3, h06 2 -> 1; h08
    // batchSize 100 -> 10; h09 timeout 60 -> 120 s; h10 starts publishing.
    const changed = baseHandlers.flatMap((x) => {
      const n = x.name;
      if (n === 'h05') return [h(n, { concurrency: 3 })];
      if (n === 'h06') return [h(n, { concurrency: 1 }), h('h06a')];
      if (n === 'h08') return [h(n, { batchSize: 10 })];
      if (n === 'h09') return [h(n, { timeoutSeconds: 120 })];
      if (n === 'h10') return [h(n, { publishes: [{ exchange: 'h10.events', type: 'topic' }] })];
      return [x];
    });
    added = await synthTemplates(app([h('h00'), ...changed, h('h26')]), { lock });
    addedChanges = deployChanges(base, added);
    // h07 removed; h09 renamed h09-renamed (same queue).
    removed = deployChanges(base, await synthTemplates(app(baseHandlers.filter((x) => x.name !== 'h07').map((x) => (x.name === 'h09' ? h('h09-renamed', { queue: 'h09' }) : x))), { lock }));
    // Reversed, and warren:handlersPerStack lowered to 10.
    reordered = await synthTemplates(app([...baseHandlers].reverse()), { lock, context: { 'warren:handlersPerStack': '10' } });
  }, 900_000);

  it('adding handlers first, in the middle and last moves no handler: the new ones go to a new nested stack once the first holds 25', () => {
    for (const n of names(25)) expect(added.stack.lock.handlers[n]).toBe('Handlers1');
    expect({ h00: added.stack.lock.handlers.h00, h06a: added.stack.lock.handlers.h06a, h26: added.stack.lock.handlers.h26 }).toEqual({ h00: 'Handlers2', h06a: 'Handlers2', h26: 'Handlers2' });
    // and synth says what to commit
    const warnings = added.stack.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));
    expect(warnings).toContainEqual(expect.stringMatching(/^Warren: \S*warren\.lock\.json gains 3 entries \(handler h00 \(Handlers2\), handler h06a \(Handlers2\), handler h26 \(Handlers2\)\); commit \S*warren\.lock\.json with this change/));
    expect(owners(addedChanges.added.filter((l) => l.startsWith('Handlers2/') && l.includes('/handler ')))).toEqual(['handler h00', 'handler h06a', 'handler h26']);
    expect(addedChanges.added.filter((l) => l.startsWith('Handlers1/handler '))).toEqual(
      // h05's two new shards: a trigger each (and whatever per-shard resources come with one).
      addedChanges.added.filter((l) => l.startsWith('Handlers1/handler h05/')),
    );
  });

  it('adding, raising and lowering concurrency, batchSize, timeout and publishes replace nothing; only h06\'s surplus shard is removed', () => {
    expect(addedChanges.replaced).toEqual([]);
    // Besides h06's surplus shard: the group's shard-drain and trigger-teardown resources, whose logical ids follow
    // the group's shards (lib/WarrenShardDrain.ts): the new ones are created, the old ones deleted in the cleanup phase.
    expect(owners(addedChanges.removed)).toEqual([expect.stringMatching(/^ShardDrain[0-9A-F]{8}$/), expect.stringMatching(/^TriggerTeardown[0-9A-F]{8}$/), 'handler h06']);
    expect(addedChanges.removed.filter((l) => !l.includes('/handler '))).toEqual([expect.stringMatching(/^Handlers1\/ShardDrain[0-9A-F]{8}\/Custom::WarrenShardDrain$/), expect.stringMatching(/^Handlers1\/TriggerTeardown[0-9A-F]{8}\/Custom::WarrenTriggerTeardown$/)]);
    expect(addedChanges.removed).toContain('Handlers1/handler h06/AWS::Lambda::EventSourceMapping');
    expect(addedChanges.removed.filter((l) => l.endsWith('AWS::Lambda::EventSourceMapping'))).toHaveLength(1);
    expectNothingStatefulTouched(addedChanges);
  });

  it('updates h05, h06, h08, h09 and h10 in place (their functions or triggers), no other handler', () => {
    expect(owners(addedChanges.updated.filter((l) => l.includes('/handler ')))).toEqual(['handler h05', 'handler h06', 'handler h08', 'handler h09', 'handler h10']);
    // The other handlers of the group: only their triggers' DependsOn names the group's new drain resource (no update).
    expect(new Set(addedChanges.reordered.filter((l) => l.includes('/handler ')).map((l) => l.replace(/handler [^/]+/, 'handler *')))).toEqual(new Set(['Handlers1/handler */AWS::Lambda::EventSourceMapping']));
    expect(addedChanges.updated).toContain('Handlers1/handler h08/AWS::Lambda::EventSourceMapping');
    expect(addedChanges.updated).toContain('Handlers1/handler h09/AWS::Lambda::Function');
    expect(addedChanges.updated).toContain('Handlers1/handler h10/AWS::Lambda::Function');
  });

  it('removing h07 from the middle and renaming h09 delete exactly their resources and replace nothing', () => {
    expect(removed.replaced).toEqual([]);
    expect(owners(removed.removed)).toEqual([expect.stringMatching(/^ShardDrain[0-9A-F]{8}$/), expect.stringMatching(/^TriggerTeardown[0-9A-F]{8}$/), 'handler h07', 'handler h09']);
    for (const n of ['h07', 'h09']) {
      for (const type of ['AWS::Lambda::Function', 'AWS::SQS::Queue', 'AWS::Lambda::EventSourceMapping', 'AWS::IAM::Role']) expect(removed.removed).toContain(`Handlers1/handler ${n}/${type}`);
    }
    expect(owners(removed.added.filter((l) => l.includes('/handler ')))).toEqual(['handler h09-renamed']);
    expectNothingStatefulTouched(removed);
  });

  it('reordering the config and lowering warren:handlersPerStack move nothing and replace or remove nothing', () => {
    expect(reordered.stack.lock.handlers).toEqual(lock.handlers);
    const changes = deployChanges(base, reordered);
    expect(changes.replaced).toEqual([]);
    expect(changes.removed).toEqual([]);
    expect(changes.added).toEqual([]);
  });

  it('passes cfn-lint with no error and no unexplained warning after the additions (two nested stacks, the outbox relay)', async () => {
    const { findings } = await cfnLintAssembly(added.outdir);
    expect(describeFindings(findings)).toEqual([]);
  }, 600_000);
});

describe('Update rehearsal: stage and Warren version', () => {
  let production: Synth;

  beforeAll(async () => {
    production = await synthTemplates(app(baseHandlers), { lock, context: { 'warren:stage': 'production' } });
  }, 600_000);

  it('development to production replaces and removes nothing (only deletion policies and the secrets\' retention change)', () => {
    const changes = deployChanges(base, production);
    expect(changes.replaced).toEqual([]);
    expect(changes.removed).toEqual([]);
    expect(changes.added).toEqual([]);
    expect(production.templates.parent?.Resources?.[Object.keys(production.templates.parent.Resources).find((id) => production.templates.parent?.Resources?.[id]?.Type === 'AWS::RDS::DBInstance') ?? '']).toMatchObject({ DeletionPolicy: 'Snapshot' });
  });

  it('a new Warren version (every function\'s code changes) updates the functions in place and replaces or removes nothing', () => {
    const changes = deployChanges(base, withNewCode(base));
    expect(changes.replaced).toEqual([]);
    expect(changes.removed).toEqual([]);
    const functions = Object.entries(base.templates).flatMap(([key, t]) => Object.values(t.Resources ?? {}).filter((r) => r.Type === 'AWS::Lambda::Function').map(() => key));
    expect(changes.updated.filter((l) => l.endsWith('/AWS::Lambda::Function'))).toHaveLength(functions.length);
  });

});

describe('Update rehearsal: create-only settings of the broker, database and proxy', () => {
  const refused = async (context: Record<string, unknown>) => synthTemplates(app(baseHandlers), { lock, context });

  it('refuses warren:brokerDeploymentMode on a recorded broker before anything is deployed, naming the setting', async () => {
    await expect(refused({ 'warren:brokerDeploymentMode': 'CLUSTER_MULTI_AZ' })).rejects.toThrow('warren:brokerDeploymentMode would replace the broker: its create-only DeploymentMode changes from "SINGLE_INSTANCE" to "CLUSTER_MULTI_AZ" (recorded in warren.lock.json)');
  }, 300_000);

  it('refuses warren:brokerEngineVersion (create-only on the broker configuration, whose fixed name cannot be replaced)', async () => {
    await expect(refused({ 'warren:brokerEngineVersion': '4.3' })).rejects.toThrow('warren:brokerEngineVersion would replace the broker configuration');
  }, 300_000);

  it('refuses warren:databaseName and warren:databaseUser, naming each', async () => {
    await expect(refused({ 'warren:databaseName': 'shop' })).rejects.toThrow('warren:databaseName would replace the database instance: its create-only DBName changes from "warren" to "shop"');
    await expect(refused({ 'warren:databaseUser': 'admin' })).rejects.toThrow('warren:databaseUser would replace the database instance: its create-only MasterUsername changes from "warren" to "admin"');
  }, 300_000);

  it('keeps a recorded broker engine version when a later Warren changes the default', async () => {
    const defaults = WARREN_BROKER_DEFAULTS as { engineVersion: string };
    defaults.engineVersion = '4.3';
    try {
      const { stack } = await createWarrenApp({ projectRoot, config: app(baseHandlers), nag: false, lockFile: lockFileOf(lock), context: { 'aws:cdk:bundling-stacks': [] } });
      expect(stack.lock.createOnly.BrokerConfiguration?.EngineVersion).toBe('4.2');
    } finally {
      defaults.engineVersion = '4.2';
    }
  }, 300_000);

  it('without a record, the same changes would replace the broker and the database, and the migrations would run again on the new target', async () => {
    const unguarded = await synthTemplates(app(baseHandlers), { context: { 'warren:brokerDeploymentMode': 'CLUSTER_MULTI_AZ', 'warren:databaseName': 'shop' } });
    const changes = deployChanges(base, unguarded);
    expect(changes.replaced.filter((l) => /AWS::AmazonMQ::Broker|AWS::RDS::DBInstance/.test(l))).toEqual([
      expect.stringMatching(/^parent\/Broker[0-9A-F]+\/AWS::AmazonMQ::Broker$/),
      expect.stringMatching(/^parent\/DatabaseInstance[0-9A-F]+\/AWS::RDS::DBInstance$/),
    ]);
    expect(changes.updated).toContainEqual(expect.stringMatching(/^parent\/Migrations\w+\/Custom::WarrenMigrations$/));
  }, 300_000);

  it('records exactly the create-only properties of the registry schemas that cfn-lint bundles', async () => {
    const types = Object.values(CREATE_ONLY).map((c) => c.type);
    const script = `import json,sys\nfrom cfnlint.schema import PROVIDER_SCHEMA_MANAGER as m\nprint(json.dumps({t: [p.split('/')[-1] for p in m.get_resource_schema('us-east-1', t).schema.get('createOnlyProperties', [])] for t in sys.argv[1:]}))`;
    const { stdout } = await promisify(execFile)('python3', ['-c', script, ...types]);
    const schemas = JSON.parse(stdout) as Record<string, string[]>;
    for (const c of Object.values(CREATE_ONLY)) expect(Object.keys(c.properties).sort()).toEqual([...(schemas[c.type] ?? [])].sort());
  }, 120_000);
});

describe('Update rehearsal: the record on a fresh clone and in CI', () => {
  it('writes the record deterministically: the same bytes again, and a second save changes nothing', () => {
    const file = lockFileOf(lock);
    const first = readFileSync(file, 'utf8');
    expect(saveLock(file, 'Warren', lock)).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe(first);
    expect(readLock(file)?.stacks.Warren).toEqual(JSON.parse(JSON.stringify(lock)));
    expect(first).toBe(formatLock({ stacks: { Warren: lock } }));
    expect(first).toContain('"h01": "Handlers1",\n');
  });

  it('in CI (locked) refuses a record that lacks a handler, naming it and what to commit', async () => {
    await expect(synthTemplates(app([...baseHandlers, h('h99')]), { lock, lockMode: 'locked' }))
      .rejects.toThrow(/warren\.lock\.json has no entry for handler h99 \(Handlers2\)\. Run `npx cdk synth` where you changed warren\.config\.ts and commit \S*warren\.lock\.json with the change/);
  }, 300_000);
});

describe('Update rehearsal: 200 handlers and growing', () => {
  let before: Synth;
  let after: Synth;

  beforeAll(async () => {
    const many = Array.from({ length: 200 }, (_, i) => h(`consumer-${String(i + 1).padStart(3, '0')}`));
    before = await synthTemplates(app(many));
    // One inserted in the middle and one at the end: past 200.
    after = await synthTemplates(app([...many.slice(0, 100), h('consumer-100a'), ...many.slice(100), h('consumer-201')]), { lock: before.stack.lock });
  }, 900_000);

  it('growing past 200 moves no handler and replaces or removes nothing; both new handlers go to a ninth nested stack', () => {
    for (const [name, stack] of Object.entries(before.stack.lock.handlers)) expect(after.stack.lock.handlers[name]).toBe(stack);
    expect([after.stack.lock.handlers['consumer-100a'], after.stack.lock.handlers['consumer-201']]).toEqual(['Handlers9', 'Handlers9']);
    const changes = deployChanges(before, after);
    expect(changes.replaced).toEqual([]);
    expect(changes.removed).toEqual([]);
    expect(owners(changes.added.filter((l) => l.includes('/handler ')))).toEqual(['handler consumer-100a', 'handler consumer-201']);
  });
});

/** `lock` as a committed file (its own temporary directory). */
function lockFileOf(record: WarrenLock): string {
  const dir = base.outdir;
  saveLock(`${dir}/warren.lock.json`, 'Warren', record);
  return `${dir}/warren.lock.json`;
}
