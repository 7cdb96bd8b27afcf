/**
 * Rehearsal of the privilege split against the local RabbitMQ (management API on :15672) and MariaDB: the BUNDLED code
 * of the broker-user and migrations custom resources (esbuild, as `WarrenFunction` bundles it: CommonJS, node22, every
 * dependency inside) runs its own Secrets Manager client against a stand-in speaking Secrets Manager's protocol. Then
 * the application users' credentials are used the way a handler uses them: what a handler needs works, what it must
 * not do is refused by the broker (ACCESS_REFUSED) and by MariaDB (ER_TABLEACCESS_DENIED_ERROR ...).
 * Every vhost, queue, user and database here is created by this file with a unique name and removed at the end.
 */
import amqp, { type ChannelModel } from 'amqplib';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { build } from 'esbuild';
import mysql from 'mysql2/promise';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerAppPermissions } from '../../topology/brokerPermissions.js';
import { resolveConfig } from '../../config/config.js';
import { declareAll } from '../../lib/functions/topologyResource.js';
import { createTestDatabase, type TestDatabase, waitFor } from '../helpers/services.js';
import { startAwsEmulator, type AwsEmulator } from './rehearsal/awsEmulator.js';

const root = resolve(import.meta.dirname, '../..');
const MANAGEMENT = process.env.WARREN_TEST_MANAGEMENT_URL ?? 'http://127.0.0.1:15672';
const ADMIN = { username: 'guest', password: 'guest' };
const suffix = randomBytes(4).toString('hex');
const vhost = `warren-priv-${suffix}`;
const queue = `priv-orders-${suffix}`;
const events = `priv-events-${suffix}`;
const brokerApp = { username: `warren_app_${suffix}`, password: randomBytes(16).toString('hex') };
const dbApp = { username: `wapp_${suffix}`, password: randomBytes(16).toString('hex') };
const ARN = (name: string) => `arn:aws:secretsmanager:us-east-1:111122223333:secret:${name}-AbCdEf`;
const handlers = resolveConfig({
  handlers: [{ name: 'orders', entry: 'functions/orders.ts', queue, vhost, concurrency: 2, publishes: [{ exchange: events, type: 'topic' }] }],
}).handlers;

type OnEvent = (event: CloudFormationCustomResourceEvent) => Promise<{ PhysicalResourceId: string; Data: Record<string, string> }>;
let workDir: string;
let secrets: AwsEmulator;
let brokerUserResource: OnEvent;
let migrationsResource: OnEvent;
let db: TestDatabase;
const savedEnv = { ...process.env };

/** Bundles `entry` the way WarrenFunction does and loads its `handler` export. */
async function bundle(entry: string): Promise<OnEvent> {
  const outfile = join(workDir, `${entry.replace(/\W/g, '_')}.cjs`);
  await build({ entryPoints: [join(root, entry)], outfile, bundle: true, platform: 'node', format: 'cjs', target: 'node22', logLevel: 'silent' });
  return (createRequire(import.meta.url)(outfile) as { handler: OnEvent }).handler;
}

function event(type: 'Create' | 'Update' | 'Delete', resourceType: string, properties: Record<string, string>, physicalId?: string, old?: Record<string, string>): CloudFormationCustomResourceEvent {
  return {
    RequestType: type,
    ServiceToken: 'arn:aws:lambda:us-east-1:111122223333:function:provider',
    ResponseURL: 'https://example.invalid/response',
    StackId: 'arn:aws:cloudformation:us-east-1:111122223333:stack/Warren/1',
    RequestId: `req-${type}`,
    LogicalResourceId: resourceType,
    ResourceType: resourceType,
    ResourceProperties: { ServiceToken: 'x', ...properties },
    ...(physicalId === undefined ? {} : { PhysicalResourceId: physicalId }),
    ...(type === 'Update' ? { OldResourceProperties: old ?? {} } : {}),
  } as CloudFormationCustomResourceEvent;
}

