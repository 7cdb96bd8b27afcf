/**
 * The code the migrations custom resource runs, against the local MariaDB, connecting from WARREN_DB_* variables as
 * on AWS (IAM auth and TLS off here: no proxy exists locally). A failing statement must reject with the file name and
 * MySQL's message, which the Provider framework passes to CloudFormation as the failure reason.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigrationHandler, MIGRATIONS_PHYSICAL_ID, MigrationError } from '../../runtime/migrationResource.js';
import { WarrenError } from '../../runtime/errors.js';
import { createTestDatabase, type TestDatabase } from '../helpers/services.js';

let db: TestDatabase;
const root = resolve(import.meta.dirname, '../..');

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
    await expect(onEvent(event('Create', ['functions/schema.sql', 'extra.sql']))).resolves.toEqual({ PhysicalResourceId: 'warren-migrations', Data: { Files: 'functions/schema.sql,extra.sql' } });
    await onEvent(event('Update', ['functions/schema.sql', 'extra.sql']));
    const tables = await db.query<{ TABLE_NAME: string }[]>('SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME', [db.name]);
    expect(tables.map((t) => t.TABLE_NAME)).toEqual(expect.arrayContaining(['orders', 'runs', 'sku_totals']));
    const [runs] = await db.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM $db.runs');
    expect(Number(runs?.n)).toBe(2);
  });

  it('rejects with the file name and the SQL error when a statement fails, so the deploy fails with it', async () => {
    const onEvent = createMigrationHandler(async (i) => (i === 0 ? 'CREATE TABLE IF NOT EXISTS ok_first (id INT)' : 'CREATE TABLE broken (id INT,'), env());
    const act = onEvent(event('Create', ['001.sql', '002-broken.sql']));
    await expect(act).rejects.toThrow(MigrationError);
    await expect(act).rejects.toThrow(WarrenError);
    await expect(act).rejects.toThrow(/^Migration 002-broken\.sql failed: You have an error in your SQL syntax.*near '' at line 1\. Fix the SQL and deploy again/);
    const [first] = await db.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db.name, 'ok_first']);
    expect(Number(first?.n)).toBe(1);
  });

  it('does nothing on Delete (the tables stay)', async () => {
    const onEvent = createMigrationHandler(async () => { throw new Error('must not read'); }, env());
    await expect(onEvent(event('Delete', ['x.sql']))).resolves.toEqual({ PhysicalResourceId: 'warren-migrations', Data: { Files: '' } });
  });

  it('names the missing database settings instead of connecting anywhere', async () => {
    const onEvent = createMigrationHandler(async () => '', {});
    await expect(onEvent(event('Create', ['x.sql']))).rejects.toThrow('Invalid config at "WARREN_DB_HOST": the migrations function needs the WARREN_DB_* variables the stack sets');
  });
});
