import { describe, expect, it } from 'vitest';
import { OutboxBuffer, type CommittedRows } from '../../runtime/outbox/outbox.js';
import { OutboxFlusher } from '../../runtime/outbox/OutboxFlusher.js';
import { FakeDatabase, RecordingPublisher, recordingLogger } from '../helpers/fakes.js';

/** Writes `ids` as one transaction's outbox rows into the fake database and returns them as committed. */
async function written(db: FakeDatabase, ids: string[], queue = 'orders.0'): Promise<CommittedRows> {
  const buffer = new OutboxBuffer('orders', queue);
  for (const id of ids) await buffer.writer(id, () => ({ correlationId: null, traceparent: null }))('orders.events', 'order.accepted', { id });
  await db.transaction((query) => buffer.write(query));
  return buffer.committed();
}

describe('Class: OutboxFlusher', () => {
  it('publishes an invocation\'s rows from memory and marks them all sent with ONE UPDATE once its shard queue was flushed', async () => {
    const db = new FakeDatabase();
    const publisher = new RecordingPublisher();
    let now = 0;
    const flusher = new OutboxFlusher('orders', 10_000, recordingLogger().log, () => now);
    expect(await flusher.flush(db, () => publisher, [], ['orders.0'])).toBe(0); // first look at the queue: ordered, nothing there
    const rows = [await written(db, ['a']), await written(db, ['b']), await written(db, ['c'])];
    const before = db.statements.length;
    now = 5;
    expect(await flusher.flush(db, () => publisher, rows, ['orders.0', 'orders.0', 'orders.0'])).toBe(3);
    expect(publisher.published.map((m) => m.properties.messageId)).toEqual(['a/0', 'b/0', 'c/0']);
    expect(db.statements.slice(before).map((s) => s.sql.slice(0, 26))).toEqual(['UPDATE warren_outbox SET s']);
    expect(db.outbox.every((r) => r.sent)).toBe(true);
  });

  it('logs a failed publish instead of throwing, keeps the rows unsent, and takes the ordered path next time', async () => {
    const db = new FakeDatabase();
    const publisher = new RecordingPublisher();
    const { log, lines } = recordingLogger();
    const flusher = new OutboxFlusher('orders', 10_000, log, () => 0);
    await flusher.flush(db, () => publisher, [], ['orders.0']);
    publisher.failWith = new Error('broker away');
    expect(await flusher.flush(db, () => publisher, [await written(db, ['a'])], ['orders.0'])).toBe(0);
    expect(lines.map((l) => l.msg)).toContain('outbox flush failed; the rows stay and are published by a later invocation or the relay');
    expect(db.outbox.map((r) => r.sent)).toEqual([false]);
    publisher.failWith = undefined;
    const before = db.statements.length;
    await flusher.flush(db, () => publisher, [], ['orders.0']);
    expect(db.statements[before]?.sql).toContain('SELECT 1 AS unsent'); // the ordered path looks for unsent rows
  });
});
