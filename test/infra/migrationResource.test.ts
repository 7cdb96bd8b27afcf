/**
 * The code the migrations custom resource runs, against the local MariaDB, connecting from WARREN_DB_* variables as
 * on AWS (IAM auth and TLS off here: no proxy exists locally). A failing statement must reject with the file name and
 * MySQL's message, which the Provider framework passes to CloudFormation as the failure reason.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationConnectError, MigrationError } from '../../lib/functions/errors.js';
import { createMigrationHandler, MIGRATION_CONNECT_DEFAULTS, MIGRATIONS_PHYSICAL_ID } from '../../lib/functions/migrationResource.js';
import net from 'node:net';
import { WarrenError } from '../../runtime/errors.js';
import mysql from 'mysql2/promise';
import { randomBytes } from 'node:crypto';
import { ADMIN_DB_URL, createTestDatabase, type TestDatabase } from '../helpers/services.js';
import { runtimeErrorLog } from '../helpers/lambdaRuntimeLog.js';

let db: TestDatabase;
/** The example app (a team's project): the stack's `projectRoot`. */
const root = resolve(import.meta.dirname, '../../examples/orders');

beforeAll(async () => {
  db = await createTestDatabase({ schema: false });
});
afterAll(async () => {
  await db.drop();
});

function event(requestType: 'Create' | 'Update' | 'Delete', files: string[]): CloudFormationCustomResourceEvent {
  return {
    RequestType: requestType,
    ServiceToken: 'arn:aws:lambda:us-east-1:111122223333:function:provider',
    ResponseURL: 'https://example.invalid/response',
    StackId: 'arn:aws:cloudformation:us-east-1:111122223333:stack/Warren/1',
    RequestId: `req-${requestType}`,
    LogicalResourceId: 'Migrations',
    ResourceType: 'Custom::WarrenMigrations',
    ResourceProperties: { ServiceToken: 'x', Files: JSON.stringify(files), Sha256: '0'.repeat(64) },
    ...(requestType === 'Create' ? {} : { PhysicalResourceId: MIGRATIONS_PHYSICAL_ID }),
    ...(requestType === 'Update' ? { OldResourceProperties: {} } : {}),
  } as CloudFormationCustomResourceEvent;
}

function env(): NodeJS.ProcessEnv {
  return { WARREN_DB_HOST: '127.0.0.1', WARREN_DB_PORT: '3306', WARREN_DB_USER: 'root', WARREN_DB_NAME: db.name, WARREN_DB_IAM_AUTH: 'false', WARREN_DB_TLS: 'false' };
}

describe('Function: createMigrationHandler()', () => {
  it('runs every file in order on Create, multi-statement files included, and again on Update', async () => {
    const sources: Record<string, string> = {
      'functions/schema.sql': await readFile(resolve(root, 'functions/schema.sql'), 'utf8'),
      'extra.sql': 'CREATE TABLE IF NOT EXISTS runs (id INT AUTO_INCREMENT PRIMARY KEY); INSERT INTO runs () VALUES ();',
    };
    const onEvent = createMigrationHandler(async (_i, file) => sources[file] ?? '', env());
    await expect(onEvent(event('Create', ['functions/schema.sql', 'extra.sql']))).resolves.toEqual({ PhysicalResourceId: 'warren-migrations', Data: { FileCount: 2 } });
    await onEvent(event('Update', ['functions/schema.sql', 'extra.sql']));
    const tables = await db.query<{ TABLE_NAME: string }[]>('SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME', [db.name]);
    expect(tables.map((t) => t.TABLE_NAME)).toEqual(expect.arrayContaining(['orders', 'runs', 'sku_totals']));
    const [runs] = await db.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM $db.runs');
    expect(Number(runs?.n)).toBe(2);
  });

  it('rejects with the file name, the statement and the SQL error when a statement fails, so the deploy fails with it', async () => {
    const onEvent = createMigrationHandler(async (i) => (i === 0 ? 'CREATE TABLE IF NOT EXISTS ok_first (id INT)' : 'CREATE TABLE broken (id INT,'), env());
    const act = onEvent(event('Create', ['001.sql', '002-broken.sql']));
    await expect(act).rejects.toThrow(MigrationError);
    await expect(act).rejects.toThrow(WarrenError);
    await expect(act).rejects.toThrow(/^Migration 002-broken\.sql failed at statement 1 \(CREATE TABLE broken \(id INT,\): You have an error in your SQL syntax.*near '' at line 1\. Fix the SQL and deploy again/);
    const [first] = await db.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db.name, 'ok_first']);
    expect(Number(first?.n)).toBe(1);
  });

  it('names the failing statement of a multi-statement file by its number and text, after running the ones before it', async () => {
    const sql = [
      '-- two tables; the third statement has a typo',
      'CREATE TABLE IF NOT EXISTS m_a (id INT);',
      "INSERT INTO m_a VALUES (1); /* a comment; with a semicolon */",
      "INSERT INTO m_a VALUES ('x;y', 2);",
      'CREATE TABLE m_b (id INT);',
    ].join('\n');
    const onEvent = createMigrationHandler(async () => sql, env());
    await expect(onEvent(event('Create', ['003-typo.sql']))).rejects.toThrow(/^Migration 003-typo\.sql failed at statement 3 \(INSERT INTO m_a VALUES \('x;y', 2\)\): Column count doesn't match value count at row 1\./);
    const [rows] = await db.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM $db.m_a');
    expect(Number(rows?.n)).toBe(1);
  });

  it('does nothing on Delete (the tables stay)', async () => {
    const onEvent = createMigrationHandler(async () => { throw new Error('must not read'); }, env());
    await expect(onEvent(event('Delete', ['x.sql']))).resolves.toEqual({ PhysicalResourceId: 'warren-migrations', Data: { FileCount: 0 } });
  });

  it('names the missing database settings instead of connecting anywhere', async () => {
    const onEvent = createMigrationHandler(async () => '', {});
    await expect(onEvent(event('Create', ['x.sql']))).rejects.toThrow('Invalid config at "WARREN_DB_HOST": the migrations function needs the WARREN_DB_* variables the stack sets');
  });
});

