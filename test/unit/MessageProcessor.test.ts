import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DeadLetterError, PermanentError } from '../../runtime/errors.js';
import { resolveHandlerOptions, type HandlerOptions } from '../../runtime/handlerOptions.js';
import { newCounts } from '../../runtime/invocation.js';
import { MessageProcessor } from '../../runtime/MessageProcessor.js';
import { FakeDatabase, RecordingSink, recordingLogger, testMessage } from '../helpers/fakes.js';

const deadlock = () => Object.assign(new Error('Deadlock found when trying to get lock'), { code: 'ER_LOCK_DEADLOCK', errno: 1213 });

function setup(options: HandlerOptions<{ id: string }>, sink: RecordingSink | null = new RecordingSink()) {
  const { log, lines } = recordingLogger();
  const sleeps: number[] = [];
  const processor = new MessageProcessor({
    handler: 'orders',
    options: resolveHandlerOptions({ retryBackoffBaseMs: 10, ...options }),
    log,
    deadLetterSink: () => sink ?? undefined,
    sleep: async (ms) => { sleeps.push(ms); },
  });
  return { processor, db: new FakeDatabase(), sink, lines, sleeps, counts: newCounts() };
}

describe('Class: MessageProcessor', () => {
  it('commits a keyed message once and counts a second delivery of its key as deduplicated', async () => {
    const runs: string[] = [];
    const { processor, db, counts } = setup({ async handle(m) { runs.push(m.messageId ?? ''); } });
    await processor.processAll(db, [testMessage({ id: 'a' }, { messageId: 'm-a' }), testMessage({ id: 'a' }, { messageId: 'm-a' })], counts);
    expect(runs).toEqual(['m-a']);
    expect(counts).toMatchObject({ committed: 1, deduplicated: 1, deadLettered: 0, retries: 0, unkeyed: 0 });
    expect(db.inbox.get('orders m-a')).toBe('processed');
  });

  it('retries a transient failure inside the invocation with backoff, then commits once', async () => {
    let calls = 0;
    const { processor, db, counts, sleeps } = setup({ async handle() { calls += 1; if (calls < 3) throw deadlock(); } });
    expect(await processor.process(db, testMessage({ id: 'a' }, { messageId: 'm-a' }), counts)).toBe('committed');
    expect(calls).toBe(3);
    expect(counts.retries).toBe(2);
    expect(sleeps).toHaveLength(2);
    expect(db.rollbacks).toBe(2);
    expect(db.commits).toBe(1);
  });

  it('dead-letters a PermanentError at once with its reason and key, and records the key in the inbox', async () => {
    const { processor, db, counts, sink } = setup({ async handle() { throw new PermanentError('sku "x" is discontinued'); } });
    expect(await processor.process(db, testMessage({ id: 'a' }, { messageId: 'm-a', queue: 'orders.2' }), counts)).toBe('dead-lettered');
    expect(sink!.letters).toHaveLength(1);
    expect(sink!.letters[0]).toMatchObject({ handler: 'orders', sourceQueue: 'orders.2', messageKey: 'm-a', deliveries: 1, error: { name: 'PermanentError', message: 'sku "x" is discontinued', kind: 'permanent' } });
    expect(db.inbox.get('orders m-a')).toBe('dead-lettered');
  });

  it('asks the handler\'s own classifier before the defaults', async () => {
    const { processor, db, counts, sink } = setup({ classify: () => 'permanent', async handle() { throw deadlock(); } });
    expect(await processor.process(db, testMessage({ id: 'a' }, { messageId: 'm-a' }), counts)).toBe('dead-lettered');
    expect(sink!.letters[0]?.error.kind).toBe('permanent');
    expect(counts.retries).toBe(0);
  });

  it('counts the failed delivery and throws the error so the batch is redelivered when the attempts run out', async () => {
    const { processor, db, counts, sink } = setup({ attempts: 2, maxDeliveries: 5, async handle() { throw deadlock(); } });
    const error = await processor.process(db, testMessage({ id: 'a' }, { messageId: 'm-a' }), counts).catch((e: unknown) => e);
    expect((error as Error).message).toBe('Deadlock found when trying to get lock');
    expect(db.failures.get('orders m-a')).toBe(1);
    expect(sink!.letters).toHaveLength(0);
  });

  it('dead-letters a message on the delivery that reaches maxDeliveries', async () => {
    const { processor, db, counts, sink } = setup({ attempts: 1, maxDeliveries: 3, async handle() { throw deadlock(); } });
    const message = testMessage({ id: 'a' }, { messageId: 'm-a' });
    for (let i = 0; i < 2; i += 1) await expect(processor.process(db, message, counts)).rejects.toThrow('Deadlock');
    expect(await processor.process(db, message, counts)).toBe('dead-lettered');
    expect(sink!.letters[0]).toMatchObject({ deliveries: 3, error: { kind: 'transient' } });
    expect(db.failures.has('orders m-a')).toBe(false);
  });

  it('rethrows the handler\'s error when the failure cannot even be counted (the database is unreachable)', async () => {
    const { processor, db, counts } = setup({ attempts: 1, async handle() { throw deadlock(); } });
    db.autocommitError = new Error('connect ECONNREFUSED');
    await expect(processor.process(db, testMessage({ id: 'a' }, { messageId: 'm-a' }), counts)).rejects.toThrow('Deadlock found when trying to get lock');
  });

  it('throws DeadLetterError naming the variables to set when no dead-letter queue is configured, so nothing is lost', async () => {
    const { processor, db, counts } = setup({ async handle() { throw new PermanentError('bad'); } }, null);
    const error = await processor.process(db, testMessage({ id: 'a' }, { messageId: 'm-a' }), counts).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadLetterError);
    expect((error as Error).message).toBe('No dead-letter queue is configured for handler "orders", so a permanent failure (bad) cannot be set aside; set WARREN_DLQ_URL (SQS) or WARREN_DLQ_AMQP_URL and WARREN_DLQ_QUEUE');
    expect(db.inbox.has('orders m-a')).toBe(false);
  });

  it('throws DeadLetterError naming the destination when the sink fails, and records nothing in the inbox', async () => {
    const { processor, db, counts } = setup({ async handle() { throw new PermanentError('bad'); } }, new RecordingSink(new Error('queue is gone')));
    const error = await processor.process(db, testMessage({ id: 'a' }, { messageId: 'm-a' }), counts).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadLetterError);
    expect((error as Error).message).toBe('Could not write to the dead-letter queue (test sink): queue is gone');
    expect(db.inbox.has('orders m-a')).toBe(false);
  });

  it('dead-letters a body that fails the schema without running the handler', async () => {
    let ran = false;
    const { processor, db, counts, sink } = setup({ schema: z.object({ id: z.string() }), async handle() { ran = true; } });
    expect(await processor.process(db, testMessage({ id: 7 }, { messageId: 'm-a' }), counts)).toBe('dead-lettered');
    expect(ran).toBe(false);
    expect(sink!.letters[0]?.error.name).toBe('SchemaValidationError');
  });

  it('processes unkeyed messages without an inbox claim, counts them, and warns once per shard queue', async () => {
    let runs = 0;
    const { processor, db, counts, lines } = setup({ async handle() { runs += 1; } });
    const unkeyed = (queue: string) => testMessage({ id: 'a' }, { queue });
    await processor.processAll(db, [unkeyed('orders.0'), unkeyed('orders.0'), unkeyed('orders.1')], counts);
    expect(runs).toBe(3);
    expect(counts).toMatchObject({ committed: 3, unkeyed: 3, deduplicated: 0 });
    expect(db.inbox.size).toBe(0);
    const warnings = lines.filter((l) => String(l.msg).startsWith('a message without a key was processed at-least-once'));
    expect(warnings.map((w) => w.queue)).toEqual(['orders.0', 'orders.1']);
  });

  it('dead-letters an unkeyed message under onMissingKey "dead-letter"', async () => {
    const { processor, db, counts, sink } = setup({ onMissingKey: 'dead-letter', async handle() { throw new Error('must not run'); } });
    expect(await processor.process(db, testMessage({ id: 'a' }), counts)).toBe('dead-lettered');
    expect(sink!.letters[0]?.error.name).toBe('MissingMessageKeyError');
  });

  it('dead-letters an unkeyed message that keeps failing after maxDeliveries, counting its deliveries by body hash', async () => {
    const { processor, db, counts, sink } = setup({ attempts: 1, maxDeliveries: 2, async handle() { throw deadlock(); } });
    await expect(processor.process(db, testMessage({ id: 'a' }), counts)).rejects.toThrow('Deadlock');
    expect(await processor.process(db, testMessage({ id: 'a' }, { redelivered: true }), counts)).toBe('dead-lettered');
    expect(sink!.letters[0]).toMatchObject({ messageKey: null, deliveries: 2 });
    expect(db.failures.size).toBe(0);
  });
});

describe('Class: MessageProcessor, batch mode', () => {
  it('runs a handleBatch batch in ONE transaction with one multi-row inbox claim', async () => {
    const seen: number[] = [];
    const { processor, db, counts } = setup({ async handleBatch(messages) { seen.push(messages.length); } });
    await processor.processAll(db, [1, 2, 3].map((i) => testMessage({ id: `${i}` }, { messageId: `m-${i}` })), counts);
    expect(seen).toEqual([3]);
    expect(db.commits).toBe(1);
    expect(counts).toMatchObject({ committed: 3, deduplicated: 0 });
  });

  it('falls back to one message per transaction when the batch fails, so only the poison message is dead-lettered', async () => {
    const { processor, db, counts, sink } = setup({
      async handleBatch(messages) {
        if (messages.some((m) => m.body.id === 'poison')) throw new PermanentError('poison in the batch');
      },
    });
    await processor.processAll(db, ['a', 'poison', 'b'].map((id) => testMessage({ id }, { messageId: `m-${id}` })), counts);
    expect(counts).toMatchObject({ committed: 2, deadLettered: 1 });
    expect(sink!.letters.map((l) => l.messageKey)).toEqual(['m-poison']);
    expect(db.rollbacks).toBe(2);
  });
});
