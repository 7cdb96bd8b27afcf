/**
 * Changing a handler's `concurrency` while messages wait and publishers keep publishing, with the real runner, the real
 * broker and the non-idempotent counter fixture: every message applied exactly once, no queue left holding messages
 * without a consumer, and per-key order broken only where docs/local-runner.md ("Changing `concurrency`") says (keys that moved between shards, only for
 * messages that were queued on the old shard at the change). The numbers measured are printed for that page.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { queueState } from '../../topology/surplusShards.js';
import { declareTopology } from '../../topology/topology.js';
import { COUNTER_ENTRY, counterState, createCounterTables } from '../helpers/counter.js';
import { appliedRows, keyedPublisher, queuesByKey, reorderings, type AppliedRow } from '../helpers/keyedLoad.js';
import { startTestRunner, type TestRunner } from '../helpers/runner.js';
import { AMQP_URL, createTestDatabase, queueDepths, uniqueName, waitFor, type TestDatabase } from '../helpers/services.js';
import amqp from 'amqplib';

const KEYS = Array.from({ length: 32 }, (_, i) => `k${String(i).padStart(2, '0')}`);
const BACKLOG_ROUNDS = 24; // 768 messages queued before the change: every shard still holds some when the first runner stops, on a fast machine too
const ROUND_INTERVAL_MS = 400; // then 32 messages every 400 ms (~80 msg/s) during the change...
const ROUNDS_AFTER_CHANGE = 15; // ...for 15 rounds after the new runner started (a fixed amount, so a slow machine only takes longer)

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** Ready messages and consumers of `<queue>.0` .. `<queue>.5` (null: the queue does not exist). */
async function shardStates(queue: string): Promise<({ messages: number; consumers: number } | null)[]> {
  const connection = await amqp.connect(AMQP_URL);
  try {
    const out = [];
    for (let i = 0; i < 6; i += 1) {
      const s = await queueState(connection, `${queue}.${i}`);
      out.push(s === null ? null : { messages: s.messages, consumers: s.consumers });
    }
    return out;
  } finally {
    await connection.close();
  }
}

/**
 * Messages applied after the change from a queue other than their key's final shard (the queue of its last message):
 * its old shard's backlog, or an intermediate shard that took the key for the milliseconds between two bind/unbind calls.
 */
function displacedAfter(rows: readonly AppliedRow[], changedAt: number): Set<string> {
  const final = new Map<string, string>();
  for (const r of rows) if ((final.get(r.key) === undefined) || r.seq > Number(final.get(`${r.key}#seq`) ?? -1)) { final.set(r.key, r.queue); final.set(`${r.key}#seq`, String(r.seq)); }
  return new Set(rows.filter((r) => r.at.getTime() >= changedAt - 50 && final.get(r.key) !== r.queue).map((r) => `${r.key}:${r.seq}`));
}

interface Scenario { readonly db: TestDatabase; readonly queue: string; readonly changedAt: number; readonly second: TestRunner; readonly total: number; readonly rows: AppliedRow[]; readonly depthsAtChange: number[] }

/**
 * Runs the handler at `from` shards with a backlog, stops it (graceful, as a redeploy does) while a publisher keeps
 * going, starts it at `to` shards, waits for `settled`, stops the publisher and waits until everything is applied.
 */
