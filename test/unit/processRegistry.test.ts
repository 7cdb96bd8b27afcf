/**
 * processSingleton: one value per name per process, shared by every copy of the module (a handler bundle's copy and the
 * runner's, a second import path), kept apart by name.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as registry from '../../runtime/processRegistry.js';

type Registry = typeof registry;
const NAMES = ['test.processRegistry.shared', 'test.processRegistry.a', 'test.processRegistry.b'];

/** A second instance of the module, as a handler bundle or another import path loads it (a fresh module registry). */
async function secondCopy(): Promise<Registry> {
  vi.resetModules();
  return import('../../runtime/processRegistry.js');
}

afterEach(() => {
  for (const name of NAMES) delete (globalThis as Record<symbol, unknown>)[registry.processSingletonKey(name)];
});

describe('processSingleton', () => {
  it('gives two instances of the module the same value for a name, created once', async () => {
    const copy = await secondCopy();
    expect(copy.processSingleton).not.toBe(registry.processSingleton);
    let created = 0;
    const first = registry.processSingleton('test.processRegistry.shared', () => { created += 1; return new Map<string, number>(); });
    first.set('connections', 1);
    const second = copy.processSingleton('test.processRegistry.shared', () => { created += 1; return new Map<string, number>(); });
    expect(second).toBe(first);
    expect(second.get('connections')).toBe(1);
    expect(created).toBe(1);
  });

  it('keeps distinct names apart', () => {
    const a = registry.processSingleton('test.processRegistry.a', () => ({ count: 0 }));
    const b = registry.processSingleton('test.processRegistry.b', () => ({ count: 0 }));
    a.count += 1;
    expect(b).not.toBe(a);
    expect(b.count).toBe(0);
    expect(registry.processSingleton('test.processRegistry.a', () => ({ count: 0 })).count).toBe(1);
  });

  it('keeps the value on globalThis under Symbol.for("warren.<name>"), where tools that look inside a process find it', () => {
    const value = registry.processSingleton('test.processRegistry.a', () => ({ count: 0 }));
    expect((globalThis as Record<symbol, unknown>)[Symbol.for('warren.test.processRegistry.a')]).toBe(value);
  });
});
