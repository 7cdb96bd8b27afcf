/**
 * runtime/redact.ts: remembered secrets never reach a log line, and a scrubbed error carries no statement and no
 * secret, in the forms a password takes in mysql2's formatted SQL and in JSON.
 */
import { describe, expect, it } from 'vitest';
import { createLogger, errorFields } from '../../runtime/logger.js';
import { redactText, rememberSecret, scrubError } from '../../runtime/redact.js';
import { runtimeErrorLog } from '../helpers/lambdaRuntimeLog.js';

describe('Function: redactText()', () => {
  it('replaces a remembered secret, its SQL-escaped and its JSON-escaped form with ***', () => {
    rememberSecret('pa\'ss"wo\\rd-unit-1');
    expect(redactText('raw pa\'ss"wo\\rd-unit-1 end')).toBe('raw *** end');
    expect(redactText("IDENTIFIED BY 'pa\\'ss\\\"wo\\\\rd-unit-1'")).toBe("IDENTIFIED BY '***'");
    expect(redactText(JSON.stringify({ p: 'pa\'ss"wo\\rd-unit-1' }))).toBe('{"p":"***"}');
  });

  it('leaves values shorter than 4 characters alone, so a short secret cannot garble every line', () => {
    rememberSecret('abc');
    expect(redactText('abc abcd')).toBe('abc abcd');
  });
});

describe('Function: scrubError()', () => {
  it('removes mysql2\'s sql and redacts message, sqlMessage and stack, through the cause chain, in place', () => {
    rememberSecret('hunter2-unit-2');
    const driver = Object.assign(new Error("near 'hunter2-unit-2' at line 1"), {
      code: 'ER_PARSE_ERROR', sql: "CREATE USER 'app'@'%' IDENTIFIED BY 'hunter2-unit-2'", sqlMessage: "near 'hunter2-unit-2' at line 1",
    });
    const outer = new Error('setting up the user failed: near \'hunter2-unit-2\'', { cause: driver });
    expect(scrubError(outer)).toBe(outer);
    expect(runtimeErrorLog(outer)).not.toContain('hunter2-unit-2');
    expect(runtimeErrorLog(driver)).not.toContain('hunter2-unit-2');
    expect('sql' in driver).toBe(false);
    expect(driver.sqlMessage).toBe("near '***' at line 1");
    expect(driver.code).toBe('ER_PARSE_ERROR');
    expect(outer.message).toBe("setting up the user failed: near '***'");
  });
});

describe('Function: createLogger()', () => {
  it('writes no remembered secret, whatever field carries it', () => {
    rememberSecret('s3cret-unit-3');
    const lines: string[] = [];
    const log = createLogger({}, { sink: (l) => lines.push(l), level: 'debug' });
    log.error('failed', { detail: 'password s3cret-unit-3', ...errorFields(new Error('x', { cause: new Error('s3cret-unit-3') })) });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('s3cret-unit-3');
    expect(JSON.parse(lines[0]!)).toMatchObject({ detail: 'password ***', cause: '***' });
  });
});
