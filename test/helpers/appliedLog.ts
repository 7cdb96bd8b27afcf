/** The tables of test/fixtures/appliedLog.ts and what tests read from them. */
import type mysql from 'mysql2/promise';
import type { TestDatabase } from './services.js';

export async function createAppliedLog(db: TestDatabase): Promise<void> {
  await db.query('CREATE TABLE $db.applied (seq BIGINT AUTO_INCREMENT PRIMARY KEY, id VARCHAR(64) NOT NULL, pid INT NOT NULL) ENGINE=InnoDB');
  await db.query('CREATE TABLE $db.counter (k INT PRIMARY KEY, n BIGINT NOT NULL) ENGINE=InnoDB');
  await db.query('INSERT INTO $db.counter (k, n) VALUES (1, 0)');
}

/** Ids in commit order, the counter, and how many ids were applied more than once. */
export async function readAppliedLog(db: TestDatabase): Promise<{ ids: string[]; counter: number; doubles: number; pids: number[] }> {
  const rows = await db.query<mysql.RowDataPacket[]>('SELECT id, pid FROM $db.applied ORDER BY seq');
  const [counter] = await db.query<mysql.RowDataPacket[]>('SELECT n FROM $db.counter WHERE k = 1');
  const ids = rows.map((r) => String(r.id));
  return { ids, counter: Number(counter?.n), doubles: ids.length - new Set(ids).size, pids: [...new Set(rows.map((r) => Number(r.pid)))] };
}
