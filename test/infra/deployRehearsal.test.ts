/**
 * Deploy rehearsal: every function the stack deploys, run AS ITS BUNDLED ASSET from a synthesised cloud assembly, with
 * the environment and resource properties of the synthesised templates, against the local RabbitMQ (AMQP and the real
 * management API on :15672) and MariaDB (through a TLS-terminating proxy, as RDS Proxy is reached).
 *
 * Custom resources go through the CDK Provider framework's own code from the assembly (lambdaHost.ts): CloudFormation's
 * request in, the response the framework PUTs to the pre-signed ResponseURL out (a local HTTPS server here), checked
 * against CloudFormation's limits (whole body <= 4,096 bytes, PhysicalResourceId stable, a Reason on FAILED).
 *
 * What stands in for AWS, and why:
 *   - Secrets Manager and EC2: a local server speaking their wire protocols (awsEmulator.ts); the SDK clients in the
 *     bundles are pointed at it with AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL_EC2, nothing else changes.
 *   - RDS Proxy: bench/proxy/mysqlTlsProxy.ts, TLS with a throw-away certificate the functions trust through
 *     NODE_EXTRA_CA_CERTS (they verify chain and host name, as against RDS Proxy). IAM auth is replaced by a password
 *     (a test user created and dropped here): an IAM token cannot be checked without AWS.
 *   - Intrinsic values (the broker endpoint, the proxy endpoint, secret ARNs, the VPC id): mapped to the local services
 *     by name; a value this file does not know fails the test, naming it, so a new variable gets rehearsed too.
 * Everything the test creates is its own: a vhost, a database, a MySQL user, temporary files.
 */
import amqp from 'amqplib';
import type { Stack } from 'aws-cdk-lib';
import { NestedStack, Stack as CdkStack } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net, { type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DelayLine } from '../../bench/proxy/DelayLine.js';
import { startProxy } from '../../bench/proxy/mysqlTlsProxy.js';
import { createWarrenApp } from '../../lib/app.js';
import type { WarrenStack } from '../../lib/WarrenStack.js';
import { resolveConfig } from '../../config/config.js';
import { CFN_RESPONSE_LIMIT_BYTES, responseProblems, type CfnResponseBody } from '../helpers/cfnResponse.js';
import { ADMIN_DB_URL, AMQP_URL, waitFor } from '../helpers/services.js';
import { startAwsEmulator, type AwsEmulator } from './rehearsal/awsEmulator.js';

/** The example app (a team's project): the stack's `projectRoot`. */
const root = resolve(import.meta.dirname, '../../examples/orders');
const MANAGEMENT = process.env.WARREN_TEST_MANAGEMENT_URL ?? 'http://127.0.0.1:15672';
const MANAGEMENT_AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
const suffix = randomBytes(4).toString('hex');
const vhost = `warren-rehearsal-${suffix}`;
const handlerName = `rehearsal-${suffix}`;
const queue = `rehearsal-orders-${suffix}`;
const database = `warren_rehearsal_${suffix}`;
const dbUser = `wreh_${suffix}`;
const dbPassword = `pw-${randomBytes(8).toString('hex')}`;
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:warren-broker-AbCdEf';
/** The application users' secret (the broker's and the database's map to this one here: same name on both). */
const APP_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:warren-app-AbCdEf';
const appUser = { username: `wrehapp_${suffix}`, password: `app-${randomBytes(8).toString('hex')}` };
const STACK_ID = 'arn:aws:cloudformation:eu-west-1:111122223333:stack/warren-rehearsal/0f4c8f30-b1a2-11ef-9f3c-0a1b2c3d4e5f';
const config = resolveConfig({
  migrations: ['functions/schema.sql'],
  handlers: [{ name: handlerName, entry: 'functions/orders.ts', queue, vhost, concurrency: 2, publishes: [{ exchange: 'orders.events', type: 'topic' }], replies: true }],
});

interface Template { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> }
interface DeployedFunction { readonly logicalId: string; readonly assetDir: string; readonly handler: string; readonly environment: Record<string, unknown> }
interface Host { call(request: { cmd: 'invoke' | 'cfn'; event: unknown }): Promise<{ ok: boolean; result?: unknown; errorMessage?: string }>; output(): string }
/** A Provider with asynchronous completion: the waiter's interval and attempts (lambdaHost.ts runs it). */
interface Waiter { readonly intervalMs: number; readonly maxAttempts: number }

let stack: WarrenStack;
let assemblyDir: string;
let outdir: string;
let tmp: string;
let caFile: string;
let aws: AwsEmulator;
let responses: Map<string, string>;
let responseServer: https.Server;
let proxy: Server;
let proxyConnections = 0;
let admin: mysql.Connection;
const hosts: ChildProcess[] = [];
const rehearsed = new Set<string>();
/** What the Lambda API emulator answers to GetAccountSettings. */
let account = { limit: 1000, unreserved: 1000 };
/** The poller network interfaces EC2 lists in the VPC. */
let enis: string[] = [];

/** Variables whose values are intrinsics in the template, as the local services see them. */
function localValue(variable: string): string {
  const values: Record<string, string> = {
    WARREN_AMQP_ENDPOINT: 'amqp://127.0.0.1:5672',
    WARREN_AMQP_SECRET_ARN: SECRET_ARN,
    WARREN_DB_HOST: '127.0.0.1',
    WARREN_DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/rehearsal-never-written',
    // the topology function's own broker settings, read by the shard drains it serves
    WARREN_BROKER_ENDPOINT: 'amqp://127.0.0.1:5672',
    WARREN_BROKER_CONSOLE_URL: MANAGEMENT,
    WARREN_BROKER_SECRET_ARN: SECRET_ARN,
    // the broker monitor's metric dimension (AWS::StackName)
    WARREN_STACK_NAME: 'WarrenRehearsal',
    // custom resource properties
    BrokerEndpoint: 'amqp://127.0.0.1:5672',
    ConsoleUrl: MANAGEMENT,
    SecretArn: SECRET_ARN,
    AdminSecretArn: SECRET_ARN,
    AppSecretArn: APP_SECRET_ARN,
    // the migrations resource's target (instance, proxy, database, users): only there so a new target is an Update
    Target: 'rehearsal-target',
    VpcId: 'vpc-0rehearsal',
    AccountId: '111122223333',
    BrokerArn: 'arn:aws:mq:eu-west-1:111122223333:broker:warren:b-9bcfa592-423a-4942-879d-eb284b418fc8',
  };
  const value = values[variable];
  if (value === undefined) throw new Error(`the rehearsal does not know a local value for ${variable}, an intrinsic in the template: add it to localValue()`);
  return value;
}

