/**
 * Steps around a transaction (`TransactionStep`, the seam the outbox's deferred "sent" marks use): `before` runs right
 * after BEGIN, its statements commit or roll back with the caller's, `after` learns which, and a failing step never
 * fails the caller's work.
 */
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionManager, withSteps, type TransactionStep } from '../../runtime/db/ConnectionManager.js';
import { createLogger } from '../../runtime/logger.js';
import { createTestDatabase, type TestDatabase } from '../helpers/services.js';

let db: TestDatabase;
let m: ConnectionManager;
const lines: string[] = [];

async function ids(table: string): Promise<number[]> {
  const rows = await db.query<RowDataPacket[]>(`SELECT id FROM $db.${table} ORDER BY id`);
  return rows.map((r) => Number(r.id));
}

/** A step that inserts `id` into `steps` before the caller's statements, and records how each transaction ended. */
function insertingStep(id: number | undefined, ended: boolean[]): TransactionStep {
  return {
    before: async (query) => { if (id !== undefined) await query('INSERT INTO steps (id) VALUES (?)', [id]); },
    after: (committed) => { ended.push(committed); },
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
  await db.query('CREATE TABLE $db.work (id INT PRIMARY KEY)');
  await db.query('CREATE TABLE $db.steps (id INT PRIMARY KEY)');
  m = new ConnectionManager({ url: db.url, logger: createLogger({}, { sink: (line) => lines.push(line) }) });
});
afterEach(async () => {
  await db.query('DELETE FROM $db.work');
  await db.query('DELETE FROM $db.steps');
  lines.length = 0;
});
afterAll(async () => {
  await m.close();
  await db.drop();
});

describe('Function: withSteps()', () => {
  it('runs the step\'s statement in the caller\'s transaction: both commit, and after() hears true', async () => {
    const ended: boolean[] = [];
    await withSteps(m, [insertingStep(1, ended)]).transaction((query) => query('INSERT INTO work (id) VALUES (10)'));
    expect({ work: await ids('work'), steps: await ids('steps'), ended }).toEqual({ work: [10], steps: [1], ended: [true] });
  });

  it('rolls the step\'s statement back with a caller that fails, and after() hears false', async () => {
    const ended: boolean[] = [];
    await expect(withSteps(m, [insertingStep(2, ended)]).transaction(async (query) => {
      await query('INSERT INTO work (id) VALUES (20)');
      throw new Error('the handler failed');
    })).rejects.toThrow('the handler failed');
    expect({ work: await ids('work'), steps: await ids('steps'), ended }).toEqual({ work: [], steps: [], ended: [false] });
  });

  it('begins again without a step whose statement fails, so the caller\'s work still commits', async () => {
    const ended: boolean[] = [];
    await db.query('INSERT INTO $db.steps (id) VALUES (3)');
    await withSteps(m, [insertingStep(3, ended)]).transaction((query) => query('INSERT INTO work (id) VALUES (30)')); // duplicate key in the step
    expect({ work: await ids('work'), steps: await ids('steps'), ended }).toEqual({ work: [30], steps: [3], ended: [false] });
    expect(lines.some((l) => l.includes('mysql statement of a step before the transaction failed; beginning again without it'))).toBe(true);
  });

  it('adds no statement when the step has nothing to do (BEGIN, the caller\'s INSERT, COMMIT)', async () => {
    const questions = async () => Number((await m.autocommit<{ Value: string }>("SHOW SESSION STATUS LIKE 'Questions'")).rows[0]?.Value);
    const before = await questions();
    await withSteps(m, [insertingStep(undefined, [])]).transaction((query) => query('INSERT INTO work (id) VALUES (40)'));
    expect((await questions()) - before).toBe(4); // BEGIN, INSERT, COMMIT, and the SHOW itself
  });
});
