import { describe, expect, it } from 'vitest';
import { formatLambdaThinTable, LAMBDA_THIN_DEFAULTS, type LambdaThinResult } from '../../bench/lambdaThin.js';

function result(perInvocation: number, statements: number, fsyncs: number, met: boolean): LambdaThinResult {
  return {
    perInvocation, messages: 200, statementsPerMessage: statements, commitsPerMessage: 1.01, dataFsyncsPerMessage: fsyncs, logWritesPerMessage: 1,
    byCommand: { begin: 1, commit: 1, rollback: 0, insert: 4, update: 0, delete: 0, select: 0 }, ownStatements: 4,
    session: { statementsPerMessage: 6.05, commitsAtMostPerMessage: 1.05 }, goal: LAMBDA_THIN_DEFAULTS.goals[perInvocation] ?? null, met,
  };
}

describe('Figure: lambda-thin', () => {
  it('pins the issue\'s goals: 7 statements and 2 data fsyncs per message at one per invocation, 6.3 and 1.2 at ten, over 200 messages', () => {
    expect(LAMBDA_THIN_DEFAULTS.messages).toBe(200);
    expect(LAMBDA_THIN_DEFAULTS.perInvocation).toEqual([1, 10]);
    expect(LAMBDA_THIN_DEFAULTS.goals).toEqual({ 1: { statements: 7, dataFsyncs: 2 }, 10: { statements: 6.3, dataFsyncs: 1.2 } });
  });

  it('prints one row per setting with the server\'s figures, the handler connection\'s own, the goal and whether it was met', () => {
    expect(formatLambdaThinTable([result(1, 6.06, 1.06, true), result(10, 16, 2.9, false)]).split('\n')).toEqual([
      '| messages per invocation | statements / msg | commits / msg | data fsyncs / msg | handler connection: statements / commits at most | goal (statements / fsyncs) | met |',
      '|---|--:|--:|--:|--:|--:|--:|',
      '| 1 | 6.06 | 1.01 | 1.06 | 6.05 / 1.05 | <= 7 / <= 2 | yes |',
      '| 10 | 16.00 | 1.01 | 2.90 | 6.05 / 1.05 | <= 6.3 / <= 1.2 | NO |',
    ]);
  });
});
