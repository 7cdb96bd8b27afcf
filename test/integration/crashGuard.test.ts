/**
 * On Lambda a message that crashes the function (process exit, timeout, out of memory) leaves Warren no chance to count
 * the failure, and AWS does not document whether the MQ trigger's return of the batch counts toward the quorum queue's
 * delivery limit (docs/failure-semantics.md, "Shard queues"). runtime/crashGuard.ts bounds it: each invocation here runs in a fresh
 * process (a new execution environment) with AWS_LAMBDA_FUNCTION_NAME set, against the real MariaDB and RabbitMQ.
 */
import { fork, type Serializable } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainQueue, headerText } from '../helpers/amqp.js';
import { counterState, createCounterTables } from '../helpers/counter.js';
import { rmqEvent } from '../helpers/rmqEvent.js';
import { AMQP_URL, createTestDatabase, uniqueName, type TestDatabase } from '../helpers/services.js';

const root = resolve(import.meta.dirname, '../..');
let db: TestDatabase;
const dlq = uniqueName('crash_dlq');

beforeAll(async () => {
  db = await createTestDatabase();
  await createCounterTables(db);
});
afterAll(async () => {
  const connection = await amqp.connect(AMQP_URL);
  const channel = await connection.createChannel();
  await channel.deleteQueue(dlq).catch(() => undefined);
  await connection.close();
  await db.drop();
});

/** One invocation in a fresh process; resolves with its reply, or with the exit code when the process died. */
function invokeOnce(event: Serializable): Promise<{ ok?: boolean; error?: string; exitCode?: number | null }> {
  return invokeInOneProcess([event]).then((replies) => replies[0]!);
}

/** Invocations one after the other in ONE fresh process (a warm environment from the second on); stops when it dies. */
function invokeInOneProcess(events: readonly Serializable[]): Promise<{ ok?: boolean; error?: string; exitCode?: number | null }[]> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WARREN_') && k !== 'DATABASE_URL'));
  const child = fork(join(root, 'test/fixtures/invokeModule.ts'), [join(root, 'test/fixtures/crashOnPoison.ts')], {
    execArgv: ['--import', 'tsx'],
    env: { ...base, DATABASE_URL: db.url, AWS_LAMBDA_FUNCTION_NAME: 'crash-guard-test', WARREN_HANDLER: 'crashy', WARREN_DLQ_AMQP_URL: AMQP_URL, WARREN_DLQ_QUEUE: dlq, WARREN_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const replies: { ok?: boolean; error?: string; exitCode?: number | null }[] = [];
  return new Promise((resolveReplies) => {
    child.on('message', (m: { ready?: boolean; ok?: boolean; error?: string }) => {
      if (m.ready !== true) replies.push(m);
      const next = events[replies.length];
      if (next === undefined) { resolveReplies(replies); child.kill(); return; }
      child.send(next);
    });
    child.once('exit', (code) => { if (replies.length < events.length) replies.push({ exitCode: code }); resolveReplies(replies); });
  });
}

describe('Crash guard: a message that kills the function on Lambda', () => {
  it('is dead-lettered after maxDeliveries invocations died on it, and the rest of its batch is applied once', async () => {
    const event = rmqEvent('crashy.0', [{ id: 'a' }, { id: 'poison', crash: true }, { id: 'b' }], 'crash', { ids: ['a', 'poison', 'b'] });
    const outcomes: (string | number | null | undefined)[] = [];
    for (let i = 0; i < 8; i += 1) {
      const reply = await invokeOnce(event);
      outcomes.push(reply.ok === true ? 'ok' : reply.exitCode ?? reply.error);
      if (reply.ok === true) break;
    }
    // 1: 'a' commits, then the crash; 2-4: the poison is the suspect, each crash leaves a mark (maxDeliveries 3);
    // 5: three marks: dead-lettered without running, 'b' applied.
    expect(outcomes).toEqual([137, 137, 137, 137, 'ok']);
    expect(await counterState(db)).toEqual({ n: 2, applied: 2, distinct: 2 });
    const letters = await drainQueue(dlq);
    expect(letters).toHaveLength(1);
    expect(JSON.parse(letters[0]!.content.toString())).toEqual({ id: 'poison', crash: true });
    expect(headerText(letters[0]!, 'x-warren-error-class')).toBe('CrashedInvocationError');
    expect(headerText(letters[0]!, 'x-warren-error-message')).toBe('3 invocations started on this message and never ended (the function crashed, timed out or ran out of memory); set aside without running it again');
    // The ended invocation removed its mark, and the stale one left on 'a' by the first crash is gone too.
    const marks = await db.query<RowDataPacket[]>("SELECT message_key FROM $db.warren_deliveries WHERE handler = 'crashy'");
    expect(marks).toEqual([]);

    // A redelivery of the same batch changes nothing and runs nothing.
    expect(await invokeOnce(event)).toMatchObject({ ok: true });
    expect(await counterState(db)).toEqual({ n: 2, applied: 2, distinct: 2 });
    expect(await drainQueue(dlq)).toHaveLength(0);
  });

  it('bounds a message that first crashes a warm environment (which skips the guard\'s mark) at one invocation more: dead-lettered after maxDeliveries marked ones', async () => {
    const before = await counterState(db);
    const good = rmqEvent('crashy.1', [{ id: 'w-ok' }], 'warm', { ids: ['w-ok'] });
    const poison = rmqEvent('crashy.1', [{ id: 'w-poison', crash: true }, { id: 'w-after' }], 'warm2', { ids: ['w-poison', 'w-after'] });
    // The environment's first invocation (guarded) succeeds; its second, on new messages, runs without a mark and dies.
    expect(await invokeInOneProcess([good, poison])).toEqual([{ ok: true, result: expect.anything() as unknown }, { exitCode: 137 }]);
    const outcomes: (string | number | null | undefined)[] = [];
    for (let i = 0; i < 6; i += 1) {
      const reply = await invokeOnce(poison); // the trigger's retries: fresh environments (Lambda resets a crashed one)
      outcomes.push(reply.ok === true ? 'ok' : reply.exitCode ?? reply.error);
      if (reply.ok === true) break;
    }
    expect(outcomes).toEqual([137, 137, 137, 'ok']);
    expect(await counterState(db)).toEqual({ n: before.n + 2, applied: before.applied + 2, distinct: before.distinct + 2 });
    const letters = await drainQueue(dlq);
    expect(letters.map((l) => JSON.parse(l.content.toString()) as unknown)).toEqual([{ id: 'w-poison', crash: true }]);
    expect(headerText(letters[0]!, 'x-warren-error-message')).toBe('3 invocations started on this message and never ended (the function crashed, timed out or ran out of memory); set aside without running it again');
  });
});
