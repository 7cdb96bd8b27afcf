/**
 * The example handler's bundled asset, taken from the synthesised cloud assembly, run in a fresh Node process against
 * the local MariaDB: the asset is what Lambda would run, with the same module-scope connection reuse.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWarrenApp } from '../../lib/app.js';
import { waitFor } from '../helpers/services.js';

/** The example app (a team's project): the stack's `projectRoot`. */
const root = resolve(import.meta.dirname, '../../examples/orders');
const ADMIN_URL = process.env.WARREN_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';

interface Reply { readonly ok?: boolean; readonly ready?: boolean; readonly error?: string; readonly connects: number; readonly threadId: number | null }

let outdir: string;
let bundle: string;
/** Every Lambda function of the app that Warren bundles: its construct path and asset directory. */
let assets: { readonly path: string; readonly dir: string; readonly handler: boolean }[];
let admin: mysql.Connection;
const database = `warren_asset_${randomBytes(4).toString('hex')}`;
const children: ChildProcess[] = [];

/** Starts the driver in a fresh process with only the given database variables (no WARREN_DB_* leaking in). */
async function startBundle(env: Record<string, string>): Promise<(from: number, count: number) => Promise<Reply>> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WARREN_') && k !== 'DATABASE_URL'));
  const child = fork(join(import.meta.dirname, 'fixtures/invokeBundle.ts'), [bundle, 'handler'], {
    execArgv: ['--import', 'tsx'],
    env: { ...base, WARREN_LOG_LEVEL: 'warn', WARREN_HANDLER: 'orders', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  const next = () => new Promise<Reply>((ok, fail) => {
    child.once('message', (m) => ok(m as Reply));
    child.once('exit', (code) => fail(new Error(`driver exited with ${code}`)));
  });
  await next();
  return (from, count) => {
    const reply = next();
    child.send({ cmd: 'invoke', from, count, queue: 'orders.0' });
    return reply;
  };
}

async function connectionIds(): Promise<number[]> {
  const [rows] = await admin.query('SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? ORDER BY ID', [database]);
  return (rows as { id: number }[]).map((r) => Number(r.id));
}

async function count(sql: string): Promise<number> {
  const [rows] = await admin.query(sql);
  return Number((rows as { n: number }[])[0]?.n);
}

beforeAll(async () => {
  // Synthesise the real app (warren.config.ts) into a temporary assembly and find the orders function's asset.
  outdir = mkdtempSync(join(tmpdir(), 'warren-cdk-'));
  const started = Date.now();
  // The record is read from the empty assembly folder, never from a warren.lock.json a developer's own `cdk synth` wrote.
  const { app, stack } = await createWarrenApp({ projectRoot: root, outdir, nag: false, lockFile: join(outdir, 'warren.lock.json') });
  const assembly = app.synth();
  console.log(`synth of warren.config.ts: ${Date.now() - started} ms`);
  // Handlers live in nested stacks (lib/WarrenHandlerGroup.ts); the first holds the example app's one handler.
  const template = JSON.parse(readFileSync(join(assembly.directory, stack.handlerGroups[0]!.templateFile), 'utf8')) as { Resources: Record<string, { Type: string; Properties: { Environment?: { Variables?: Record<string, unknown> }; Code?: { S3Key?: string } } }> };
  const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.WARREN_HANDLER === 'orders');
  const hash = fn?.Properties.Code?.S3Key?.replace(/\.zip$/, '');
  bundle = join(assembly.directory, `asset.${hash}`, 'index.js');
  expect(existsSync(bundle)).toBe(true);
  assets = [];
  for (const file of readdirSync(assembly.directory).filter((f) => f.endsWith('.template.json'))) {
    const t = JSON.parse(readFileSync(join(assembly.directory, file), 'utf8')) as { Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: unknown } } }> };
    for (const [id, r] of Object.entries(t.Resources)) {
      const key = r.Properties.Code?.S3Key;
      const dir = typeof key === 'string' ? join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`) : '';
      // the CDK's own provider-framework functions come prebuilt (no source map); Warren's carry one
      if (r.Type !== 'AWS::Lambda::Function' || !existsSync(join(dir, 'index.js.map'))) continue;
      assets.push({ path: `${file.replace('.template.json', '')}/${id}`, dir, handler: join(dir, 'index.js') === bundle });
    }
  }

  // The admin connection selects no database, so it never shows up among the test database's connections.
  admin = await mysql.createConnection({ uri: ADMIN_URL });
  await admin.query(`CREATE DATABASE \`${database}\``);
  const schema = await mysql.createConnection({ uri: `${ADMIN_URL}/${database}`, multipleStatements: true });
  await schema.query(readFileSync(join(root, 'functions/schema.sql'), 'utf8'));
  await schema.end();
});

afterAll(async () => {
  for (const child of children) child.kill();
  await admin?.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await admin?.end();
  if (outdir !== undefined) rmSync(outdir, { recursive: true, force: true });
});

