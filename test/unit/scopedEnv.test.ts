import { afterEach, describe, expect, it } from 'vitest';
import { envValue, runInHandlerScope, runSerialInHandlerScope, scopedEnv } from '../../runtime/env.js';

const NAMES = ['WARREN_SCOPED_TEST_A', 'WARREN_SCOPED_TEST_B', 'WARREN_SCOPED_TEST_C'] as const;

describe('scopedEnv', () => {
  afterEach(() => {
    for (const name of NAMES) delete process.env[name];
  });

  it('returns process.env itself outside a handler scope', () => {
    expect(scopedEnv()).toBe(process.env);
  });

  it('lays the handler\'s variables over the process\'s, for reads, `in` and enumeration', () => {
    process.env.WARREN_SCOPED_TEST_A = 'process a';
    process.env.WARREN_SCOPED_TEST_B = 'process b';
    const env = runInHandlerScope({ handler: 'h', env: { WARREN_SCOPED_TEST_B: 'handler b', WARREN_SCOPED_TEST_C: 'handler c' } }, () => scopedEnv());
    expect([env.WARREN_SCOPED_TEST_A, env.WARREN_SCOPED_TEST_B, env.WARREN_SCOPED_TEST_C]).toEqual(['process a', 'handler b', 'handler c']);
    expect(['WARREN_SCOPED_TEST_C' in env, 'WARREN_SCOPED_TEST_MISSING' in env]).toEqual([true, false]);
    const copy = { ...env };
    expect([copy.WARREN_SCOPED_TEST_A, copy.WARREN_SCOPED_TEST_B, copy.WARREN_SCOPED_TEST_C]).toEqual(['process a', 'handler b', 'handler c']);
  });

  it('sees process.env as it is at each read, and is one view per handler table entry', () => {
    const table = { WARREN_SCOPED_TEST_C: 'handler c' };
    const first = runInHandlerScope({ handler: 'h', env: table }, () => scopedEnv());
    process.env.WARREN_SCOPED_TEST_A = 'set later';
    expect(first.WARREN_SCOPED_TEST_A).toBe('set later');
    expect(runInHandlerScope({ handler: 'h', env: table }, () => scopedEnv())).toBe(first);
  });

  it('copies a given environment other than process.env', () => {
    const env = runInHandlerScope({ handler: 'h', env: { WARREN_SCOPED_TEST_B: 'handler b' } }, () => scopedEnv({ WARREN_SCOPED_TEST_A: 'given a' }));
    expect(env).toEqual({ WARREN_SCOPED_TEST_A: 'given a', WARREN_SCOPED_TEST_B: 'handler b' });
  });

  it('keeps a serial scope across the awaits of its invocation, and drops it when the invocation settles', async () => {
    process.env.WARREN_SCOPED_TEST_A = 'process a';
    const seen: (string | undefined)[] = [];
    await runSerialInHandlerScope({ handler: 'h', env: { WARREN_SCOPED_TEST_A: 'handler a' } }, async () => {
      seen.push(envValue('WARREN_SCOPED_TEST_A'));
      await new Promise((r) => setTimeout(r, 5));
      seen.push(envValue('WARREN_SCOPED_TEST_A'));
    });
    await expect(runSerialInHandlerScope({ handler: 'h', env: {} }, async () => { throw new Error('handler failed'); })).rejects.toThrow('handler failed');
    seen.push(envValue('WARREN_SCOPED_TEST_A'));
    expect(seen).toEqual(['handler a', 'handler a', 'process a']);
  });

  it('refuses a second serial scope while one invocation is still running, naming its handler', async () => {
    let release: () => void = () => undefined;
    const first = runSerialInHandlerScope({ handler: 'orders', env: {} }, () => new Promise<void>((r) => { release = r; }));
    await expect(runSerialInHandlerScope({ handler: 'other', env: {} }, async () => undefined)).rejects.toThrow('handler "orders"\'s invocation is still running');
    release();
    await first;
  });
});
