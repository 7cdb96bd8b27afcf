import { describe, expect, it } from 'vitest';
import { DIRECT_REPLY_TO, REQUEST_CLIENT_DEFAULTS, Reply, WARREN_ERROR_HEADER } from '../../client/index.js';

describe('Class: RequestClient', () => {
  it('has these defaults: the local broker and a 30 s timeout', () => {
    expect(REQUEST_CLIENT_DEFAULTS).toEqual({ url: 'amqp://guest:guest@127.0.0.1:5672', timeoutMs: 30_000 });
  });

  it('asks for replies on RabbitMQ\'s direct reply-to pseudo-queue, and reads errors from the warren-error header', () => {
    expect(DIRECT_REPLY_TO).toBe('amq.rabbitmq.reply-to');
    expect(WARREN_ERROR_HEADER).toBe('warren-error');
  });
});

describe('Class: Reply', () => {
  it('reads its body as text and as JSON', () => {
    const reply = new Reply(Buffer.from('{"orderId":"o-1","total":3}'), { correlationId: 'c', headers: {} }, 1.5);
    expect(reply.text()).toBe('{"orderId":"o-1","total":3}');
    expect(reply.json<{ orderId: string; total: number }>()).toEqual({ orderId: 'o-1', total: 3 });
    expect(reply.error).toBeUndefined();
  });

  it('reads the warren-error header whether it arrives as text or as bytes', () => {
    expect(new Reply(Buffer.from('{}'), { headers: { 'warren-error': 'invalid body' } }, 1).error).toBe('invalid body');
    expect(new Reply(Buffer.from('{}'), { headers: { 'warren-error': Buffer.from('poison message') } }, 1).error).toBe('poison message');
  });
});
