/**
 * `warren.lock.json` on its own (lib/warrenLock.ts): where a handler goes, that an entry never moves, and what a
 * malformed or stale record says. Pure functions, no synth; the synthesized effect is in updateRehearsal.test.ts.
 */
import { App } from 'aws-cdk-lib';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { contextOptions } from '../../lib/contextProps.js';
import { placeHandlers, readLock } from '../../lib/warrenLock.js';

const dir = mkdtempSync(join(tmpdir(), 'warren-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const handlers = (names: readonly string[], concurrency = 1) => names.map((name) => ({ name, concurrency }));
const options = { handlersPerStack: 3, resourceBudget: 400, cost: (h: { concurrency: number }) => 9 + 2 * h.concurrency };

describe('Function: placeHandlers()', () => {
  it('with no record, cuts the config order into runs of handlersPerStack (what Warren did before the record)', () => {
    expect(placeHandlers(handlers(['a', 'b', 'c', 'd', 'e']), {}, options)).toEqual({ a: 'Handlers1', b: 'Handlers1', c: 'Handlers1', d: 'Handlers2', e: 'Handlers2' });
  });

  it('keeps every recorded handler where it is when one is removed from the middle, and fills the freed room with the next new one', () => {
    const before = placeHandlers(handlers(['a', 'b', 'c', 'd', 'e', 'f', 'g']), {}, options);
    const removed = placeHandlers(handlers(['a', 'c', 'd', 'e', 'f', 'g']), before, options);
    expect(removed).toEqual({ a: 'Handlers1', c: 'Handlers1', d: 'Handlers2', e: 'Handlers2', f: 'Handlers2', g: 'Handlers3' });
    expect(placeHandlers(handlers(['new', 'a', 'c', 'd', 'e', 'f', 'g']), removed, options).new).toBe('Handlers1');
  });

  it('ignores the order of the config and a changed handlersPerStack for recorded handlers', () => {
    const before = placeHandlers(handlers(['a', 'b', 'c', 'd', 'e']), {}, options);
    expect(placeHandlers(handlers(['e', 'd', 'c', 'b', 'a']), before, { ...options, handlersPerStack: 1 })).toEqual(before);
  });

  it('opens a new nested stack when a new handler would take a stack past its resource budget', () => {
    const placed = placeHandlers([{ name: 'big', concurrency: 195 }, { name: 'small', concurrency: 1 }], {}, { ...options, handlersPerStack: 25 });
    expect(placed).toEqual({ big: 'Handlers1', small: 'Handlers2' });
  });
});

describe('Function: readLock()', () => {
  it('reads nothing when the file does not exist (a first synth)', () => {
    expect(readLock(join(dir, 'missing.json'))).toBeUndefined();
  });

  it('names the file and the entry when a placement is malformed', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ stacks: { Warren: { handlers: { orders: 'Stack7' } } } }));
    expect(() => readLock(file)).toThrow(`Invalid config at "${file} stacks.Warren.handlers.orders": expected "Handlers<n>" (n from 1), received "Stack7"`);
    writeFileSync(file, '{ not json');
    expect(() => readLock(file)).toThrow(`Invalid config at "${file}": expected JSON written by \`cdk synth\`; restore it from git (git checkout -- ${file})`);
  });
});

describe('Function: contextOptions() and the record', () => {
  it('reads warren:lockFile and warren:lock, and rejects an unknown mode naming the key and the choices', () => {
    expect(contextOptions(new App({ context: { 'warren:lockFile': 'deploy/warren.lock.json', 'warren:lock': 'locked' } }).node)).toMatchObject({ lockFile: 'deploy/warren.lock.json', lockMode: 'locked' });
    expect(() => contextOptions(new App({ context: { 'warren:lock': 'frozen' } }).node)).toThrow('Invalid config at "warren:lock": expected write or locked, received "frozen"');
  });
});
