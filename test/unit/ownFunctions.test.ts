/** Where the stack's own functions and their bundles' project root come from (lib/ownFunctions.ts). */
import { describe, expect, it } from 'vitest';
import { commonRoot } from '../../lib/ownFunctions.js';

describe('commonRoot()', () => {
  it('is the deepest folder holding every path', () => {
    expect(commonRoot('/repo/examples/orders', '/repo/lib/functions', '/repo')).toBe('/repo');
    expect(commonRoot('/team', '/team/node_modules/warren/dist/lib/functions', '/team')).toBe('/team');
    expect(commonRoot('/a/b/c')).toBe('/a/b/c');
  });

  it('does not take a sibling whose name starts with two dots for a folder above', () => {
    expect(commonRoot('/repo/app', '/repo/app/..hidden/x')).toBe('/repo/app');
    expect(commonRoot('/repo/app', '/repo/..app/x')).toBe('/repo');
  });
});