function localized(values: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === 'string' ? v : localValue(k)]));
}

function templateOf(s: Stack): Template {
  return JSON.parse(readFileSync(join(assemblyDir, s instanceof NestedStack ? s.templateFile : s.templateFile), 'utf8')) as Template;
}

/** The function as the template deploys it: its asset directory (from the S3 key), handler and environment. */
function deployed(fn: NodejsFunction): DeployedFunction {
  const s = CdkStack.of(fn);
  const logicalId = s.resolve((fn.node.defaultChild as CfnFunction).logicalId) as string;
  const resource = templateOf(s).Resources[logicalId];
  if (resource === undefined) throw new Error(`no ${logicalId} in ${s.templateFile}`);
  const props = resource.Properties as { Code: { S3Key: string }; Handler: string; Environment?: { Variables?: Record<string, unknown> } };
  return { logicalId, assetDir: join(assemblyDir, `asset.${props.Code.S3Key.replace(/\.zip$/, '')}`), handler: props.Handler, environment: props.Environment?.Variables ?? {} };
}

/** The Provider framework code behind a custom resource (the CDK function CloudFormation calls), and its properties. */
function frameworkDir(s: Stack, resourceType: string): { dir: string; properties: Record<string, unknown>; logicalId: string } {
  const template = templateOf(s);
  const [logicalId, resource] = Object.entries(template.Resources).find(([, r]) => r.Type === resourceType) ?? [];
  if (resource === undefined || logicalId === undefined) throw new Error(`no ${resourceType} in ${s.templateFile}`);
  // Every Provider framework function ships the same asset (aws-cdk-lib's provider-framework/runtime); a nested stack's
  // custom resource gets the parent's function ARN as a parameter, so look for the framework in both templates.
  const frameworks = [template, templateOf(stack)].flatMap((t) => Object.values(t.Resources))
    .filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Handler === 'framework.onEvent')
    .map((r) => (r.Properties as { Code: { S3Key: string } }).Code.S3Key);
  expect(new Set(frameworks).size).toBe(1);
  const { ServiceToken: _token, ...properties } = resource.Properties;
  return { dir: join(assemblyDir, `asset.${frameworks[0]!.replace(/\.zip$/, '')}`), properties, logicalId };
}

