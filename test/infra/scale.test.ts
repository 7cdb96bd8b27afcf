/**
 * 200 handlers at concurrency 1 (a generated config, one shared entry) synthesise in one app with the default context:
 * every template within CloudFormation's 500 resources, 200 outputs and 1 MB.
 */
import { App } from 'aws-cdk-lib';
import { statSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createWarrenApp } from '../../lib/app.js';
import { resolveConfig } from '../../runtime/config.js';

const root = resolve(import.meta.dirname, '../..');
const config = resolveConfig({
  migrations: ['functions/schema.sql'],
  handlers: Array.from({ length: 200 }, (_, i) => ({
    name: `consumer-${i}`,
    entry: 'functions/orders.ts',
    queue: `consumer-${i}`,
    concurrency: 1,
    ...(i % 10 === 0 ? { publishes: [{ exchange: 'events', type: 'topic' as const }] } : {}),
  })),
});

interface Synthesised { file: string; resources: number; outputs: number; bytes: number }
let templates: Synthesised[] = [];
let synthMs = 0;

beforeAll(async () => {
  const started = Date.now();
  // Bundling is skipped (`aws:cdk:bundling-stacks: []`): the bundles are tested in bundledAsset.test.ts, and esbuild
  // would dominate the time. cdk-nag stays on, as with the default context.
  const { app } = await createWarrenApp({ projectRoot: root, config, nag: true, context: { 'aws:cdk:bundling-stacks': [] } });
  const assembly = (app as App).synth();
  synthMs = Date.now() - started;
  const dir = assembly.directory;
  const { readdirSync } = await import('node:fs');
  templates = readdirSync(dir).filter((f) => f.endsWith('.template.json')).map((file) => {
    const body = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { Resources: object; Outputs?: object };
    return { file, resources: Object.keys(body.Resources).length, outputs: Object.keys(body.Outputs ?? {}).length, bytes: statSync(join(dir, file)).size };
  });
  console.log(`200 handlers: synth with cdk-nag (bundling skipped) in ${synthMs} ms;`, templates.map((t) => `${t.file} ${t.resources} resources ${t.outputs} outputs ${t.bytes} bytes`).join('; '));
}, 300_000);

describe('WarrenStack: 200 handlers', () => {
  it('splits the handlers into 8 nested stacks of 25 beside the parent', () => {
    expect(templates).toHaveLength(9);
    expect(templates.filter((t) => t.file.includes('.nested.'))).toHaveLength(8);
  });

  it('keeps every template within 500 resources, 200 outputs and 1 MB', () => {
    for (const t of templates) {
      expect(t.resources).toBeLessThanOrEqual(500);
      expect(t.outputs).toBeLessThanOrEqual(200);
      expect(t.bytes).toBeLessThan(1_000_000);
    }
  });

  it('costs 10 resources per handler at concurrency 1 (function, role, policy, log group, DLQ, DLQ policy, trigger, shard drain, 2 alarms) plus one teardown resource per nested stack', () => {
    for (const t of templates.filter((x) => x.file.includes('.nested.'))) expect(t.resources).toBe(251);
  });
});