async function changeConcurrency(from: number, to: number, settled: (queue: string) => Promise<boolean>): Promise<Scenario> {
  const db = await createTestDatabase({ schema: false });
  cleanups.push(() => db.drop());
  await createCounterTables(db);
  const queue = uniqueName('t_conc');
  const handler = { name: 'counter', entry: COUNTER_ENTRY, queue, batchSize: 10, batchingWindowSeconds: 0 };
  const first = await startTestRunner(db, [{ ...handler, concurrency: from }]);
  cleanups.push(() => first.cleanup());
  const publisher = await keyedPublisher(queue, KEYS);
  cleanups.push(() => publisher.close());
  for (let i = 0; i < BACKLOG_ROUNDS; i += 1) await publisher.round();
  const load = publisher.run(ROUND_INTERVAL_MS);
  await waitFor('the first runner applying', async () => (await counterState(db)).n >= 100, 30_000);
  await first.runner.stop();
  const depthsAtChange = await queueDepths(Array.from({ length: from }, (_, i) => `${queue}.${i}`));
  const changedAt = Date.now();
  const second = await startTestRunner(db, [{ ...handler, concurrency: to }]);
  cleanups.push(() => second.cleanup());
  const roundsAtChange = publisher.published / KEYS.length;
  await waitFor(`${ROUNDS_AFTER_CHANGE} rounds published after the change`, () => publisher.published / KEYS.length >= roundsAtChange + ROUNDS_AFTER_CHANGE, 60_000, 50);
  await load.stop();
  await waitFor('the change to settle', () => settled(queue), 180_000, 100);
  const total = publisher.published;
  await waitFor(`all ${total} messages applied`, async () => (await counterState(db)).n >= total, 180_000, 200);
  await waitFor('the runner idle', () => second.runner.snapshot().inFlight === 0 && second.runner.snapshot().buffered === 0, 10_000);
  return { db, queue, changedAt, second, total, rows: await appliedRows(db), depthsAtChange };
}

describe('Runner: surplus shards left by a larger concurrency', () => {
  it('consumes the backlog of every surplus shard through the pool, exactly once, then deletes them', async () => {
    const db = await createTestDatabase({ schema: false });
    cleanups.push(() => db.drop());
    await createCounterTables(db);
    const queue = uniqueName('t_surplus');
    const connection = await amqp.connect(AMQP_URL);
    cleanups.push(() => connection.close());
    await declareTopology(connection, { queue, concurrency: 3 });
    const publisher = await keyedPublisher(queue, KEYS);
    cleanups.push(() => publisher.close());
    for (let i = 0; i < 3; i += 1) await publisher.round();
    const depths = await queueDepths([`${queue}.0`, `${queue}.1`, `${queue}.2`]);
    expect(depths[1]! + depths[2]!).toBeGreaterThan(0);
    const runner = await startTestRunner(db, [{ name: 'counter', entry: COUNTER_ENTRY, queue, concurrency: 1, batchSize: 10 }]);
    cleanups.push(() => runner.cleanup());
    await waitFor('96 messages applied', async () => (await counterState(db)).n >= 96, 60_000, 100);
    expect(await counterState(db)).toEqual({ n: 96, applied: 96, distinct: 96 });
    await waitFor('the surplus shards deleted', async () => (await shardStates(queue)).slice(1).every((x) => x === null), 30_000, 100);
    expect((await shardStates(queue))[0]).toEqual({ messages: 0, consumers: 1 });
    expect(runner.lines.filter((l) => l.includes('surplus shard drained and deleted')).length).toBe([depths[1], depths[2]].filter((d) => d! > 0).length);
    // The lean count the bench polls counts the drained shards' acks too, as the snapshot does
    await waitFor('96 acked', () => runner.runner.snapshot().acked >= 96, 10_000);
    expect({ acked: runner.runner.acked, snapshot: runner.runner.snapshot().acked }).toEqual({ acked: 96, snapshot: 96 });
  }, 120_000);
});

