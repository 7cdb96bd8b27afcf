import { describe, expect, it } from 'vitest';
import { parseTraceparent, traceFields } from '../../runtime/traceparent.js';

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('Function: parseTraceparent()', () => {
  it('reads the trace id, parent id and sampled flag of a W3C traceparent', () => {
    expect(parseTraceparent(VALID)).toEqual({ traceparent: VALID, traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentId: '00f067aa0ba902b7', sampled: true });
    expect(parseTraceparent(VALID.replace(/01$/, '00'))?.sampled).toBe(false);
  });

  it('ignores absent and malformed values, as the spec says', () => {
    for (const bad of [undefined, 42, '', 'nonsense', VALID.toUpperCase(), `ff${VALID.slice(2)}`, `${VALID}-extra`,
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01']) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
  });

  it('accepts a future version with extra fields', () => {
    expect(parseTraceparent(`01${VALID.slice(2)}-what-comes-next`)?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });
});

describe('Function: traceFields()', () => {
  it('gives log fields for a message with a traceparent header and nothing otherwise', () => {
    expect(traceFields({ traceparent: VALID })).toEqual({ traceparent: VALID, traceId: '4bf92f3577b34da6a3ce929d0e0e4736' });
    expect(traceFields({})).toEqual({});
  });
});
