/**
 * `warren/testing`: a test kit for handler authors. It runs a handler (what a module exports from `defineHandler()`) on
 * a list of messages against a REAL MySQL / MariaDB database of its own, through the same function Lambda and the
 * local runner's workers call (an `aws:rmq` event in AWS's shape: decode, schema, inbox claim, your code, outbox,
 * commit, flush), without a broker: what the handler publishes, replies and dead-letters is recorded instead of sent.
 * Framework-agnostic (no test runner imported); with vitest:
 *
 * ```ts
 * import { afterAll, beforeAll, expect, it } from 'vitest';
 * import { createTestKit, type TestKit } from 'warren/testing';
 * import { handler } from '../functions/orders.js';
 *
 * let kit: TestKit;
 * beforeAll(async () => { kit = await createTestKit({ migrations: ['functions/schema.sql'] }); }); // its own database
 * afterAll(() => kit.close());                                                                      // dropped here
 *
 * it('counts a redelivered order once', async () => {
 *   const run = await kit.run(handler, [{ body: { orderId: 'o1', sku: 'a', quantity: 2 } }], { name: 'orders' });
 *   expect(run.summary).toMatchObject({ committed: 1 });
 *   expect(run.published.map((m) => m.routingKey)).toEqual(['order.accepted']);
 *   const again = await kit.run(handler, run.messages.map((m) => ({ ...m, redelivered: true })), { name: 'orders' });
 *   expect(again.summary).toMatchObject({ committed: 0, deduplicated: 1 });
 *   expect(await kit.query('SELECT quantity_total FROM sku_totals WHERE sku = ?', ['a'])).toEqual([{ quantity_total: 2 }]);
 * });
 * ```
 *
 * Which path it takes where Lambda's and the runner's differ: neither's extras. It runs as a process that is neither
 * on Lambda nor a runner worker: NO crash guard (runtime/crashGuard.ts is Lambda's, for a message that kills the
 * process) and no EMF lines; outbox rows are marked sent right after their (recorded) publish, not deferred (a
 * deferred mark, if WARREN_OUTBOX_MARK_DELAY_MS is set in the test process, is written before `run()` returns).
 * Each `run()` is one invocation (one batch from one shard queue); a transient failure on every attempt makes it throw
 * `TestRunError` (the broker would redeliver): run the messages again with `redelivered: true` to play the redelivery.
 * Not covered: the broker (topology, sharding by key, prefetch, redelivery timing, quorum delivery limits, message
 * size limits) and the runner's pool. docs/testing.md says more.
 */
export { createTestKit, type TestKit } from './TestKit.js';
export { TEST_KIT_DEFAULTS, type RunOptions, type TestKitOptions } from './options.js';
export type { DeliveredMessage, RecordedDeadLetter, RecordedMessage, RecordedReply, TestHeaderValue, TestMessage, TestMessageProperties, TestRun, TestRunRecord } from './records.js';
export { TestKitError, TestRunError } from './errors.js';
