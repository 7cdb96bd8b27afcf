import { describe, expect, it } from 'vitest';
import type { RatioDefinition } from '../../bench/contenders.js';
import { computeRatios } from '../../bench/report.js';
import type { ContenderResult } from '../../bench/runContender.js';
import { serverCost, type CounterReading } from '../../bench/serverCounters.js';
import { ratePerSecond } from '../../bench/stats.js';
import { selfTimeByModule } from '../../bench/profileSummary.js';

function reading(values: CounterReading['values'], ownStatements: number): CounterReading {
  return { values, ownStatements };
}

describe('Function: serverCost()', () => {
  it('divides the counters\' deltas by the messages and takes the bench\'s own statements out of Questions and Com_select', () => {
    const before = reading({ Questions: 1_000, Com_begin: 10, Com_commit: 10, Com_select: 50, Com_insert: 40, trx_rw_commits: 20, Innodb_data_fsyncs: 5, Innodb_log_writes: 7 }, 100);
    const after = reading({ Questions: 1_610, Com_begin: 110, Com_commit: 110, Com_select: 60, Com_insert: 440, trx_rw_commits: 125, Innodb_data_fsyncs: 180, Innodb_log_writes: 107 }, 110);
    const cost = serverCost(before, after, 100);
    expect(cost.statementsPerMessage).toBe(6);
    expect(cost.commitsPerMessage).toBe(1.05);
    expect(cost.dataFsyncsPerMessage).toBe(1.75);
    expect(cost.logWritesPerMessage).toBe(1);
    expect(cost.byCommand).toEqual({ begin: 1, commit: 1, rollback: 0, insert: 4, update: 0, delete: 0, select: 0 });
    expect(cost.ownStatements).toBe(10);
  });

  it('reports no commits when InnoDB\'s trx_rw_commits counter could not be read', () => {
    const cost = serverCost(reading({ Questions: 0 }, 0), reading({ Questions: 12 }, 0), 2);
    expect(cost.commitsPerMessage).toBeNull();
    expect(cost.statementsPerMessage).toBe(6);
  });
});

function result(name: string, figures: Partial<ContenderResult>): ContenderResult {
  return { name, messagesPerSecond: 0, treeRssPeakMb: 0, dbThreadsSeen: 0, statementsPerMessage: 0, commitsPerMessage: null, ...figures } as ContenderResult;
}

describe('Function: computeRatios()', () => {
  const ratios: RatioDefinition[] = [
    { name: 'warren/single', of: 'warren', over: 'single', target: 0.9 },
    { name: 'warren/naive', of: 'warren', over: 'naive', target: 5, profiles: ['proxy'] },
    { name: 'many connections', of: 'many', metric: 'dbThreadsSeen', target: ({ workers }) => workers + 1, atMost: true },
    { name: 'many/warren RSS', of: 'many', over: 'warren', metric: 'treeRssPeakMb', target: 1.5, atMost: true },
  ];
  const results = [
    result('warren', { messagesPerSecond: 1_000, treeRssPeakMb: 600 }),
    result('single', { messagesPerSecond: 1_250 }),
    result('naive', { messagesPerSecond: 100 }),
    result('many', { dbThreadsSeen: 6, treeRssPeakMb: 840 }),
  ];

  it('applies each target in its own profiles only, and compares "at most" targets the other way', () => {
    expect(computeRatios(results, ratios, 'default', 4)).toEqual([
      { name: 'warren/single', value: 0.8, target: 0.9, atMost: false, met: false },
      { name: 'warren/naive', value: 10, target: null, atMost: false, met: null },
      { name: 'many connections', value: 6, target: 5, atMost: true, met: false },
      { name: 'many/warren RSS', value: 1.4, target: 1.5, atMost: true, met: true },
    ]);
    expect(computeRatios(results, ratios, 'proxy', 8)[1]).toEqual({ name: 'warren/naive', value: 10, target: 5, atMost: false, met: true });
    expect(computeRatios(results, ratios, 'proxy', 8)[2]).toMatchObject({ target: 9, met: true });
  });

  it('gives no value when a contender of the ratio did not run', () => {
    expect(computeRatios([results[0]!], ratios, 'default', 4)[0]).toEqual({ name: 'warren/single', value: null, target: 0.9, atMost: false, met: null });
  });
});

describe('Function: ratePerSecond()', () => {
  it('divides the timed part\'s messages by its seconds', () => {
    expect(ratePerSecond('warren', 2_000, 1_250)).toBe(1_600);
  });

  it('refuses a negative rate, naming the contender (single-many once printed -27,019 msg/s)', () => {
    expect(() => ratePerSecond('single-many', -200, 7.4)).toThrow('single-many: the timed part measured -200 messages in 7.4 ms, not a positive rate; the bench does not report it (did the contender consume its backlog before the clock started?)');
  });

  it('refuses zero messages, zero time and an infinite rate', () => {
    expect(() => ratePerSecond('noop', 0, 1_000)).toThrow('noop: the timed part measured 0 messages in 1000 ms, not a positive rate');
    expect(() => ratePerSecond('noop', 10, 0)).toThrow('noop: the timed part measured 10 messages in 0 ms, not a positive rate');
  });
});

describe('Function: selfTimeByModule()', () => {
  it('sums self time per package, project file, Node area and V8 entry, from the given fraction of the profile on', () => {
    const frame = (id: number, url: string, functionName = 'f') => ({ id, callFrame: { url, functionName } });
    const profile = {
      nodes: [
        frame(1, '', '(idle)'), frame(2, 'file:///x/node_modules/mysql2/lib/a.js'), frame(3, 'node:internal/streams/writable'),
        frame(4, '', 'writeBuffer'), frame(5, '', '(garbage collector)'), frame(6, 'file:///x/node_modules/@aws-sdk/client-sqs/b.js'),
      ],
      samples: [2, 2, 3, 4, 5, 6, 1],
      timeDeltas: [1_000, 2_000, 3_000, 4_000, 5_000, 6_000, 7_000],
      startTime: 0,
      endTime: 28_000,
    };
    expect(Object.fromEntries(selfTimeByModule([profile]))).toEqual({
      'mysql2': 3, 'node:internal/streams': 3, '(native) writeBuffer': 4, '(garbage collector)': 5, '@aws-sdk/client-sqs': 6, '(idle)': 7,
    });
    // from half the span (14 ms) on: the samples at 15, 21 and 28 ms
    expect(Object.fromEntries(selfTimeByModule([profile], 0.5))).toEqual({ '(garbage collector)': 5, '@aws-sdk/client-sqs': 6, '(idle)': 7 });
  });
});
