import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeEvent, splitQueueKey } from '../../runtime/decode.js';
import { DecodeError } from '../../runtime/errors.js';
import type { RmqEvent } from '../../runtime/event.js';
import { encodeHeaderValue, formatTimestamp, toRmqEvent } from '../../runtime/toRmqEvent.js';

const awsExample = JSON.parse(readFileSync(new URL('../fixtures/events/aws-docs-rmq.json', import.meta.url), 'utf8')) as RmqEvent;

describe('Function: decodeEvent()', () => {
  it('decodes the example event from the AWS documentation', () => {
    const [message, ...rest] = decodeEvent(awsExample);
    expect(rest).toHaveLength(0);
    expect(message).toBeDefined();
    expect(message!.queue).toBe('pizzaQueue');
    expect(message!.vhost).toBe('/');
    expect(message!.body).toEqual({ timeout: 0, data: 'CZrmf0Gw8Ov4bqLQxD4E' });
    expect(message!.headers).toEqual({ header1: 'value1', header2: 'value2', numberInHeader: 10 });
    expect(message!.properties.timestamp).toBe('Jan 1, 1970, 12:33:41 AM');
    expect(message!.messageId).toBeNull();
    expect(message!.correlationId).toBeNull();
    expect(message!.redelivered).toBe(false);
    expect(message!.data.length).toBe(43); // the documented example says bodySize 80; the data it carries is 43 bytes
  });

  it('keeps messages of several queues in order and numbers them across the batch', () => {
    const event = toRmqEvent('a', '/', [msg('1'), msg('2')]);
    const other = toRmqEvent('b', 'prod', [msg('3')]);
    const merged: RmqEvent = { ...event, rmqMessagesByQueue: { ...event.rmqMessagesByQueue, ...other.rmqMessagesByQueue } };
    expect(decodeEvent(merged).map((m) => [m.queue, m.vhost, m.index, m.text()])).toEqual([['a', '/', 0, '1'], ['a', '/', 1, '2'], ['b', 'prod', 2, '3']]);
  });

  it('throws a DecodeError naming the message when the body is not JSON, only when the body is read', () => {
    const [message] = decodeEvent(toRmqEvent('q', '/', [msg('not json', { messageId: 'm-1' })]));
    expect(message!.text()).toBe('not json');
    expect(() => message!.body).toThrow(DecodeError);
    expect(() => message!.body).toThrow(/the body of message m-1 on q: it is not JSON/);
  });

  it('rejects an event that is not from an Amazon MQ for RabbitMQ trigger', () => {
    expect(() => decodeEvent({ Records: [] } as unknown as RmqEvent)).toThrow(/eventSource "aws:rmq"/);
  });

  it('splits a queue key whose vhost contains "::"', () => {
    expect(splitQueueKey('orders.0::tenant::a')).toEqual({ queue: 'orders.0', vhost: 'tenant::a' });
    expect(() => splitQueueKey('no-separator')).toThrow(DecodeError);
  });
});

function msg(body: string, properties: Record<string, unknown> = {}) {
  return { content: Buffer.from(body), fields: { redelivered: false, deliveryTag: 1, exchange: '', routingKey: '', consumerTag: '' }, properties: { headers: {}, ...properties } } as never;
}

describe('Function: toRmqEvent()', () => {
  it('produces the trigger\'s shape and quirks: bytes headers, numbers as numbers, formatted timestamp, nulls', () => {
    const event = toRmqEvent('pizzaQueue', '/', [{
      content: Buffer.from('{"timeout":0,"data":"CZrmf0Gw8Ov4bqLQxD4E"}'),
      fields: { redelivered: false, deliveryTag: 1, exchange: '', routingKey: '', consumerTag: '' } as never,
      properties: { contentType: 'text/plain', headers: { header1: 'value1', header2: 'value2', numberInHeader: 10 }, deliveryMode: 1, priority: 34, expiration: '60000', timestamp: 2021, userId: 'AIDACKCEVSQ6C2EXAMPLE' } as never,
    }]);
    const expected = structuredClone(awsExample) as unknown as { eventSourceArn: string; rmqMessagesByQueue: Record<string, { basicProperties: { bodySize: number } }[]> };
    expected.rmqMessagesByQueue['pizzaQueue::/']![0]!.basicProperties.bodySize = 43;
    expect(event).toEqual({ ...expected, eventSourceArn: event.eventSourceArn });
    expect(event.eventSourceArn).toMatch(/^arn:aws:mq:/);
  });

  it('round-trips headers through the quirky encoding', () => {
    const headers = { s: 'text ü', n: 3, b: true, nested: { inner: 'x' }, list: ['a', 1] };
    const [decoded] = decodeEvent(toRmqEvent('q', '/', [msg('{}', { headers })]));
    expect(decoded!.headers).toEqual(headers);
  });
});

describe('Function: formatTimestamp()', () => {
  it('formats seconds like the trigger: "Jan 1, 1970, 12:33:41 AM" in UTC with a plain space', () => {
    expect(formatTimestamp(2021)).toBe('Jan 1, 1970, 12:33:41 AM');
    expect(formatTimestamp(Date.UTC(2026, 10, 26, 13, 5, 9) / 1000)).toBe('Nov 26, 2026, 1:05:09 PM');
    expect(formatTimestamp(Date.UTC(2026, 0, 2, 12, 0, 0) / 1000)).toBe('Jan 2, 2026, 12:00:00 PM');
  });

  it('gives the same text for a second asked twice in a row, and the next second its own', () => {
    const t = Date.UTC(2026, 11, 7, 9, 59, 59) / 1000;
    expect([formatTimestamp(t), formatTimestamp(t), formatTimestamp(t + 1), formatTimestamp(t)]).toEqual(['Dec 7, 2026, 9:59:59 AM', 'Dec 7, 2026, 9:59:59 AM', 'Dec 7, 2026, 10:00:00 AM', 'Dec 7, 2026, 9:59:59 AM']);
  });
});

describe('Function: encodeHeaderValue()', () => {
  it('turns strings and buffers into { bytes } and leaves numbers and booleans alone', () => {
    expect(encodeHeaderValue('ab')).toEqual({ bytes: [97, 98] });
    expect(encodeHeaderValue(Buffer.from([1, 2]))).toEqual({ bytes: [1, 2] });
    expect(encodeHeaderValue(7)).toBe(7);
    expect(encodeHeaderValue(false)).toBe(false);
    expect(encodeHeaderValue(undefined)).toBeNull();
  });
});