/** A port nothing listens on (yet): bound once by the OS, then released. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('Function: createMigrationHandler() before the proxy\'s target is available', () => {
  const quick = { connectTimeoutMs: 1_000, baseDelayMs: 100, maxDelayMs: 400 };

  it('pins its connect defaults: 10 s per attempt, backoff from 1 s to 15 s, retries for 5 minutes', () => {
    expect(MIGRATION_CONNECT_DEFAULTS).toEqual({ connectTimeoutMs: 10_000, retryForMs: 300_000, baseDelayMs: 1_000, maxDelayMs: 15_000 });
  });

  it('keeps retrying until a server that starts listening 2 seconds late accepts, then runs the files', async () => {
    const port = await freePort();
    const accepted: number[] = [];
    const late = net.createServer((client) => {
      accepted.push(Date.now());
      const backend = net.connect(3306, '127.0.0.1');
      client.pipe(backend).pipe(client);
      const close = () => { client.destroy(); backend.destroy(); };
      client.on('error', close).on('close', close);
      backend.on('error', close).on('close', close);
    });
    const started = Date.now();
    const timer = setTimeout(() => late.listen(port, '127.0.0.1'), 2_000);
    try {
      const onEvent = createMigrationHandler(async () => 'CREATE TABLE IF NOT EXISTS late_ok (id INT)', { ...env(), WARREN_DB_PORT: String(port) }, { ...quick, retryForMs: 30_000 });
      await expect(onEvent(event('Create', ['late.sql']))).resolves.toEqual({ PhysicalResourceId: 'warren-migrations', Data: { FileCount: 1 } });
      expect(accepted).toHaveLength(1);
      expect(accepted[0]! - started).toBeGreaterThanOrEqual(2_000);
      const [n] = await db.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db.name, 'late_ok']);
      expect(Number(n?.n)).toBe(1);
    } finally {
      clearTimeout(timer);
      late.close();
    }
  });

  it('gives up once the retry time is spent, naming the endpoint, the attempts and the last error', async () => {
    const port = await freePort();
    const onEvent = createMigrationHandler(async () => 'SELECT 1', { ...env(), WARREN_DB_PORT: String(port) }, { ...quick, retryForMs: 1_500 });
    const act = onEvent(event('Create', ['x.sql']));
    await expect(act).rejects.toThrow(MigrationConnectError);
    await expect(act).rejects.toThrow(new RegExp(`^Could not connect to mysql://root@127\\.0\\.0\\.1:${port}/${db.name} within 1500 ms \\(([3-9]|\\d\\d+) attempts\\): connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\. Check that the RDS Proxy target is AVAILABLE`));
  });
});

describe('Function: createMigrationHandler() when CREATE USER fails', () => {
  const suffix = randomBytes(4).toString('hex');
  const master = { user: `wmig_${suffix}`, password: `master-${randomBytes(8).toString('hex')}` };
  const app = { username: `wmigapp_${suffix}`, password: `app-pw-${randomBytes(12).toString('hex')}` };
  let admin: mysql.Connection;

  beforeAll(async () => {
    // A master user that may create tables but not users: CREATE USER really fails on MariaDB (ER_SPECIFIC_ACCESS_DENIED).
    admin = await mysql.createConnection({ uri: ADMIN_DB_URL });
    await admin.query('CREATE USER ?@? IDENTIFIED BY ?', [master.user, '%', master.password]);
    await admin.query(`GRANT ALL PRIVILEGES ON \`${db.name}\`.* TO ?@?`, [master.user, '%']);
  });
  afterAll(async () => {
    await admin.query('DROP USER IF EXISTS ?@?', [master.user, '%']);
    await admin.query('DROP USER IF EXISTS ?@?', [app.username, '%']);
    await admin.end();
  });

  it('fails naming the privilege, with the password in neither its message, its properties, the runtime\'s error log nor the function\'s own log', async () => {
    const written: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => { written.push(String(chunk)); return write(chunk, ...rest); }) as typeof process.stdout.write;
    let failure: unknown;
    try {
      const onEvent = createMigrationHandler(async () => 'SELECT 1', { ...env(), WARREN_DB_HOST: '127.0.0.1', WARREN_DB_USER: master.user, WARREN_DB_PASSWORD: master.password }, {}, async () => app);
      const withApp = event('Create', ['x.sql']);
      failure = await onEvent({ ...withApp, ResourceProperties: { ...withApp.ResourceProperties, AppSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:app' } }).then(() => undefined, (e: unknown) => e);
    } finally {
      process.stdout.write = write;
    }
    expect(failure).toBeInstanceOf(Error);
    const error = failure as Error & Record<string, unknown>;
    expect(error.message).toMatch(/Access denied; you need \(at least one of\) the CREATE USER privilege/);
    expect(error.code).toBe('ER_SPECIFIC_ACCESS_DENIED_ERROR');
    expect(error.sql).toBeUndefined();
    expect(runtimeErrorLog(error)).not.toContain(app.password);
    expect(`${error.message}\n${error.stack ?? ''}`).not.toContain(app.password);
    expect(written.join('')).not.toContain(app.password);
  });
});