/** Starts an execution environment for `fn` (optionally behind its Provider framework), with the template's environment. */
async function startHost(fn: DeployedFunction, options: { framework?: string; assetDir?: string; extraEnv?: Record<string, string>; timeoutMs?: number; waiter?: Waiter } = {}): Promise<Host> {
  rehearsed.add(fn.logicalId);
  const [file, exportName] = fn.handler.split('.') as [string, string];
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WARREN_') && !k.startsWith('AWS_') && k !== 'DATABASE_URL'));
  const env = {
    ...base,
    ...localized(fn.environment),
    // RDS Proxy stand-in: the TLS proxy's port, and a password instead of an IAM token (see the file comment).
    ...(fn.environment.WARREN_DB_HOST === undefined ? {} : {
      WARREN_DB_PORT: String((proxy.address() as AddressInfo).port), WARREN_DB_USER: dbUser, WARREN_DB_NAME: database,
      WARREN_DB_IAM_AUTH: 'false', WARREN_DB_PASSWORD: dbPassword,
    }),
    ...options.extraEnv,
    WARREN_LOG_LEVEL: 'warn',
    AWS_LAMBDA_FUNCTION_NAME: fn.logicalId,
    LAMBDA_TASK_ROOT: options.assetDir ?? fn.assetDir,
    AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIAREHEARSAL', AWS_SECRET_ACCESS_KEY: 'rehearsal', AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url, AWS_ENDPOINT_URL_EC2: aws.url, AWS_ENDPOINT_URL_LAMBDA: aws.url,
    NODE_EXTRA_CA_CERTS: caFile,
    WARREN_REHEARSAL_RESPONSE_PORT: String((responseServer.address() as AddressInfo).port),
    USER_ON_EVENT_FUNCTION_ARN: `arn:aws:lambda:eu-west-1:111122223333:function:${fn.logicalId}`,
    ...(options.waiter === undefined ? {} : {
      USER_IS_COMPLETE_FUNCTION_ARN: `arn:aws:lambda:eu-west-1:111122223333:function:${fn.logicalId}`,
      WAITER_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:111122223333:stateMachine:rehearsal-waiter',
    }),
    WARREN_REHEARSAL_HOST: JSON.stringify({
      bundle: join(options.assetDir ?? fn.assetDir, `${file}.js`), exportName,
      ...(options.framework === undefined ? {} : { framework: join(options.framework, 'framework.js') }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.waiter === undefined ? {} : { waiter: options.waiter }),
    }),
  };
  const child = fork(join(import.meta.dirname, 'rehearsal/lambdaHost.ts'), [], { execArgv: ['--import', 'tsx'], env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  hosts.push(child);
  let output = '';
  child.stdout?.on('data', (c: Buffer) => { output += c.toString(); });
  child.stderr?.on('data', (c: Buffer) => { output += c.toString(); });
  const next = () => new Promise<{ ok: boolean; result?: unknown; errorMessage?: string; ready?: boolean }>((ok, fail) => {
    const onExit = (code: number | null) => fail(new Error(`lambda host exited with ${code}: ${output.slice(-2000)}`));
    child.once('exit', onExit);
    child.once('message', (m) => { child.off('exit', onExit); ok(m as { ok: boolean }); });
  });
  await next();
  return {
    call: (request) => { const reply = next(); child.send(request); return reply; },
    output: () => output,
  };
}

/** Sends CloudFormation's request through the framework; returns the body it PUT to the ResponseURL. */
async function cloudFormation(host: Host, resource: { logicalId: string; type: string; properties: Record<string, unknown> }, requestType: 'Create' | 'Update' | 'Delete', extra: { physicalId?: string; oldProperties?: Record<string, unknown> } = {}): Promise<{ raw: string; body: CfnResponseBody; killed: number; isCompleteCalls: number }> {
  const requestId = randomUUID();
  const event = {
    RequestType: requestType,
    ServiceToken: 'arn:aws:lambda:eu-west-1:111122223333:function:framework-onEvent',
    ResponseURL: `https://127.0.0.1/cloudformation-custom-resource-response-euwest1/${requestId}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=7200&X-Amz-Signature=0f1e`,
    StackId: STACK_ID,
    RequestId: requestId,
    LogicalResourceId: resource.logicalId,
    ResourceType: resource.type,
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:eu-west-1:111122223333:function:framework-onEvent', ...resource.properties },
    ...(extra.physicalId === undefined ? {} : { PhysicalResourceId: extra.physicalId }),
    ...(extra.oldProperties === undefined ? {} : { OldResourceProperties: extra.oldProperties }),
  };
  const reply = await host.call({ cmd: 'cfn', event });
  expect(reply, host.output().slice(-3000)).toMatchObject({ ok: true });
  const raw = responses.get(requestId);
  if (raw === undefined) throw new Error(`no response was PUT for ${requestType} ${resource.logicalId}: ${host.output().slice(-3000)}`);
  const { timedOut, isCompleteCalls } = (reply.result ?? {}) as { timedOut?: number; isCompleteCalls?: number };
  return { raw, body: JSON.parse(raw) as CfnResponseBody, killed: timedOut ?? 0, isCompleteCalls: isCompleteCalls ?? 0 };
}

/** A port nothing listens on (bound, then closed): an unreachable broker, without touching the shared one. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

async function management(method: string, path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${MANAGEMENT}${path}`, { method, headers: { authorization: MANAGEMENT_AUTH } });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) as unknown };
}

async function queueNames(): Promise<string[]> {
  const { body } = await management('GET', `/api/queues/${encodeURIComponent(vhost)}`);
  return (body as { name: string }[]).map((q) => q.name).sort();
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'warren-rehearsal-'));
  // A throw-away certificate for 127.0.0.1: the TLS proxy's and the ResponseURL server's.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=warren-rehearsal', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', join(tmp, 'key.pem'), '-out', join(tmp, 'cert.pem')], { stdio: 'ignore' });
  caFile = join(tmp, 'cert.pem');
  const cert = readFileSync(caFile, 'utf8');
  const key = readFileSync(join(tmp, 'key.pem'), 'utf8');

  // Synthesise the app, bundling every function.
  outdir = mkdtempSync(join(tmpdir(), 'warren-rehearsal-cdk-'));
  const started = Date.now();
  const created = await createWarrenApp({ projectRoot: root, config, outdir, nag: false });
  stack = created.stack;
  assemblyDir = created.app.synth().directory;
  console.log(`rehearsal synth: ${Date.now() - started} ms`);

  // The stand-ins.
  aws = await startAwsEmulator({ [SECRET_ARN]: { username: 'guest', password: 'guest' }, [APP_SECRET_ARN]: appUser }, () => enis, () => account);
  responses = new Map();
  responseServer = https.createServer({ cert, key }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      const id = new URL(req.url ?? '/', 'https://127.0.0.1').pathname.split('/').pop() ?? '';
      if (req.method === 'PUT') responses.set(id, body);
      res.writeHead(req.method === 'PUT' ? 200 : 405).end();
    });
  });
  await new Promise<void>((r) => responseServer.listen(0, '127.0.0.1', r));
  const backend = new URL(ADMIN_DB_URL);
  proxy = await startProxy({ backendHost: backend.hostname, backendPort: Number(backend.port || 3306), cert, key, line: new DelayLine(0) });
  proxy.on('connection', () => { proxyConnections += 1; });

  admin = await mysql.createConnection({ uri: ADMIN_DB_URL });
  await admin.query(`CREATE DATABASE \`${database}\``);
  await admin.query('CREATE USER ?@? IDENTIFIED BY ?', [dbUser, '%', dbPassword]);
  // What the RDS master user holds that the migrations need: all on the database (with GRANT OPTION) and CREATE USER.
  await admin.query(`GRANT ALL PRIVILEGES ON \`${database}\`.* TO ?@? WITH GRANT OPTION`, [dbUser, '%']);
  await admin.query('GRANT CREATE USER ON *.* TO ?@?', [dbUser, '%']);
}, 600_000); // synth with bundling takes 60-90 s alone here, minutes beside the other infra synths

afterAll(async () => {
  for (const child of hosts) child.kill();
  await management('DELETE', `/api/vhosts/${encodeURIComponent(vhost)}`).catch(() => undefined);
  await admin?.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await admin?.query('DROP USER IF EXISTS ?@?', [dbUser, '%']);
  await admin?.query('DROP USER IF EXISTS ?@?', [appUser.username, '%']);
  await fetch(`${MANAGEMENT}/api/users/${encodeURIComponent(appUser.username)}`, { method: 'DELETE', headers: { authorization: MANAGEMENT_AUTH } }).catch(() => undefined);
  await admin?.end();
  proxy?.close();
  responseServer?.closeAllConnections();
  responseServer?.close();
  await aws?.close();
  for (const dir of [outdir, tmp]) if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('Deploy rehearsal: the migrations custom resource', () => {
  it('creates the schema through the TLS proxy with a password, and answers Create and Update with the same physical id', async () => {
    const fn = deployed(stack.migrations!.function);
    expect(fn.environment).toMatchObject({ WARREN_DB_TLS: 'true', WARREN_DB_IAM_AUTH: 'true' });
    const cr = frameworkDir(stack, 'Custom::WarrenMigrations');
    const host = await startHost(fn, { framework: cr.dir });
    const resource = { logicalId: cr.logicalId, type: 'Custom::WarrenMigrations', properties: localized(cr.properties) };
    const create = await cloudFormation(host, resource, 'Create');
    expect(responseProblems(create.raw)).toEqual([]);
    expect(create.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'warren-migrations', Data: { FileCount: 1 } });
    expect(proxyConnections).toBeGreaterThan(0);
    const [tables] = await admin.query('SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME', [database]);
    expect((tables as { t: string }[]).map((r) => r.t)).toEqual(expect.arrayContaining(['orders', 'sku_totals']));
    // and the application user, from its secret (runtime/db/appDatabaseUser.ts)
    const [users] = await admin.query('SELECT COUNT(*) AS n FROM mysql.user WHERE User = ?', [appUser.username]);
    expect(Number((users as { n: number }[])[0]?.n)).toBe(1);

    const update = await cloudFormation(host, resource, 'Update', { physicalId: create.body.PhysicalResourceId, oldProperties: cr.properties });
    expect(responseProblems(update.raw)).toEqual([]);
    expect(update.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: create.body.PhysicalResourceId });
  });

  it('answers FAILED naming the file and the statement when a SQL file fails, within 4,096 bytes', async () => {
    const fn = deployed(stack.migrations!.function);
    const broken = join(tmp, 'broken-asset');
    cpSync(fn.assetDir, broken, { recursive: true });
    writeFileSync(join(broken, 'migrations/0000.sql'), 'CREATE TABLE IF NOT EXISTS rehearsal_ok (id INT);\nCREATE TABLE rehearsal_broken (id INT,;\n');
    const cr = frameworkDir(stack, 'Custom::WarrenMigrations');
    const host = await startHost(fn, { framework: cr.dir, assetDir: broken });
    const failed = await cloudFormation(host, { logicalId: cr.logicalId, type: 'Custom::WarrenMigrations', properties: cr.properties }, 'Create');
    expect(responseProblems(failed.raw)).toEqual([]);
    expect(failed.body.Status).toBe('FAILED');
    expect(failed.body.Reason).toMatch(/^Migration functions\/schema\.sql failed at statement 2 \(CREATE TABLE rehearsal_broken \(id INT,\): You have an error in your SQL syntax/);
    console.log(`FAILED response: ${Buffer.byteLength(failed.raw)} bytes of ${CFN_RESPONSE_LIMIT_BYTES}`);
  });

  it('answers FAILED when CREATE USER fails, with the application user\'s password nowhere in the logs, the Reason or the response', async () => {
    // A master user that may not create users: the migration's CREATE USER ... IDENTIFIED BY ? really fails on MariaDB.
    const limited = { user: `wrehnc_${suffix}`, password: `nc-${randomBytes(8).toString('hex')}` };
    await admin.query('CREATE USER ?@? IDENTIFIED BY ?', [limited.user, '%', limited.password]);
    await admin.query(`GRANT ALL PRIVILEGES ON \`${database}\`.* TO ?@?`, [limited.user, '%']);
    try {
      const cr = frameworkDir(stack, 'Custom::WarrenMigrations');
      const host = await startHost(deployed(stack.migrations!.function), { framework: cr.dir, extraEnv: { WARREN_DB_USER: limited.user, WARREN_DB_PASSWORD: limited.password } });
      const failed = await cloudFormation(host, { logicalId: cr.logicalId, type: 'Custom::WarrenMigrations', properties: localized(cr.properties) }, 'Create');
      expect(failed.body.Status).toBe('FAILED');
      expect(failed.body.Reason).toMatch(/Access denied; you need \(at least one of\) the CREATE USER privilege/);
      // The runtime's "Invoke Error" line (every enumerable property) and the function's own lines were written.
      expect(host.output()).toContain('Invoke Error');
      expect(host.output()).toContain('ER_SPECIFIC_ACCESS_DENIED_ERROR');
      expect(host.output()).not.toContain(appUser.password);
      expect(failed.raw).not.toContain(appUser.password);
    } finally {
      await admin.query('DROP USER IF EXISTS ?@?', [limited.user, '%']);
    }
  });
});

describe('Deploy rehearsal: the topology custom resource', () => {
  let host: Host;
  let resource: { logicalId: string; type: string; properties: Record<string, unknown> };

  beforeAll(async () => {
    const cr = frameworkDir(stack, 'Custom::WarrenTopology');
    resource = { logicalId: cr.logicalId, type: 'Custom::WarrenTopology', properties: localized(cr.properties) };
    host = await startHost(deployed(stack.topology.function), { framework: cr.dir });
  });

  it('creates the vhost through the real management API and declares the shards in it on Create; a second Create changes nothing', async () => {
    expect((await management('GET', `/api/vhosts/${encodeURIComponent(vhost)}`)).status).toBe(404);
    const create = await cloudFormation(host, resource, 'Create');
    expect(responseProblems(create.raw)).toEqual([]);
    expect(create.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'warren-topology', Data: { QueueCount: 2, OrphanCount: 0 } });
    expect((await management('GET', `/api/vhosts/${encodeURIComponent(vhost)}`)).status).toBe(200);
    expect(await queueNames()).toEqual([`${queue}.0`, `${queue}.1`, `${queue}.dlq`]);
    expect(aws.calls).toContainEqual({ api: 'secretsmanager:GetSecretValue', input: SECRET_ARN });

    // A message waiting in a shard stays there through a repeated Create.
    const connection = await amqp.connect(`${AMQP_URL}/${encodeURIComponent(vhost)}`);
    const channel = await connection.createConfirmChannel();
    channel.sendToQueue(`${queue}.0`, Buffer.from('{"orderId":"waiting","sku":"s","quantity":1}'), { messageId: 'waiting' });
    await channel.waitForConfirms();
    const again = await cloudFormation(host, resource, 'Create');
    expect(again.body).toEqual({ ...create.body, RequestId: again.body.RequestId });
    expect(await queueNames()).toEqual([`${queue}.0`, `${queue}.1`, `${queue}.dlq`]);
    expect((await channel.checkQueue(`${queue}.0`)).messageCount).toBe(1);
    await connection.close();
  });

  it('declares the new shard on an Update with a higher concurrency and counts the surplus one after lowering it again, keeping its physical id', async () => {
    const handlers = JSON.parse(resource.properties.Handlers as string) as { concurrency: number }[];
    const raised = { ...resource, properties: { ...resource.properties, Handlers: JSON.stringify(handlers.map((h) => ({ ...h, concurrency: 3 }))) } };
    const up = await cloudFormation(host, raised, 'Update', { physicalId: 'warren-topology', oldProperties: resource.properties });
    expect(responseProblems(up.raw)).toEqual([]);
    expect(up.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'warren-topology', Data: { QueueCount: 3, OrphanCount: 0 } });
    expect(await queueNames()).toEqual([`${queue}.0`, `${queue}.1`, `${queue}.2`, `${queue}.dlq`]);
    const down = await cloudFormation(host, resource, 'Update', { physicalId: 'warren-topology', oldProperties: raised.properties });
    expect(down.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'warren-topology', Data: { QueueCount: 2, OrphanCount: 1 } });
  });

  it('leaves the queues and their messages on the broker on Delete', async () => {
    const deleted = await cloudFormation(host, resource, 'Delete', { physicalId: 'warren-topology' });
    expect(responseProblems(deleted.raw)).toEqual([]);
    expect(deleted.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'warren-topology' });
    expect(await queueNames()).toEqual([`${queue}.0`, `${queue}.1`, `${queue}.2`, `${queue}.dlq`]);
  });
});

describe('Deploy rehearsal: the broker user custom resource', () => {
  it('creates the application user through the real management API on Create and removes it on Delete', async () => {
    const cr = frameworkDir(stack, 'Custom::WarrenBrokerUser');
    const resource = { logicalId: cr.logicalId, type: 'Custom::WarrenBrokerUser', properties: localized(cr.properties) };
    const host = await startHost(deployed(stack.brokerUser.function), { framework: cr.dir });
    const create = await cloudFormation(host, resource, 'Create');
    expect(responseProblems(create.raw)).toEqual([]);
    expect(create.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: `warren-broker-user:${appUser.username}` });
    const permissions = await management('GET', `/api/permissions/${encodeURIComponent(vhost)}/${encodeURIComponent(appUser.username)}`);
    expect(permissions.body).toMatchObject({ configure: '^$', write: '^(?:amq\\.default|orders\\.events)$' });
    const deleted = await cloudFormation(host, resource, 'Delete', { physicalId: `warren-broker-user:${appUser.username}` });
    expect(deleted.body).toMatchObject({ Status: 'SUCCESS' });
    expect((await management('GET', `/api/users/${encodeURIComponent(appUser.username)}`)).status).toBe(404);
  });
});

describe('Deploy rehearsal: the functions the triggers and schedules invoke', () => {
  it('runs the handler on an aws:rmq event: commits through the TLS proxy and publishes its event to the broker with the secret\'s user', async () => {
    const tapConnection = await amqp.connect(`${AMQP_URL}/${encodeURIComponent(vhost)}`);
    const tap = await tapConnection.createChannel();
    const { queue: tapQueue } = await tap.assertQueue('', { exclusive: true });
    await tap.bindQueue(tapQueue, 'orders.events', '#');
    const fn = deployed(stack.handlers[0]!.function);
    const host = await startHost(fn);
    const data = Buffer.from(JSON.stringify({ orderId: `reh-${suffix}`, sku: 'sku-1', quantity: 3 })).toString('base64');
    const event = {
      eventSource: 'aws:rmq',
      eventSourceArn: 'arn:aws:mq:eu-west-1:111122223333:broker:warren:b-9bcfa592-423a-4942-879d-eb284b418fc8',
      rmqMessagesByQueue: { [`${queue}.0::${vhost}`]: [{ basicProperties: { contentType: 'application/json', headers: [], deliveryMode: 2, messageId: `reh-${suffix}`, bodySize: 50, timestamp: null }, redelivered: false, data }] },
    };
    const reply = await host.call({ cmd: 'invoke', event });
    expect(reply, host.output().slice(-2000)).toMatchObject({ ok: true });
    const [rows] = await admin.query(`SELECT quantity FROM \`${database}\`.orders WHERE order_id = ?`, [`reh-${suffix}`]);
    expect(rows).toEqual([{ quantity: 3 }]);
    const got = await waitFor('the order.accepted event', async () => (await tap.get(tapQueue, { noAck: true })) || undefined, 15_000);
    expect(JSON.parse(got.content.toString())).toMatchObject({ orderId: `reh-${suffix}`, sku: 'sku-1', quantity: 3 });
    await tapConnection.close();
  });

  it('runs the bundled handler answering a request (replies: true): the order\'s reply reaches the caller\'s reply queue with its correlation id', async () => {
    const callerConnection = await amqp.connect(`${AMQP_URL}/${encodeURIComponent(vhost)}`);
    const caller = await callerConnection.createChannel();
    const { queue: replyQueue } = await caller.assertQueue('', { exclusive: true });
    const host = await startHost(deployed(stack.handlers[0]!.function));
    const message = (body: unknown, id: string) => ({
      basicProperties: { contentType: 'application/json', headers: [], deliveryMode: 2, messageId: id, correlationId: `corr-${id}`, replyTo: replyQueue, bodySize: 50, timestamp: null },
      redelivered: false,
      data: Buffer.from(JSON.stringify(body)).toString('base64'),
    });
    const event = {
      eventSource: 'aws:rmq',
      eventSourceArn: 'arn:aws:mq:eu-west-1:111122223333:broker:warren:b-9bcfa592-423a-4942-879d-eb284b418fc8',
      rmqMessagesByQueue: { [`${queue}.1::${vhost}`]: [message({ orderId: `ask-${suffix}`, sku: 'sku-ask', quantity: 4 }, `ask-${suffix}`)] },
    };
    const result = await host.call({ cmd: 'invoke', event });
    expect(result, host.output().slice(-2000)).toMatchObject({ ok: true });
    const first = await waitFor('the reply', async () => (await caller.get(replyQueue, { noAck: true })) || undefined, 15_000);
    expect([JSON.parse(first.content.toString()), first.properties.correlationId]).toEqual([{ orderId: `ask-${suffix}`, sku: 'sku-ask', skuTotal: 4 }, `corr-ask-${suffix}`]);
    await callerConnection.close();
  });

  it('runs the outbox relay: publishes an old unsent outbox row of its handler and marks it sent', async () => {
    const tapConnection = await amqp.connect(`${AMQP_URL}/${encodeURIComponent(vhost)}`);
    const tap = await tapConnection.createChannel();
    const { queue: tapQueue } = await tap.assertQueue('', { exclusive: true });
    await tap.bindQueue(tapQueue, 'orders.events', '#');
    await admin.query(
      `INSERT INTO \`${database}\`.warren_outbox (handler, source_queue, exchange, routing_key, message_id, body, properties, created_at) VALUES (?, ?, 'orders.events', 'order.accepted', ?, ?, '{"headers":{}}', ?)`,
      [handlerName, `${queue}.0`, `left-behind-${suffix}`, Buffer.from('{"left":"behind"}'), new Date(Date.now() - 3_600_000)],
    );
    const host = await startHost(deployed(stack.outboxRelay!.function));
    const reply = await host.call({ cmd: 'invoke', event: { source: 'aws.events', 'detail-type': 'Scheduled Event' } });
    expect(reply, host.output().slice(-2000)).toMatchObject({ ok: true, result: { published: 1 } });
    const got = await waitFor('the relayed row', async () => (await tap.get(tapQueue, { noAck: true })) || undefined, 15_000);
    expect(got.properties.messageId).toBe(`left-behind-${suffix}`);
    const [sent] = await admin.query(`SELECT sent_at IS NOT NULL AS sent FROM \`${database}\`.warren_outbox WHERE message_id = ?`, [`left-behind-${suffix}`]);
    expect(sent).toEqual([{ sent: 1 }]);
    await tapConnection.close();
  });

  it('runs the pruning function as the application user: deletes old inbox and sent outbox rows in batches and keeps recent and unsent ones', async () => {
    const fn = deployed(stack.pruner.function);
    expect(fn.environment).toMatchObject({ WARREN_PRUNE_RETENTION_DAYS: '7', WARREN_DB_USER: 'warren_app', WARREN_DB_IAM_AUTH: 'true', WARREN_DB_TLS: 'true' });
    const pruned = `pruned-${suffix}`;
    const inbox = (key: string, daysAgo: number) => [pruned, key, new Date(Date.now() - daysAgo * 86_400_000)];
    await admin.query(`INSERT INTO \`${database}\`.warren_inbox (handler, message_key, processed_at) VALUES ?`, [[
      ...Array.from({ length: 7 }, (_, i) => inbox(`old-${i}`, 8)), inbox('recent', 1),
    ]]);
    const outbox = (id: string, sentDaysAgo: number | null) => [pruned, `${queue}.0`, 'orders.events', 'k', id, Buffer.from('{}'), '{}', new Date(Date.now() - 9 * 86_400_000), sentDaysAgo === null ? null : new Date(Date.now() - sentDaysAgo * 86_400_000)];
    await admin.query(`INSERT INTO \`${database}\`.warren_outbox (handler, source_queue, exchange, routing_key, message_id, body, properties, created_at, sent_at) VALUES ?`, [[
      outbox('old-sent-0', 8), outbox('old-sent-1', 8), outbox('old-sent-2', 8), outbox('recent-sent', 0), outbox('old-unsent', null),
    ]]);
    // As the application user with its DML grants only (the migrations resource made it; again here if run alone), and
    // batches of 3 rows (5,000 by default), so the loop shows: inbox 3 + 3 + 1, replies 0, outbox 3 + 0.
    await admin.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [appUser.username, '%', appUser.password]);
    await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON \`${database}\`.* TO ?@?`, [appUser.username, '%']);
    const host = await startHost(fn, { extraEnv: { WARREN_DB_USER: appUser.username, WARREN_DB_PASSWORD: appUser.password, WARREN_PRUNE_BATCH_SIZE: '3' } });
    const reply = await host.call({ cmd: 'invoke', event: { source: 'aws.events', 'detail-type': 'Scheduled Event' } });
    expect(reply, host.output().slice(-2000)).toMatchObject({ ok: true, result: { deleted: { warren_inbox: 7, warren_replies: 0, warren_outbox: 3 }, batches: 6, complete: true } });
    const [inboxLeft] = await admin.query(`SELECT message_key AS k FROM \`${database}\`.warren_inbox WHERE handler = ? ORDER BY k`, [pruned]);
    expect(inboxLeft).toEqual([{ k: 'recent' }]);
    const [outboxLeft] = await admin.query(`SELECT message_id AS k FROM \`${database}\`.warren_outbox WHERE handler = ? ORDER BY k`, [pruned]);
    expect(outboxLeft).toEqual([{ k: 'old-unsent' }, { k: 'recent-sent' }]);
  });

  it('runs the broker monitor: reads the handler\'s dead letters and its shards without a consumer in the vhost', async () => {
    const host = await startHost(deployed(stack.brokerMonitor.function));
    const reply = await host.call({ cmd: 'invoke', event: { source: 'aws.events' } });
    expect(reply, host.output().slice(-2000)).toMatchObject({ ok: true, result: { deadLetters: { [handlerName]: 0 }, totalDeadLetters: 0, shardsWithoutConsumer: [`${queue}.0`, `${queue}.1`], unreadable: [] } });
    expect(host.output()).toContain('"BrokerDeadLetters":0');
    expect(host.output()).toContain('"Stack":"WarrenRehearsal"');
  });
});

describe('Deploy rehearsal: the trigger-teardown custom resource', () => {
  it('does nothing on Create and, on Delete, asks EC2 for the pollers\' interfaces in the stack\'s VPC', async () => {
    const nested = stack.handlerGroups[0]!;
    const cr = frameworkDir(nested, 'Custom::WarrenTriggerTeardown');
    const fn = stack.node.findAll().find((c): c is NodejsFunction => c instanceof NodejsFunction && c.node.path.includes('TriggerTeardown'))!;
    const host = await startHost(deployed(fn), { framework: cr.dir, waiter: { intervalMs: 100, maxAttempts: 50 } });
    const resource = { logicalId: cr.logicalId, type: 'Custom::WarrenTriggerTeardown', properties: localized(cr.properties) };
    const create = await cloudFormation(host, resource, 'Create');
    expect(responseProblems(create.raw)).toEqual([]);
    expect(create.body).toMatchObject({ Status: 'SUCCESS' });
    const before = aws.calls.length;
    const deleted = await cloudFormation(host, resource, 'Delete', { physicalId: create.body.PhysicalResourceId });
    expect(responseProblems(deleted.raw)).toEqual([]);
    expect(deleted.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: create.body.PhysicalResourceId });
    expect(aws.calls.slice(before)).toContainEqual({ api: 'ec2:DescribeNetworkInterfaces', input: { 'vpc-id': 'vpc-0rehearsal', description: 'AWS Lambda VPC ENI-armq-111122223333-*' } });
  });
});

describe('Deploy rehearsal: the account-concurrency custom resource (when the stack has one)', () => {
  const present = () => Object.values(templateOf(stack).Resources).some((r) => r.Type === 'Custom::WarrenAccountConcurrency');

  it('answers SUCCESS when the account has the concurrency, and FAILED with the numbers and the fix when it does not', async (context) => {
    if (!present()) context.skip();
    const cr = frameworkDir(stack, 'Custom::WarrenAccountConcurrency');
    const fn = stack.node.findAll().find((c): c is NodejsFunction => c instanceof NodejsFunction && c.node.path.includes('AccountConcurrency'))!;
    const host = await startHost(deployed(fn), { framework: cr.dir });
    const resource = { logicalId: cr.logicalId, type: 'Custom::WarrenAccountConcurrency', properties: localized(cr.properties) };
    account = { limit: 1000, unreserved: 1000 };
    const ok = await cloudFormation(host, resource, 'Create');
    expect(responseProblems(ok.raw)).toEqual([]);
    expect(ok.body.Status).toBe('SUCCESS');
    expect(aws.calls).toContainEqual({ api: 'lambda:GetAccountSettings', input: null });
    account = { limit: 10, unreserved: 10 };
    // An update that needs more than before (OldResourceProperties) is checked, and refused.
    const smaller = { ...resource.properties, Required: '1' };
    const refused = await cloudFormation(host, resource, 'Update', { physicalId: ok.body.PhysicalResourceId, oldProperties: smaller });
    expect(responseProblems(refused.raw)).toEqual([]);
    expect(refused.body.Status).toBe('FAILED');
    expect(refused.body.PhysicalResourceId).toBe(ok.body.PhysicalResourceId);
    expect(refused.body.Reason).toMatch(/concurrent Lambda executions/);
    // Its rollback (Update back to the old properties) and the stack's deletion succeed, although the account shrank.
    const rollback = await cloudFormation(host, { ...resource, properties: smaller }, 'Update', { physicalId: ok.body.PhysicalResourceId, oldProperties: resource.properties });
    expect(rollback.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: ok.body.PhysicalResourceId });
    const deleted = await cloudFormation(host, resource, 'Delete', { physicalId: ok.body.PhysicalResourceId });
    expect(deleted.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: ok.body.PhysicalResourceId });
  });
});

/**
 * The deletes CloudFormation sends outside a clean deploy (issue 26): Delete and rollback-Update events with
 * `OldResourceProperties`, the broker unreachable (a closed port: the shared broker is never stopped), and each
 * function run with a short timeout (`timeoutMs`: killed as Lambda kills it, answered `Sandbox.Timedout`). Every
 * answer must be SUCCESS, none may hang. The asynchronous resources run behind their waiter (lambdaHost.ts).
 */
describe('Delete rehearsal: the custom resources CloudFormation deletes in a cleanup phase, a rollback or a destroy', () => {
  const waiter: Waiter = { intervalMs: 100, maxAttempts: 200 };

  it('drains a surplus shard when the group\'s old drain resource is deleted after a lowered concurrency (asynchronous, each call within a 4 s timeout)', async () => {
    // The topology rehearsal above raised the handler to 3 shards and lowered it to 2: shard 2 is unbound, and gets a backlog.
    const connection = await amqp.connect(`${AMQP_URL}/${encodeURIComponent(vhost)}`);
    const channel = await connection.createConfirmChannel();
    for (let i = 0; i < 30; i += 1) channel.sendToQueue(`${queue}.2`, Buffer.from(JSON.stringify({ orderId: `surplus-${i}`, sku: 's', quantity: 1 })), { messageId: `surplus-${i}`, persistent: true });
    await channel.waitForConfirms();
    const before = (await channel.checkQueue(`${queue}.0`)).messageCount + (await channel.checkQueue(`${queue}.1`)).messageCount;
    await connection.close();
    const nested = stack.handlerGroups[0]!;
    const cr = frameworkDir(nested, 'Custom::WarrenShardDrain');
    const host = await startHost(deployed(stack.topology.function), { framework: cr.dir, waiter, timeoutMs: 4_000 });
    const shards = (JSON.parse(cr.properties.Shards as string) as { concurrency: number }[]).map((h) => ({ ...h, concurrency: 3 }));
    const oldResource = { logicalId: cr.logicalId, type: 'Custom::WarrenShardDrain', properties: { ...cr.properties, Shards: JSON.stringify(shards) } };
    const deleted = await cloudFormation(host, oldResource, 'Delete', { physicalId: 'warren-shard-drain' });
    expect(responseProblems(deleted.raw)).toEqual([]);
    expect(deleted.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'warren-shard-drain', Data: { Left: '' } });
    expect(deleted.killed).toBe(0);
    expect(deleted.isCompleteCalls).toBeGreaterThanOrEqual(1);
    expect(await queueNames()).toEqual([`${queue}.0`, `${queue}.1`, `${queue}.dlq`]);
    const after = await amqp.connect(`${AMQP_URL}/${encodeURIComponent(vhost)}`);
    const check = await after.createChannel();
    expect((await check.checkQueue(`${queue}.0`)).messageCount + (await check.checkQueue(`${queue}.1`)).messageCount).toBe(before + 30);
    await after.close();
  });

  it('answers SUCCESS for the drain resource\'s Delete when the broker is unreachable, once its give-up time passed', async () => {
    const nested = stack.handlerGroups[0]!;
    const cr = frameworkDir(nested, 'Custom::WarrenShardDrain');
    const port = await closedPort();
    const host = await startHost(deployed(stack.topology.function), {
      framework: cr.dir, waiter, timeoutMs: 3_000,
      extraEnv: { WARREN_BROKER_ENDPOINT: `amqp://127.0.0.1:${port}`, WARREN_BROKER_CONSOLE_URL: `http://127.0.0.1:${port}` },
    });
    const resource = { logicalId: cr.logicalId, type: 'Custom::WarrenShardDrain', properties: { ...cr.properties, GiveUpSeconds: '2' } };
    const deleted = await cloudFormation(host, resource, 'Delete', { physicalId: 'warren-shard-drain' });
    expect(responseProblems(deleted.raw)).toEqual([]);
    expect(deleted.body).toMatchObject({ Status: 'SUCCESS', Data: { Left: 'error' } });
    expect(deleted.killed).toBe(0);
    expect(deleted.isCompleteCalls).toBeGreaterThanOrEqual(2);
  });

  it('answers SUCCESS for the trigger teardown\'s Delete when a poller interface never goes, after WaitSeconds, each look within a 10 s timeout', async () => {
    const nested = stack.handlerGroups[0]!;
    const cr = frameworkDir(nested, 'Custom::WarrenTriggerTeardown');
    const fn = stack.node.findAll().find((c): c is NodejsFunction => c instanceof NodejsFunction && c.node.path.includes('TriggerTeardown'))!;
    // 10 s: the first look loads the EC2 and Lambda SDK clients (seconds on a loaded machine); the function's own timeout is 1 minute
    const host = await startHost(deployed(fn), { framework: cr.dir, waiter, timeoutMs: 10_000 });
    enis = ['eni-0stuck'];
    try {
      const resource = { logicalId: cr.logicalId, type: 'Custom::WarrenTriggerTeardown', properties: { ...localized(cr.properties), WaitSeconds: '2' } };
      const deleted = await cloudFormation(host, resource, 'Delete', { physicalId: 'warren-trigger-teardown' });
      expect(responseProblems(deleted.raw)).toEqual([]);
      expect(deleted.body, deleted.body.Reason).toMatchObject({ Status: 'SUCCESS', Data: { Left: '1: eni-0stuck' } });
      expect(deleted.killed).toBe(0);
    } finally {
      enis = [];
    }
  });

  it('answers SUCCESS for the broker user\'s Delete when the management API is unreachable, within a 4 s timeout', async () => {
    const cr = frameworkDir(stack, 'Custom::WarrenBrokerUser');
    const host = await startHost(deployed(stack.brokerUser.function), { framework: cr.dir, timeoutMs: 4_000 });
    const resource = { logicalId: cr.logicalId, type: 'Custom::WarrenBrokerUser', properties: { ...localized(cr.properties), ConsoleUrl: `http://127.0.0.1:${await closedPort()}` } };
    const deleted = await cloudFormation(host, resource, 'Delete', { physicalId: `warren-broker-user:${appUser.username}` });
    expect(responseProblems(deleted.raw)).toEqual([]);
    expect(deleted.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: `warren-broker-user:${appUser.username}` });
    expect(deleted.killed).toBe(0);
  });

  it('answers SUCCESS for the topology and migrations Deletes with the broker and the database unreachable', async () => {
    const port = await closedPort();
    for (const [type, fn] of [['Custom::WarrenTopology', stack.topology.function], ['Custom::WarrenMigrations', stack.migrations!.function]] as const) {
      const cr = frameworkDir(stack, type);
      const host = await startHost(deployed(fn), { framework: cr.dir, timeoutMs: 4_000, extraEnv: { WARREN_DB_PORT: String(port) } });
      const resource = { logicalId: cr.logicalId, type, properties: { ...localized(cr.properties), ...('BrokerEndpoint' in cr.properties ? { BrokerEndpoint: `amqp://127.0.0.1:${port}`, ConsoleUrl: `http://127.0.0.1:${port}` } : {}) } };
      const deleted = await cloudFormation(host, resource, 'Delete', { physicalId: type === 'Custom::WarrenTopology' ? 'warren-topology' : 'warren-migrations' });
      expect(deleted.body, type).toMatchObject({ Status: 'SUCCESS' });
    }
  });
});

describe('Deploy rehearsal: coverage', () => {
  it('has run every function of its own the stack deploys (the Provider framework ran behind each custom resource)', () => {
    const ours = stack.node.findAll().filter((c): c is NodejsFunction => c instanceof NodejsFunction).map((fn) => deployed(fn).logicalId);
    expect(ours.length).toBeGreaterThanOrEqual(6);
    expect(ours.filter((id) => !rehearsed.has(id))).toEqual([]);
  });
});
