import { describe, expect, it } from 'vitest';
import { MarkHandover } from '../../local/pool/MarkHandover.js';

describe('Class: MarkHandover', () => {
  it('hands a shard\'s unmarked rows to its next batch only when that runs in another worker (process or thread), and forgets them once a batch left none', () => {
    const handover = new MarkHandover();
    const rows = [{ database: 'abc', ids: [4, 5] }];
    expect(handover.forBatch('orders.0', 'pid 101')).toBeUndefined();
    handover.afterBatch('orders.0', 'pid 101', rows);
    expect(handover.forBatch('orders.0', 'pid 101')).toBeUndefined(); // the same worker still holds them
    expect(handover.forBatch('orders.0', 'thread 2')).toEqual([{ database: 'abc', ids: [4, 5] }]);
    expect(handover.forBatch('orders.1', 'thread 2')).toBeUndefined();
    handover.afterBatch('orders.0', 'thread 2', undefined);
    expect(handover.forBatch('orders.0', 'pid 303')).toBeUndefined();
  });
});
