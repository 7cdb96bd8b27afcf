/**
 * Runs the config's SQL files in order on a dedicated connection, then creates Warren's own tables, as the
 * migrations user (MIGRATIONS_URL, default DATABASE_URL), so the runner's user needs DML only. Creates the database
 * first when it is missing. Used by `warren migrate` and `warren start` (local/cli.ts) and by the handler test kit
 * (testing/), which may import runtime/ but not local/; no handler imports it, so it is in no Lambda bundle.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import mysql from 'mysql2/promise';
import type { Logger } from '../logger.js';
import { WARREN_TABLES_SQL } from './warrenTables.js';

export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database === '') return;
  url.pathname = '/';
  const conn = await mysql.createConnection({ uri: url.toString() });
  try {
    await conn.query('CREATE DATABASE IF NOT EXISTS ??', [database]);
  } finally {
    await conn.end();
  }
}

export async function migrate(databaseUrl: string, files: readonly string[], root: string, log: Logger): Promise<void> {
  const database = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
  if (files.length === 0 && database === '') return;
  await ensureDatabase(databaseUrl);
  const conn = await mysql.createConnection({ uri: databaseUrl, multipleStatements: true });
  try {
    for (const file of files) {
      const sql = await readFile(resolve(root, file), 'utf8');
      await conn.query(sql);
      log.info('migration applied', { file });
    }
    if (database !== '') for (const sql of WARREN_TABLES_SQL) await conn.query(sql);
  } finally {
    await conn.end();
  }
}