describe('Bundled asset: functions/orders.ts from the cloud assembly', () => {
  it('ships a minified CommonJS bundle of at most 1 MB with a source map, mysql2 inside, and no AWS SDK, amqplib or zod classic', () => {
    expect(existsSync(`${bundle}.map`)).toBe(true);
    expect(statSync(bundle).size).toBeLessThanOrEqual(1_000_000);
    const code = readFileSync(bundle, 'utf8');
    expect(code).not.toMatch(/require\("mysql2/);
    // the AWS SDK and amqplib are required from the asset's own node_modules, on the path that needs them
    expect(code).toContain('require("@aws-sdk/client-sqs")');
    expect(code).toContain('require("amqplib")');
    expect(code).not.toMatch(/smithy|aws-sdk-js|AMQPLAIN/);
    for (const m of ['@aws-sdk/client-sqs', '@aws-sdk/rds-signer', '@aws-sdk/client-secrets-manager', 'amqplib', 'iconv-lite']) {
      expect(existsSync(join(bundle, '..', 'node_modules', m, 'package.json')), m).toBe(true);
    }
    // zod/mini (functions/orders.ts), not the whole of zod: classic's ZodObject class is not in the bundle
    expect(code).toContain('ZodMiniObject');
    expect(code).not.toMatch(/[^$\w]ZodObject\b/);
  });

  it('bundles every function of the stack in at most 500 KB of index.js, and none holds AWS SDK code', () => {
    const sizes = Object.fromEntries(assets.map((a) => [a.path, statSync(join(a.dir, 'index.js')).size]));
    console.log('index.js sizes:', sizes, assets.filter((a) => a.handler).map((a) => a.path));
    // the example app: its one handler, the relay, migrations, topology (which also serves the shard drains), broker
    // user, broker monitor, trigger teardown, the account-concurrency check and the pruning function
    expect(assets.length).toBe(9);
    expect(assets.filter((a) => a.handler)).toHaveLength(1);
    for (const a of assets) {
      // The two deploy-time custom resources that call the Lambda API carry @aws-sdk/client-lambda in index.js (it is
      // not one of the separately built modules yet); they run only during a deploy, where cold start does not matter.
      const deployTimeWithLambdaClient = /TriggerTeardown|AccountConcurrency/.test(a.path);
      expect(statSync(join(a.dir, 'index.js')).size, a.path).toBeLessThanOrEqual(a.handler || deployTimeWithLambdaClient ? 1_000_000 : 500_000);
      if (deployTimeWithLambdaClient) continue;
      expect(readFileSync(join(a.dir, 'index.js'), 'utf8'), a.path).not.toMatch(/smithy|aws-sdk-js/);
    }
  });

  it('commits, keeps one connection over 1,000 more invocations, and recovers after the connection is KILLed', async () => {
    const invoke = await startBundle({ DATABASE_URL: `mysql://root@127.0.0.1:3306/${database}` });
    expect(await connectionIds()).toEqual([]);

    // First invocation: commits and opens the one connection.
    const first = await invoke(0, 1);
    expect(first).toMatchObject({ ok: true, connects: 1 });
    expect(await count(`SELECT COUNT(*) AS n FROM \`${database}\`.orders`)).toBe(1);
    const ids = await connectionIds();
    expect(ids).toEqual([first.threadId]);

    // 1,000 further invocations in the same process: no new connection, server-side or client-side.
    const many = await invoke(1, 1000);
    expect(many).toMatchObject({ ok: true, connects: 1, threadId: first.threadId });
    expect(await connectionIds()).toEqual(ids);
    expect(await count(`SELECT COUNT(*) AS n FROM \`${database}\`.orders`)).toBe(1001);
    console.log(`asset test: ${ids.length} server connection(s) (id ${ids.join(',')}) for 1,001 invocations`);

    // KILL it server-side: the next invocation succeeds on a new connection.
    await admin.query(`KILL ${ids[0]}`);
    const after = await invoke(1001, 1);
    expect(after).toMatchObject({ ok: true, connects: 2 });
    expect(after.threadId).not.toBe(first.threadId);
    // the KILLed thread leaves the process list when the server has finished it; then only the new one is left
    await waitFor('the KILLed thread gone', async () => !(await connectionIds()).includes(ids[0]!), 10_000, 20);
    expect(await connectionIds()).toEqual([after.threadId]);
    expect(await count(`SELECT COUNT(*) AS n FROM \`${database}\`.orders`)).toBe(1002);
  });

  it('connects through the WARREN_DB_* variables the stack sets when IAM auth and TLS are off', async () => {
    const invoke = await startBundle({
      WARREN_DB_HOST: '127.0.0.1', WARREN_DB_PORT: '3306', WARREN_DB_USER: 'root', WARREN_DB_NAME: database,
      WARREN_DB_IAM_AUTH: 'false', WARREN_DB_TLS: 'false',
    });
    const reply = await invoke(5000, 3);
    expect(reply).toMatchObject({ ok: true, connects: 1 });
    expect(await connectionIds()).toContain(reply.threadId);
    expect(await count(`SELECT COUNT(*) AS n FROM \`${database}\`.orders WHERE order_id IN ('order-5000','order-5001','order-5002')`)).toBe(3);
  });
});
