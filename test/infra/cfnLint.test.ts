/**
 * cfn-lint on every template the example app synthesizes (warren.config.ts, the default context), nested stacks
 * included: no error and no warning beyond the ones CFN_LINT_IGNORED names with a reason. The 200-handler app is linted
 * in scale.test.ts, on the one synth that file already makes (it is slow).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWarrenApp } from '../../lib/app.js';
import { cfnLintAssembly, describeFindings, type CfnLintFinding } from '../helpers/cfnLint.js';

/** The example app (a team's project): the stack's `projectRoot`. */
const root = resolve(import.meta.dirname, '../../examples/orders');
const outdir = mkdtempSync(join(tmpdir(), 'warren-cfnlint-'));
let templates: string[] = [];
let findings: CfnLintFinding[] = [];

beforeAll(async () => {
  // Bundling skipped (`aws:cdk:bundling-stacks: []`): cfn-lint reads templates, not assets (bundledAsset.test.ts runs those).
  // The record is read from the empty assembly folder, never from a warren.lock.json a developer's own `cdk synth` wrote.
  const { app } = await createWarrenApp({ projectRoot: root, nag: true, outdir, lockFile: join(outdir, 'warren.lock.json'), context: { 'aws:cdk:bundling-stacks': [] } });
  app.synth();
  ({ templates, findings } = await cfnLintAssembly(outdir));
}, 600_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('cfn-lint: the example app', () => {
  it('lints the parent stack and its nested handler stack', () => {
    expect(templates).toEqual(['Warren.template.json', expect.stringMatching(/^WarrenHandlers1[0-9A-F]{8}\.nested\.template\.json$/)]);
  });

  it('finds no error and no unexplained warning in any template', () => {
    expect(describeFindings(findings)).toEqual([]);
  });

  it('passes the publishing handler the broker\'s AMQPS endpoint as a String parameter selected in the parent', () => {
    const nestedFile = templates.find((t) => t.includes('.nested.')) ?? '';
    const nested = JSON.parse(readFileSync(join(outdir, nestedFile), 'utf8')) as { Parameters: Record<string, { Type: string }>; Resources: Record<string, { Type: string; Properties: { Environment?: { Variables: Record<string, unknown> } } }> };
    const fn = Object.values(nested.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables.WARREN_HANDLER === 'orders');
    const endpoint = fn?.Properties.Environment?.Variables.WARREN_AMQP_ENDPOINT as { Ref: string };
    expect(endpoint).toEqual({ Ref: 'BrokerAmqpsEndpoint' });
    expect(nested.Parameters.BrokerAmqpsEndpoint?.Type).toBe('String');
    const parent = JSON.parse(readFileSync(join(outdir, 'Warren.template.json'), 'utf8')) as { Resources: Record<string, { Type: string; Properties: { Parameters?: Record<string, unknown> } }> };
    const stack = Object.values(parent.Resources).find((r) => r.Type === 'AWS::CloudFormation::Stack');
    expect(stack?.Properties.Parameters?.BrokerAmqpsEndpoint).toEqual({ 'Fn::Select': [0, { 'Fn::GetAtt': [expect.stringMatching(/^Broker[0-9A-F]{8}$/), 'AmqpEndpoints'] }] });
  });
});
