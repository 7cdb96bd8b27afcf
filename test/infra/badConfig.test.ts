/**
 * A config with a typo stops both consumers of warren.config.ts before they do anything: `npm start` (the runner CLI)
 * and `cdk synth` (the CDK app), each with the same message naming the field and the allowed options.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'warren-bad-config-'));
const configPath = join(dir, 'bad.config.mjs');
writeFileSync(configPath, "export default { handlers: [{ name: 'orders', entry: 'functions/orders.ts', batchSise: 10 }] };\n");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MESSAGE = 'Invalid config at "handlers[0].batchSise": unknown option; allowed options are name, entry, export, queue, vhost, batchSize, batchingWindowSeconds, concurrency, timeoutSeconds, deliveryLimit, publishes';

async function failure(file: string, args: readonly string[], cwd = process.cwd()): Promise<{ code: number; output: string }> {
  try {
    await run(file, args, { cwd, env: { ...process.env, DATABASE_URL: 'mysql://root@127.0.0.1:1/never-used' }, timeout: 120_000 });
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: `${e.stdout}${e.stderr}` };
  }
  throw new Error(`${file} ${args.join(' ')} succeeded with a bad config`);
}

describe('A bad warren.config.ts', () => {
  it('stops `warren start` (npm start) with exit code 1 and the message, before connecting to anything', async () => {
    const { code, output } = await failure(process.execPath, ['--import', 'tsx', 'local/cli.ts', 'start', '--config', configPath]);
    expect(code).toBe(1);
    expect(output).toContain(`warren: ${MESSAGE}`);
    expect(output).not.toContain('migrating');
  });

  it('stops `cdk synth` of the example app with exit code 1 and the same message', async () => {
    const { code, output } = await failure('npx', ['cdk', 'synth', '-q', '-c', `warren:config=${configPath}`, '-o', join(dir, 'cdk.out')], join(import.meta.dirname, '../../examples/orders'));
    expect(code).toBe(1);
    expect(output).toContain(`ConfigError: ${MESSAGE}`);
  });
});
