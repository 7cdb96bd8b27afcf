import { describe, expect, it } from 'vitest';
import { MarkHandover } from '../../local/pool/MarkHandover.js';

describe('Class: MarkHandover', () => {
  it('hands a shard\'s unmarked rows to its next batch only when that runs in another process, and forgets them once a batch left none', () => {
    const handover = new MarkHandover();
    const rows = [{ database: 'abc', ids: [4, 5] }];
    expect(handover.forBatch('orders.0', 101)).toBeUndefined();
    handover.afterBatch('orders.0', 101, rows);
    expect(handover.forBatch('orders.0', 101)).toBeUndefined(); // the same process still holds them
    expect(handover.forBatch('orders.0', 202)).toEqual([{ database: 'abc', ids: [4, 5] }]);
    expect(handover.forBatch('orders.1', 202)).toBeUndefined();
    handover.afterBatch('orders.0', 202, undefined);
    expect(handover.forBatch('orders.0', 303)).toBeUndefined();
  });
});
