/**
 * On Lambda a message that crashes the function (process exit, timeout, out of memory) leaves Warren no chance to count
 * the failure, and AWS does not document whether the MQ trigger's return of the batch counts toward the quorum queue's
 * delivery limit (README, "Shard queues"). runtime/crashGuard.ts bounds it: each invocation here runs in a fresh
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
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WARREN_') && k !== 'DATABASE_URL'));
  const child = fork(join(root, 'test/fixtures/invokeModule.ts'), [join(root, 'test/fixtures/crashOnPoison.ts')], {
    execArgv: ['--import', 'tsx'],
    env: { ...base, DATABASE_URL: db.url, AWS_LAMBDA_FUNCTION_NAME: 'crash-guard-test', WARREN_HANDLER: 'crashy', WARREN_DLQ_AMQP_URL: AMQP_URL, WARREN_DLQ_QUEUE: dlq, WARREN_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolveReply) => {
    child.on('message', (m: { ready?: boolean; ok?: boolean; error?: string }) => {
      if (m.ready === true) { child.send(event); return; }
      resolveReply(m);
      child.kill();
    });
    child.once('exit', (code) => resolveReply({ exitCode: code }));
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
});
