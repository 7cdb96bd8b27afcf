import { describe, expect, it } from 'vitest';
import { RELAY_DEFAULTS } from '../../local/broker/OutboxRelay.js';
import { databaseKey, markDelayMsFromEnv, SENT_MARKS_DEFAULTS } from '../../runtime/outbox/SentMarks.js';

describe('Function: markDelayMsFromEnv()', () => {
  it('pins the defaults: marks at once unless the process says otherwise, 500 ms in the local runner\'s workers', () => {
    expect(SENT_MARKS_DEFAULTS).toEqual({ delayMs: 0, localDelayMs: 500, maxPending: 1_000 });
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