async function management(method: string, path: string, credentials = ADMIN, body?: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${MANAGEMENT}${path}`, {
    method,
    headers: { authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) as unknown };
}

const userProps = (permissions = brokerAppPermissions(handlers)) => ({
  ConsoleUrl: MANAGEMENT, AdminSecretArn: ARN('admin'), AppSecretArn: ARN('broker-app'), Permissions: JSON.stringify(permissions),
});

/** The next message on `queue`, consumed the way a trigger consumes (basic.consume; quorum queues with single active consumer refuse basic.get). */
async function consumeOne(channel: amqp.Channel, name: string): Promise<amqp.ConsumeMessage> {
  return new Promise<amqp.ConsumeMessage>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`no message on ${name} within 10 s`)), 10_000);
    channel.consume(name, (msg) => {
      if (msg === null) return;
      clearTimeout(timer);
      void channel.cancel(msg.fields.consumerTag).then(() => res(msg), rej);
    }).catch((error: unknown) => { clearTimeout(timer); rej(error as Error); });
  });
}

function connectAs(credentials: { username: string; password: string }): Promise<ChannelModel> {
  return amqp.connect({ protocol: 'amqp', hostname: '127.0.0.1', port: 5672, username: credentials.username, password: credentials.password, vhost });
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'warren-priv-'));
  secrets = await startAwsEmulator({ [ARN('admin')]: ADMIN, [ARN('broker-app')]: brokerApp, [ARN('db-app')]: dbApp });
  Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url });
  [brokerUserResource, migrationsResource] = await Promise.all([bundle('lib/functions/brokerUserResource.ts'), bundle('lib/functions/migrationResource.ts')]);
  // The topology as the topology resource declares it (as the administrator), in a vhost of this file's own.
  await declareAll('amqp://127.0.0.1:5672', ADMIN, handlers, { consoleUrl: MANAGEMENT });
  db = await createTestDatabase({ schema: false });
}, 120_000);

afterAll(async () => {
  await management('DELETE', `/api/users/${encodeURIComponent(brokerApp.username)}`).catch(() => undefined);
  await management('DELETE', `/api/users/${encodeURIComponent(`warren_admin_${suffix}`)}`).catch(() => undefined);
  await management('DELETE', `/api/vhosts/${encodeURIComponent(vhost)}`).catch(() => undefined);
  const admin = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
  await admin.query('DROP USER IF EXISTS ?@?', [dbApp.username, '%']).catch(() => undefined);
  await admin.end();
  await db?.drop();
  await secrets?.close();
  rmSync(workDir, { recursive: true, force: true });
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
});

describe('Rehearsal: the application broker user (bundled lib/functions/brokerUserResource.ts)', () => {
  it('creates a user without tags holding exactly the computed permissions; a second Create changes nothing', async () => {
    const first = await brokerUserResource(event('Create', 'Custom::WarrenBrokerUser', userProps()));
    expect(first).toEqual({ PhysicalResourceId: `warren-broker-user:${brokerApp.username}`, Data: { Username: brokerApp.username } });
    const second = await brokerUserResource(event('Create', 'Custom::WarrenBrokerUser', userProps()));
    expect(second).toEqual(first);
    const user = await management('GET', `/api/users/${encodeURIComponent(brokerApp.username)}`);
    expect(user.status).toBe(200);
    expect((user.body as { tags: unknown }).tags).toEqual(expect.arrayContaining([]));
    expect(String((user.body as { tags: unknown }).tags)).toBe('');
    const permissions = await management('GET', `/api/permissions/${encodeURIComponent(vhost)}/${encodeURIComponent(brokerApp.username)}`);
    expect(permissions.body).toMatchObject({ configure: '^$', read: `^(?:priv\\-orders\\-${suffix}\\.0|priv\\-orders\\-${suffix}\\.1)$`, write: `^(?:priv\\-events\\-${suffix})$` });
    // Both secrets were read through the bundle's own Secrets Manager client; the admin one for every request.
    expect(secrets.calls.filter((c) => c.api === 'secretsmanager:GetSecretValue').map((c) => c.input)).toEqual(expect.arrayContaining([ARN('admin'), ARN('broker-app')]));
  });

  it('lets the user consume a shard queue (as a trigger does) and publish to its publishes exchange', async () => {
    const admin = await amqp.connect(`amqp://guest:guest@127.0.0.1:5672/${encodeURIComponent(vhost)}`);
    const app = await connectAs(brokerApp);
    try {
      const ch = await admin.createConfirmChannel();
      const tap = await ch.assertQueue('', { exclusive: true });
      await ch.bindQueue(tap.queue, events, '#');
      ch.sendToQueue(`${queue}.0`, Buffer.from('{"orderId":"o-1"}'), { persistent: true });
      await ch.waitForConfirms();

      const consumer = await app.createChannel();
      expect((await consumer.checkQueue(`${queue}.0`)).queue).toBe(`${queue}.0`); // a passive declare needs no permission
      await consumer.prefetch(1);
      const got = await consumeOne(consumer, `${queue}.0`);
      expect(got.content.toString()).toBe('{"orderId":"o-1"}');
      consumer.ack(got);

      const publisher = await app.createConfirmChannel();
      await new Promise<void>((res, rej) => publisher.publish(events, 'order.accepted', Buffer.from('{"orderId":"o-1"}'), {}, (err) => (err ? rej(err as Error) : res())));
      const seen = await waitFor('the published event', async () => (await ch.get(tap.queue)) || undefined, 10_000);
      expect(seen.content.toString()).toBe('{"orderId":"o-1"}');
    } finally {
      await app.close().catch(() => undefined);
      await admin.close().catch(() => undefined);
    }
  });

  it('refuses to let the user delete or declare a queue, or publish to the handler\'s input exchange (ACCESS_REFUSED)', async () => {
    const app = await connectAs(brokerApp);
    app.on('error', () => undefined);
    try {
      const refused = async (act: (ch: amqp.ConfirmChannel) => Promise<unknown>) => {
        const ch = await app.createConfirmChannel();
        ch.on('error', () => undefined);
        return act(ch);
      };
      await expect(refused((ch) => ch.deleteQueue(`${queue}.0`))).rejects.toThrow(
        `ACCESS_REFUSED - access to queue '${queue}.0' in vhost '${vhost}' refused for user '${brokerApp.username}'`,
      );
      await expect(refused((ch) => ch.assertQueue(`priv-new-${suffix}`, { durable: true }))).rejects.toThrow(
        `ACCESS_REFUSED - access to queue 'priv-new-${suffix}' in vhost '${vhost}' refused for user '${brokerApp.username}'`,
      );
      await expect(refused((ch) => new Promise<void>((res, rej) => ch.publish(queue, 'k', Buffer.from('x'), {}, (err) => (err ? rej(err as Error) : res()))).then(() => ch.waitForConfirms())))
        .rejects.toThrow(/ACCESS_REFUSED|closed/);
      const admin = await amqp.connect(`amqp://guest:guest@127.0.0.1:5672/${encodeURIComponent(vhost)}`);
      expect((await (await admin.createChannel()).checkQueue(`${queue}.0`)).queue).toBe(`${queue}.0`); // still there
      await admin.close();
      // No management tag: the HTTP API does not let it in.
      expect((await management('GET', '/api/overview', brokerApp)).status).toBe(401);
    } finally {
      await app.close().catch(() => undefined);
    }
  });

  it('still lets the broker dead-letter what the user rejects into <queue>.dlq, with no permission on it', async () => {
    const admin = await amqp.connect(`amqp://guest:guest@127.0.0.1:5672/${encodeURIComponent(vhost)}`);
    const app = await connectAs(brokerApp);
    try {
      const ch = await admin.createConfirmChannel();
      ch.sendToQueue(`${queue}.1`, Buffer.from('poison'), { persistent: true });
      await ch.waitForConfirms();
      const consumer = await app.createChannel();
      await consumer.prefetch(1);
      const got = await consumeOne(consumer, `${queue}.1`);
      consumer.nack(got, false, false);
      const dead = await waitFor('the dead letter', async () => (await ch.get(`${queue}.dlq`)) || undefined, 10_000);
      expect(dead.content.toString()).toBe('poison');
      ch.ack(dead);
    } finally {
      await app.close().catch(() => undefined);
      await admin.close().catch(() => undefined);
    }
  });

  it('narrows the permissions on Update (read only once the removed shards\' triggers are gone: the next Update), and on Delete removes the user (a second Delete is harmless)', async () => {
    const physical = `warren-broker-user:${brokerApp.username}`;
    const narrower = brokerAppPermissions([{ ...handlers[0]!, concurrency: 1, publishes: [] }]);
    const readBefore = ((await management('GET', `/api/permissions/${encodeURIComponent(vhost)}/${encodeURIComponent(brokerApp.username)}`)).body as { read: string }).read;
    await brokerUserResource(event('Update', 'Custom::WarrenBrokerUser', userProps(narrower), physical, userProps()));
    const during = await management('GET', `/api/permissions/${encodeURIComponent(vhost)}/${encodeURIComponent(brokerApp.username)}`);
    // the removed shards' triggers are deleted later, in the cleanup phase: read on them stays through this update (issue 26, fault 8)
    expect(during.body).toMatchObject({ configure: '^$', read: readBefore, write: '^$' });
    await brokerUserResource(event('Update', 'Custom::WarrenBrokerUser', userProps(narrower), physical, userProps(narrower)));
    const permissions = await management('GET', `/api/permissions/${encodeURIComponent(vhost)}/${encodeURIComponent(brokerApp.username)}`);
    expect(permissions.body).toMatchObject({ configure: '^$', read: `^(?:priv\\-orders\\-${suffix}\\.0)$`, write: '^$' });

    await expect(brokerUserResource(event('Delete', 'Custom::WarrenBrokerUser', userProps(narrower), physical))).resolves.toEqual({ PhysicalResourceId: physical, Data: { Username: brokerApp.username } });
    expect((await management('GET', `/api/users/${encodeURIComponent(brokerApp.username)}`)).status).toBe(404);
    await expect(connectAs(brokerApp)).rejects.toThrow(/ACCESS_REFUSED|403/);
    await expect(brokerUserResource(event('Delete', 'Custom::WarrenBrokerUser', userProps(narrower), physical))).resolves.toMatchObject({ PhysicalResourceId: physical });
  });

  it('refuses to take over an existing user that carries tags (not Warren\'s application user)', async () => {
    const taken = { username: `warren_admin_${suffix}`, password: 'x' };
    await management('PUT', `/api/users/${taken.username}`, ADMIN, { password: 'p', tags: 'administrator' });
    const other = await startAwsEmulator({ [ARN('admin')]: ADMIN, [ARN('broker-app')]: taken });
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = other.url;
    try {
      await expect(brokerUserResource(event('Create', 'Custom::WarrenBrokerUser', userProps()))).rejects.toThrow(
        `broker user "${taken.username}" already exists with tags "administrator": it is not Warren's application user (which has none); delete it or give the application secret another username`,
      );
    } finally {
      process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secrets.url;
      await other.close();
    }
    expect(((await management('GET', `/api/users/${taken.username}`)).body as { tags: unknown }).tags).toEqual(['administrator']);
  });
});