describe('Concurrency change under load: counter fixture, real runner', () => {
  it('lowering 4 -> 2 applies every message exactly once, drains and deletes the surplus shards, and reorders only keys that moved, only behind their surplus backlog', async () => {
    const surplus = (q: string) => [`${q}.2`, `${q}.3`];
    let drainedAt = 0;
    const s = await changeConcurrency(4, 2, async (q) => {
      const states = await shardStates(q);
      if (states[2] !== null || states[3] !== null) return false;
      drainedAt ||= Date.now();
      return true;
    });
    // backlog on every shard at the change
    expect(s.depthsAtChange.every((d) => d > 0)).toBe(true);
    // exactly once
    expect(await counterState(s.db)).toEqual({ n: s.total, applied: s.total, distinct: s.total });
    // no queue with messages and no consumer: the surplus shards are gone, the two kept ones are empty and consumed
    expect(await shardStates(s.queue)).toEqual([{ messages: 0, consumers: 1 }, { messages: 0, consumers: 1 }, null, null, null, null]);
    // per-key order
    const byKey = queuesByKey(s.rows);
    const moved = [...byKey].filter(([, qs]) => surplus(s.queue).some((q) => qs.has(q))).map(([k]) => k);
    for (const [key, qs] of byKey) {
      const kept = [...qs].filter((q) => !surplus(s.queue).includes(q));
      expect(kept.length, `key ${key} stays on one kept shard`).toBe(1); // jump consistent hash: only surplus keys move
    }
    const reordered = reorderings(s.rows);
    const displaced = displacedAfter(s.rows, s.changedAt);
    for (const r of reordered) {
      expect(moved, `reordered key ${r.key}`).toContain(r.key);
      expect(surplus(s.queue), `a late message came from the surplus backlog`).toContain(r.lateQueue);
      expect(displaced.has(`${r.key}:${r.late}`), `late message ${r.key}:${r.late} was queued off its key's new shard at the change`).toBe(true);
    }
    const surplusAfterChange = s.rows.filter((r) => surplus(s.queue).includes(r.queue) && r.at.getTime() >= s.changedAt - 50).length;
    expect(reordered.length).toBeLessThanOrEqual(displaced.size);
    process.stdout.write(`[measured] lower 4->2: ${s.total} messages, ${KEYS.length} keys, ${moved.length} moved; surplus backlog at the change ${s.depthsAtChange.slice(2).join('+')}, ` +
      `${surplusAfterChange} applied from surplus shards after it; reordered messages ${reordered.length} (keys ${new Set(reordered.map((r) => r.key)).size}); ` +
      `surplus shards deleted ${drainedAt - s.changedAt} ms after the start\n`);
  }, 480_000);

  it('raising 2 -> 4 applies every message exactly once, moves keys only to the new shards, and reorders only moved keys, only behind their old-shard backlog', async () => {
    const old = (q: string) => [`${q}.0`, `${q}.1`];
    const s = await changeConcurrency(2, 4, async (q) => (await shardStates(q)).slice(0, 4).every((x) => x !== null && x.consumers === 1));
    expect(s.depthsAtChange.every((d) => d > 0)).toBe(true);
    expect(await counterState(s.db)).toEqual({ n: s.total, applied: s.total, distinct: s.total });
    expect(await shardStates(s.queue)).toEqual([
      { messages: 0, consumers: 1 }, { messages: 0, consumers: 1 }, { messages: 0, consumers: 1 }, { messages: 0, consumers: 1 }, null, null,
    ]);
    const byKey = queuesByKey(s.rows);
    const moved = [...byKey].filter(([, qs]) => [...qs].some((q) => !old(s.queue).includes(q))).map(([k]) => k);
    for (const [key, qs] of byKey) expect([...qs].filter((q) => old(s.queue).includes(q)), `key ${key} had one old shard`).toHaveLength(1);
    expect(moved.length).toBeGreaterThan(0);
    const reordered = reorderings(s.rows);
    const displaced = displacedAfter(s.rows, s.changedAt);
    for (const r of reordered) {
      expect(moved, `reordered key ${r.key}`).toContain(r.key);
      expect(displaced.has(`${r.key}:${r.late}`), `late message ${r.key}:${r.late} was queued off its key's new shard at the change`).toBe(true);
    }
    // the window: messages of moved keys still queued on their old shard after the change
    const window = s.rows.filter((r) => moved.includes(r.key) && old(s.queue).includes(r.queue) && r.at.getTime() >= s.changedAt - 50);
    expect(reordered.length).toBeLessThanOrEqual(window.length);
    const windowMs = window.length === 0 ? 0 : Math.max(...window.map((r) => r.at.getTime())) - s.changedAt;
    process.stdout.write(`[measured] raise 2->4: ${s.total} messages, ${KEYS.length} keys, ${moved.length} moved; backlog at the change ${s.depthsAtChange.join('+')}; ` +
      `${window.length} messages of moved keys applied from their old shard after the change, the last ${windowMs} ms after the start; ` +
      `reordered messages ${reordered.length} (keys ${new Set(reordered.map((r) => r.key)).size}, ${reordered.filter((r) => old(s.queue).includes(r.lateQueue)).length} of them late from the old shard)\n`);
  }, 480_000);
});
