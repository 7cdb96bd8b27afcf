/** Runs the config's SQL files in order on a dedicated connection; creates the database first when it is missing. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import mysql from 'mysql2/promise';
import type { Logger } from '../runtime/logger.js';

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
  if (files.length === 0) return;
  await ensureDatabase(databaseUrl);
  const conn = await mysql.createConnection({ uri: databaseUrl, multipleStatements: true });
  try {
    for (const file of files) {
      const sql = await readFile(resolve(root, file), 'utf8');
      await conn.query(sql);
      log.info('migration applied', { file });
    }
  } finally {
    await conn.end();
  }
}