describe('Rehearsal: the application database user (bundled lib/functions/migrationResource.ts)', () => {
  const migrationProps = () => ({ Files: JSON.stringify(['functions/schema.sql']), Sha256: '0'.repeat(64), AppSecretArn: ARN('db-app') });

  beforeAll(() => {
    // As on AWS: the SQL files sit in the bundle's migrations/ directory; the function connects as the master user.
    mkdirSync(join(workDir, 'migrations'), { recursive: true });
    copyFileSync(join(root, 'examples/orders/functions/schema.sql'), join(workDir, 'migrations', '0000.sql'));
    Object.assign(process.env, {
      LAMBDA_TASK_ROOT: workDir, WARREN_DB_HOST: '127.0.0.1', WARREN_DB_PORT: '3306', WARREN_DB_USER: 'root', WARREN_DB_NAME: db.name, WARREN_DB_IAM_AUTH: 'false', WARREN_DB_TLS: 'false',
    });
  });

  async function asApp(): Promise<mysql.Connection> {
    return mysql.createConnection({ host: '127.0.0.1', port: 3306, user: dbApp.username, password: dbApp.password, database: db.name });
  }

  it('runs the migrations as the master user, creates Warren\'s tables and the user; a second Create changes nothing', async () => {
    await expect(migrationsResource(event('Create', 'Custom::WarrenMigrations', migrationProps()))).resolves.toEqual({ PhysicalResourceId: 'warren-migrations', Data: { FileCount: 1 } });
    await expect(migrationsResource(event('Create', 'Custom::WarrenMigrations', migrationProps()))).resolves.toMatchObject({ PhysicalResourceId: 'warren-migrations' });
    const grants = await db.query<Record<string, string>[]>(`SHOW GRANTS FOR '${dbApp.username}'@'%'`);
    expect(grants.map((g) => Object.values(g)[0])).toEqual([
      `GRANT USAGE ON *.* TO \`${dbApp.username}\`@\`%\` IDENTIFIED BY PASSWORD '${(await db.query<{ p: string }[]>('SELECT PASSWORD(?) AS p', [dbApp.password]))[0]!.p}'`,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON \`${db.name.replace(/_/g, '\\_')}\`.* TO \`${dbApp.username}\`@\`%\``,
    ]);
  });

  it('lets the user insert, read, update and delete in the app tables and Warren\'s tables', async () => {
    const app = await asApp();
    try {
      await app.query('BEGIN');
      await app.query('INSERT INTO warren_inbox (handler, message_key) VALUES (?, ?)', ['orders', 'k-1']);
      await app.query('INSERT INTO orders (order_id, sku, quantity) VALUES (?, ?, ?)', ['o-1', 'sku-1', 2]);
      await app.query('INSERT INTO sku_totals (sku, quantity_total) VALUES (?, ?) ON DUPLICATE KEY UPDATE quantity_total = quantity_total + VALUES(quantity_total)', ['sku-1', 2]);
      await app.query('INSERT INTO warren_outbox (handler, source_queue, exchange, routing_key, message_id, body, properties) VALUES (?, ?, ?, ?, ?, ?, ?)', ['orders', 'orders.0', 'e', 'k', 'k-1/1', Buffer.from('{}'), '{}']);
      await app.query('SELECT id FROM warren_outbox WHERE handler = ? FOR UPDATE', ['orders']);
      await app.query('UPDATE warren_outbox SET sent_at = CURRENT_TIMESTAMP(3) WHERE handler = ?', ['orders']);
      await app.query('COMMIT');
      await app.query('INSERT INTO warren_deliveries (handler, message_key, failures, last_error) VALUES (?, ?, 1, ?) ON DUPLICATE KEY UPDATE failures = failures + 1', ['orders', 'k-2', 'boom']);
      await app.query('DELETE FROM warren_deliveries WHERE handler = ?', ['orders']);
      const [rows] = await app.query<mysql.RowDataPacket[]>('SELECT quantity FROM orders WHERE order_id = ?', ['o-1']);
      expect(rows).toEqual([{ quantity: 2 }]);
    } finally {
      await app.end();
    }
  });

  it('refuses to let the user drop or create a table, read another database or create users', async () => {
    const app = await asApp();
    try {
      await expect(app.query('DROP TABLE orders')).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR', message: `DROP command denied to user '${dbApp.username}'@'127.0.0.1' for table \`${db.name}\`.\`orders\`` });
      await expect(app.query('CREATE TABLE sneaky (id INT)')).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
      await expect(app.query('ALTER TABLE orders ADD COLUMN x INT')).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
      await expect(app.query('SELECT * FROM mysql.user')).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
      await expect(app.query(`DROP DATABASE \`${db.name}\``)).rejects.toMatchObject({ code: 'ER_DBACCESS_DENIED_ERROR' });
      await expect(app.query("CREATE USER 'intruder'@'%' IDENTIFIED BY 'x'")).rejects.toMatchObject({ code: 'ER_SPECIFIC_ACCESS_DENIED_ERROR' });
    } finally {
      await app.end();
    }
    const [tables] = await db.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db.name, 'orders']);
    expect(Number(tables?.n)).toBe(1);
  });
});
