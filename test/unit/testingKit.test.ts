/**
 * warren/testing without a database: its defaults, the event it builds (the same as the runner's for the same message),
 * and that the package code stays framework-agnostic (no test runner imported).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Message } from 'amqplib';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { toRmqEvent } from '../../runtime/toRmqEvent.js';
import { decodeEvent } from '../../runtime/decode.js';
import { TEST_KIT_DEFAULTS } from '../../testing/index.js';
import { deliveredMessages, testRmqEvent } from '../../testing/rmqEvent.js';

describe('The test kit without a database', () => {
  it('has these defaults', () => {
    expect(TEST_KIT_DEFAULTS).toEqual({
      databaseUrl: 'mysql://root@127.0.0.1:3306/test',
      migrations: [],
      root: '.',
      databasePrefix: 'warren_test',
      logLevel: 'warn',
      handlerName: 'handler',
      vhost: '/',
    });
  });

  it('builds the event the runner builds for the same message, quirks included', () => {
    const timestamp = new Date('2026-03-04T13:05:09.750Z');
    const [kit] = deliveredMessages([{
      body: { orderId: 'o1' }, messageId: 'm-1', redelivered: true,
      headers: { traceparent: '00-abc-def-01', attempt: 2, nested: { list: ['x', 1, true, null] } },
      properties: { correlationId: 'c-1', replyTo: 'callers', type: 'order', appId: 'shop', priority: 3, expiration: '6000', timestamp },
    }], () => 'unused');
    const content = Buffer.from('{"orderId":"o1"}');
    const amqp: Pick<Message, 'content' | 'fields' | 'properties'> = {
      content,
      fields: { redelivered: true } as Message['fields'],
      properties: {
        contentType: 'application/json', contentEncoding: undefined, deliveryMode: 2, priority: 3, correlationId: 'c-1', replyTo: 'callers',
        expiration: '6000', messageId: 'm-1', timestamp: Math.floor(timestamp.getTime() / 1000), type: 'order', userId: undefined, appId: 'shop',
        clusterId: undefined, headers: { traceparent: '00-abc-def-01', attempt: 2, nested: { list: ['x', 1, true, null] } },
      },
    };
    const runner = toRmqEvent('orders.0', '/', [amqp]);
    const built = testRmqEvent('orders.0', '/', [kit!]);
    expect(built.rmqMessagesByQueue).toEqual(runner.rmqMessagesByQueue);
    expect(built.rmqMessagesByQueue['orders.0::/']![0]!.basicProperties.timestamp).toBe('Mar 4, 2026, 1:05:09 PM');
    const [decoded] = decodeEvent(built);
    expect([decoded!.body, decoded!.headers, decoded!.messageId, decoded!.redelivered]).toEqual([
      { orderId: 'o1' }, { traceparent: '00-abc-def-01', attempt: 2, nested: { list: ['x', 1, true, null] } }, 'm-1', true,
    ]);
  });

  it('sends a string or Buffer body as its bytes and anything else as JSON, generating message ids only when missing', () => {
    let n = 0;
    const messages = deliveredMessages([{ body: 'not json' }, { body: Buffer.from([1, 2]) }, { body: 42, messageId: null }, { body: [1], messageId: 'given' }], () => `gen-${(n += 1)}`);
    expect(messages.map((m) => m.messageId)).toEqual(['gen-1', 'gen-2', null, 'given']);
    const event = testRmqEvent('q.0', '/', messages);
    expect(event.rmqMessagesByQueue['q.0::/']!.map((m) => [Buffer.from(m.data, 'base64').toString('hex'), m.basicProperties.contentType, m.basicProperties.bodySize])).toEqual([
      [Buffer.from('not json').toString('hex'), null, 8], ['0102', null, 2], [Buffer.from('42').toString('hex'), 'application/json', 2], [Buffer.from('[1]').toString('hex'), 'application/json', 3],
    ]);
  });

  it('imports no test runner in its package code', () => {
    const files = readdirSync('testing').filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(5);
    // Imports as TypeScript reads them (the usage example in index.ts's doc comment is no import).
    const imported = files.flatMap((f) => ts.preProcessFile(readFileSync(`testing/${f}`, 'utf8'), true, true).importedFiles.map((i) => i.fileName));
    expect(imported).toContain('mysql2/promise');
    expect(imported.filter((name) => /^(vitest|jest|mocha|node:test|@jest\/)/.test(name))).toEqual([]);
  });
});
