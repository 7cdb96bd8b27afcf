/**
 * 200 handlers at concurrency 1 with 40-character names (`consumer-with-a-long-descriptive-name-001`, every tenth one
 * publishing; a generated config, one shared entry) synthesise in one app with the default context: every template
 * within CloudFormation's 500 resources, 200 outputs, 1 MB and 1,024-byte description, and cfn-lint finds no error in
 * any of them (one synth for both: it is slow).
 */
import { App } from 'aws-cdk-lib';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWarrenApp } from '../../lib/app.js';
import { resolveConfig } from '../../config/config.js';
import { cfnLintAssembly, describeFindings } from '../helpers/cfnLint.js';

/** The example app (a team's project): the stack's `projectRoot`. */
const root = resolve(import.meta.dirname, '../../examples/orders');
const name = (i: number) => `consumer-with-a-long-descriptive-name-${String(i + 1).padStart(3, '0')}`;
const config = resolveConfig({
  migrations: ['functions/schema.sql'],
  handlers: Array.from({ length: 200 }, (_, i) => ({
    name: name(i),
    entry: 'functions/orders.ts',
    queue: name(i),
    concurrency: 1,
    ...(i % 10 === 0 ? { publishes: [{ exchange: 'events', type: 'topic' as const }] } : {}),
  })),
});

interface Synthesised { file: string; resources: number; outputs: number; bytes: number; descriptionBytes: number }
let templates: Synthesised[] = [];
let synthMs = 0;
const outdir = mkdtempSync(join(tmpdir(), 'warren-scale-'));

beforeAll(async () => {
  const started = Date.now();
  // Bundling is skipped (`aws:cdk:bundling-stacks: []`): the bundles are tested in bundledAsset.test.ts, and esbuild
  // would dominate the time. cdk-nag stays on, as with the default context.
  const { app } = await createWarrenApp({ projectRoot: root, config, nag: true, outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  (app as App).synth();
  synthMs = Date.now() - started;
  templates = readdirSync(outdir).filter((f) => f.endsWith('.template.json')).map((file) => {
    const body = JSON.parse(readFileSync(join(outdir, file), 'utf8')) as { Resources: object; Outputs?: object; Description?: string };
    return { file, resources: Object.keys(body.Resources).length, outputs: Object.keys(body.Outputs ?? {}).length, bytes: statSync(join(outdir, file)).size, descriptionBytes: Buffer.byteLength(body.Description ?? '') };
  });
  console.log(`200 handlers: synth with cdk-nag (bundling skipped) in ${synthMs} ms;`, templates.map((t) => `${t.file} ${t.resources} resources ${t.outputs} outputs ${t.bytes} bytes`).join('; '));
}, 300_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('WarrenStack: 200 handlers with 40-character names', () => {
  it('uses names of at least 40 characters', () => {
    expect(name(0)).toBe('consumer-with-a-long-descriptive-name-001');
    expect(name(0).length).toBeGreaterThanOrEqual(40);
  });

  it('splits the handlers into 8 nested stacks of 25 beside the parent', () => {
    expect(templates).toHaveLength(9);
    expect(templates.filter((t) => t.file.includes('.nested.'))).toHaveLength(8);
  });

  it('keeps every template within 500 resources, 200 outputs, 1 MB and a 1,024-byte description', () => {
    for (const t of templates) {
      expect(t.resources).toBeLessThanOrEqual(500);
      expect(t.outputs).toBeLessThanOrEqual(200);
      expect(t.bytes).toBeLessThan(1_000_000);
      expect(t.descriptionBytes).toBeLessThanOrEqual(1024);
    }
  });

  it('describes each nested stack by its first and last handler, not by listing all 25', () => {
    const nested = templates.filter((t) => t.file.includes('.nested.')).map((t) => (JSON.parse(readFileSync(join(outdir, t.file), 'utf8')) as { Description: string }).Description);
    expect(nested).toContain('Warren handlers consumer-with-a-long-descriptive-name-001 .. consumer-with-a-long-descriptive-name-025 (25)');
    expect(nested).toContain('Warren handlers consumer-with-a-long-descriptive-name-176 .. consumer-with-a-long-descriptive-name-200 (25)');
  });

  it('costs 9 resources per handler at concurrency 1 (function, role, policy, log group, DLQ, DLQ policy, trigger, 2 alarms) and 2 per nested stack (shard drain, trigger teardown)', () => {
    for (const t of templates.filter((x) => x.file.includes('.nested.'))) expect(t.resources).toBe(25 * 9 + 2);
  });

  it('creates 16 custom resources in the nested stacks (two each), so the deploy starts at most 32 invocations at once, and the account check counts them (issue 26, fault 6)', () => {
    // How it is counted: a custom resource keeps at most 2 invocations running (the Provider framework's function and
    // the Warren function it invokes, in onEvent or in one isComplete call); the parent's custom resources finish
    // before any nested stack starts (the triggers depend on them): at most 3 of Warren's at once (2 each) and CDK's two
    // LogRetention (1 each), 8; the nested stacks deploy in parallel: 2 x 2 x 8 = 32.
    const custom = (file: string) => Object.values((JSON.parse(readFileSync(join(outdir, file), 'utf8')) as { Resources: Record<string, { Type: string }> }).Resources)
      .filter((r) => r.Type.startsWith('Custom::') || r.Type === 'AWS::CloudFormation::CustomResource').map((r) => r.Type).sort();
    const nested = templates.filter((t) => t.file.includes('.nested.'));
    for (const t of nested) expect(custom(t.file)).toEqual(['Custom::WarrenShardDrain', 'Custom::WarrenTriggerTeardown']);
    const parent = templates.find((t) => !t.file.includes('.nested.'))!;
    expect(custom(parent.file)).toEqual(['Custom::LogRetention', 'Custom::LogRetention', 'Custom::WarrenAccountConcurrency', 'Custom::WarrenBrokerUser', 'Custom::WarrenMigrations', 'Custom::WarrenTopology']);
    const nestedCustom = nested.reduce((sum, t) => sum + custom(t.file).length, 0);
    expect(nestedCustom).toBe(16); // before issue 26: 400 (a drain per shard and a teardown per handler), 800 invocations at once
    const resources = (JSON.parse(readFileSync(join(outdir, parent.file), 'utf8')) as { Resources: Record<string, { Type: string; Properties: Record<string, string> }> }).Resources;
    const check = Object.values(resources).find((r) => r.Type === 'Custom::WarrenAccountConcurrency')!;
    // 200 triggers + 1 relay + 1 monitor + 2 x 16 deploy-time + 2 headroom
    expect(check.Properties).toMatchObject({ Required: '237', Triggers: '200' });
  });

  it('passes cfn-lint in every template, nested ones included, with no error and no unexplained warning', async () => {
    const { templates: linted, findings } = await cfnLintAssembly(outdir);
    expect(linted).toHaveLength(9);
    expect(describeFindings(findings)).toEqual([]);
  }, 900_000);
});
