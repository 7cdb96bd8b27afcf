/**
 * The crash guard answers too: a request that kills the function on every invocation (Lambda, in a fresh process each
 * time) gets an error reply when the guard sets it aside, against the real MariaDB and RabbitMQ.
 */
import { fork, type Serializable } from 'node:child_process';
import { join, resolve } from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainQueue, headerText } from '../helpers/amqp.js';
import { createCounterTables } from '../helpers/counter.js';
import { rmqEvent } from '../helpers/rmqEvent.js';
import { AMQP_URL, createTestDatabase, uniqueName, waitFor, type TestDatabase } from '../helpers/services.js';

const root = resolve(import.meta.dirname, '../..');
let db: TestDatabase;
const dlq = uniqueName('crash_reply_dlq');
const replies = uniqueName('crash_replies');

beforeAll(async () => {
  db = await createTestDatabase();
  await createCounterTables(db);
  const connection = await amqp.connect(AMQP_URL);
  await (await connection.createChannel()).assertQueue(replies, { durable: false });
  await connection.close();
});
afterAll(async () => {
  const connection = await amqp.connect(AMQP_URL);
  const channel = await connection.createChannel();
  for (const q of [dlq, replies]) await channel.deleteQueue(q).catch(() => undefined);
  await connection.close();
  await db.drop();
});

function invokeOnce(event: Serializable): Promise<{ ok?: boolean; exitCode?: number | null }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WARREN_') && k !== 'DATABASE_URL'));
  const child = fork(join(root, 'test/fixtures/invokeModule.ts'), [join(root, 'test/fixtures/crashOnPoison.ts')], {
    execArgv: ['--import', 'tsx'],
    env: { ...base, DATABASE_URL: db.url, AWS_LAMBDA_FUNCTION_NAME: 'crash-reply-test', WARREN_HANDLER: 'crashy', WARREN_DLQ_AMQP_URL: AMQP_URL, WARREN_DLQ_QUEUE: dlq, WARREN_PUBLISH_AMQP_URL: AMQP_URL, WARREN_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolveReply) => {
    child.on('message', (m: { ready?: boolean; ok?: boolean }) => {
      if (m.ready === true) { child.send(event); return; }
      resolveReply(m);
      child.kill();
    });
    child.once('exit', (code) => resolveReply({ exitCode: code }));
  });
}

describe('Crash guard: a request that kills the function', () => {
  it('gets an error reply with its correlation id when the guard sets it aside, and nothing before', async () => {
    const event = rmqEvent('crashy.0', [{ id: 'poison', crash: true }], 'crashreq', { ids: ['poison-req'], correlationId: 'ask-7' }) as unknown as { rmqMessagesByQueue: Record<string, { basicProperties: Record<string, unknown> }[]> };
    for (const list of Object.values(event.rmqMessagesByQueue)) for (const m of list) m.basicProperties.replyTo = replies;
    const outcomes: (string | number | null | undefined)[] = [];
    for (let i = 0; i < 6; i += 1) {
      const reply = await invokeOnce(event as unknown as Serializable);
      outcomes.push(reply.ok === true ? 'ok' : reply.exitCode);
      if (reply.ok === true) break;
      expect(await drainQueue(replies)).toEqual([]); // a crash answers nothing
    }
    expect(outcomes).toEqual([137, 137, 137, 'ok']);
    const got = await waitFor('the error reply', async () => { const all = await drainQueue(replies); return all.length > 0 ? all : undefined; }, 10_000);
    expect(got).toHaveLength(1);
    const reason = '3 invocations started on this message and never ended (the function crashed, timed out or ran out of memory); set aside without running it again';
    expect([headerText(got[0]!, 'warren-error'), JSON.parse(got[0]!.content.toString()), got[0]!.properties.correlationId]).toEqual([reason, { error: reason }, 'ask-7']);
    expect(await drainQueue(dlq)).toHaveLength(1);
  });
});
