import { describe, expect, it } from 'vitest';
import { createLogger } from '../../runtime/logger.js';
import { onShutdownSignals, SHUTDOWN_SIGNAL_DEFAULTS, type StopSignal } from '../../local/ops/shutdownSignals.js';

describe('Function: onShutdownSignals()', () => {
  it('takes stop signals within 1 s of the first as the same keypress, and a later one as a second Ctrl-C', () => {
    // Prepare: a clock the test moves
    let now = 10_000;
    const seen: string[] = [];
    const remove = onShutdownSignals({
      log: createLogger({}, { level: 'error' }),
      onFirst: (s: StopSignal) => seen.push(`first ${s}`),
      onSecond: (s: StopSignal) => seen.push(`second ${s}`),
      now: () => now,
    });
    try {
      // Act: the group's SIGINT, npm's relayed copy 3 ms later, a SIGTERM at 999 ms, then a person's second Ctrl-C
      process.emit('SIGINT', 'SIGINT');
      now += 3;
      process.emit('SIGINT', 'SIGINT');
      now += 996;
      process.emit('SIGTERM', 'SIGTERM');
      now += 1;
      process.emit('SIGHUP', 'SIGHUP');
      // Assess
      expect(seen).toEqual(['first SIGINT', 'second SIGHUP']);
    } finally {
      remove();
    }
  });

  it('pins its default: 1,000 ms', () => {
    expect(SHUTDOWN_SIGNAL_DEFAULTS).toEqual({ sameKeypressMs: 1_000 });
  });
});
