import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/services.js';

describe('Function: waitFor()', () => {
  it('does not take 0, null, false, NaN or an empty string for success; returns the first truthy value', async () => {
    const answers: unknown[] = [0, null, false, Number.NaN, '', undefined, 3];
    let calls = 0;
    const value = await waitFor('a count above zero', () => answers[calls++] as number | null, 5_000, 1);
    expect({ value, calls }).toEqual({ value: 3, calls: 7 });
  });

  it('times out naming what it waited for when the probe stays at 0', async () => {
    await expect(waitFor('rows to appear', () => 0, 50, 5)).rejects.toThrow('timed out after 50 ms waiting for rows to appear');
  });
});
