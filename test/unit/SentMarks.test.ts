import { describe, expect, it } from 'vitest';
import { RELAY_DEFAULTS } from '../../local/broker/OutboxRelay.js';
import type { QueryFn } from '../../runtime/db/ConnectionManager.js';
import { databaseKey, markDelayMsFromEnv, marksOptionsFromEnv, SentMarks, SENT_MARKS_DEFAULTS } from '../../runtime/outbox/SentMarks.js';
import { recordingLogger } from '../helpers/fakes.js';

describe('Function: markDelayMsFromEnv()', () => {
  it('pins the defaults: marks at once unless the process says otherwise, 500 ms in the local runner\'s workers', () => {
    expect(SENT_MARKS_DEFAULTS).toEqual({ delayMs: 0, localDelayMs: 500, lambdaDelayMs: 500, lambdaQuietMs: 5_000, maxPending: 1_000 });
    expect(markDelayMsFromEnv(undefined)).toBe(0);
    expect(markDelayMsFromEnv('')).toBe(0);
    expect(markDelayMsFromEnv('250')).toBe(250);
  });

  it('rejects a delay that is not whole milliseconds from 0 to 750, naming the variable and the relay it must stay below', () => {
    expect(() => markDelayMsFromEnv('800')).toThrow('Invalid config at "WARREN_OUTBOX_MARK_DELAY_MS": expected whole milliseconds from 0 to 750 (twice it must stay below the local outbox relay\'s minimum age, 2,000), received "800"');
    expect(() => markDelayMsFromEnv('soon')).toThrow('received "soon"');
  });

  it('keeps the longest a worker leaves a published row unmarked (twice the delay) below the local relay\'s minimum age', () => {
    expect(2 * SENT_MARKS_DEFAULTS.localDelayMs).toBeLessThan(RELAY_DEFAULTS.minAgeMs);
    expect(RELAY_DEFAULTS.minAgeMs).toBe(2_000);
  });
});

describe('Function: databaseKey()', () => {
  it('names a database without its password, the same way every time', () => {
    const key = databaseKey('mysql://app:secret@db:3306/orders');
    expect(key).toMatch(/^[0-9a-f]{16}$/);
    expect(key).not.toContain('secret');
    expect(databaseKey('mysql://app:secret@db:3306/orders')).toBe(key);
    expect(databaseKey('mysql://app:secret@db:3306/other')).not.toBe(key);
  });
});

/** A connection that records the autocommit statements the marks write on their own. */
function recordingDb() {
  const autocommits: { sql: string; values: readonly unknown[] }[] = [];
  return {
    autocommits,
    db: { inTransaction: false, autocommit: async (sql: string, values: readonly unknown[] = []) => { autocommits.push({ sql, values }); return { rows: [], affectedRows: 0, insertId: 0, changedRows: 0 }; } },
  } as const;
}

describe('Function: marksOptionsFromEnv()', () => {
  it('defers the marks on Lambda without timers (500 ms, quiet after 5 s) unless WARREN_OUTBOX_MARK_DELAY_MS says otherwise; elsewhere follows the variable', () => {
    expect(SENT_MARKS_DEFAULTS.lambdaDelayMs).toBe(500);
    expect(SENT_MARKS_DEFAULTS.lambdaQuietMs).toBe(5_000);
    expect(marksOptionsFromEnv(undefined, true)).toEqual({ delayMs: 500, timers: false, quietMs: 5_000 });
    expect(marksOptionsFromEnv('0', true)).toEqual({ delayMs: 0, timers: false, quietMs: 5_000 });
    expect(marksOptionsFromEnv(undefined, false)).toEqual({ delayMs: 0 });
    expect(marksOptionsFromEnv('500', false)).toEqual({ delayMs: 500 });
  });

  it('keeps the longest a Lambda environment leaves a row unmarked while invoked (the quiet threshold) well below the relay\'s minimum age on AWS (timeout + 10 s)', () => {
    expect(2 * SENT_MARKS_DEFAULTS.lambdaQuietMs).toBeLessThanOrEqual(10_000);
  });
});

describe('Class: SentMarks', () => {
  const log = recordingLogger().log;

  it('rides due marks as the first statement of a transaction (step.before) and keeps them when it rolls back', async () => {
    let now = 0;
    const { db, autocommits } = recordingDb();
    const marks = new SentMarks(db, 'db', { delayMs: 500, timers: false }, log, () => now);
    marks.add([7, 8], 'orders.0');
    const carried: string[] = [];
    const query: QueryFn = async (sql) => { carried.push(sql); return { rows: [], affectedRows: 0, insertId: 0, changedRows: 0 }; };
    await marks.step.before(query);
    expect(carried).toEqual([]); // not due yet: no statement
    marks.step.after(true);
    now = 500;
    await marks.step.before(query);
    expect(carried).toEqual(['UPDATE warren_outbox SET sent_at = NOW(3) WHERE id IN (?, ?) AND sent_at IS NULL']);
    expect(marks.size).toBe(0);
    marks.step.after(false); // the carrier rolled back
    expect(marks.unmarkedOf('orders.0')).toEqual([7, 8]);
    await marks.step.before(query);
    marks.step.after(true);
    expect(marks.size).toBe(0);
    expect(autocommits).toEqual([]);
  });

  it('answers each shard\'s unmarked ids on their own, in the order they were added, and none once they are marked', async () => {
    const { db } = recordingDb();
    const marks = new SentMarks(db, 'db', { delayMs: 500, timers: false }, log, () => 0);
    marks.add([1, 2], 'orders.0');
    marks.add([3], 'orders.1');
    marks.adopt([4, 1], 'orders.0');
    expect([marks.unmarkedOf('orders.0'), marks.unmarkedOf('orders.1'), marks.unmarkedOf('orders.2')]).toEqual([[1, 2, 4], [3], []]);
    await marks.flush();
    expect([marks.unmarkedOf('orders.0'), marks.unmarkedOf('orders.1')]).toEqual([[], []]);
  });

  it('without timers, marks its rows on its own at the end of an invocation that came after a quiet pause, and leaves them for the next one otherwise', async () => {
    let now = 1_000;
    const { db, autocommits } = recordingDb();
    const marks = new SentMarks(db, 'db', { delayMs: 500, timers: false, quietMs: 5_000 }, log, () => now);
    marks.add([1], 'orders.0');
    await marks.afterInvocation(900); // the environment's first invocation: no idea when the next comes
    expect(autocommits.map((a) => a.values)).toEqual([[1]]);
    now = 1_100;
    marks.add([2], 'orders.0');
    await marks.afterInvocation(1_050); // 50 ms after the last one ended: the next one is likely soon
    expect(marks.unmarkedOf('orders.0')).toEqual([2]);
    now = 7_200;
    marks.add([3], 'orders.0');
    await marks.afterInvocation(7_150); // after a 6 s pause
    expect(autocommits.map((a) => a.values)).toEqual([[1], [2, 3]]);
    expect(marks.size).toBe(0);
  });
});
