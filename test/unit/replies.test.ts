import { describe, expect, it } from 'vitest';
import { ReplyNotAllowedError } from '../../runtime/errors.js';
import { errorReason, errorReplyMessage, isDirectReplyTo, replyAddress, replyCorrelationId, replyRoute } from '../../runtime/outbox/replies.js';

describe('Function: replyRoute() and replyAddress()', () => {
  it('sends a reply to a queue name through the default exchange, and to an /exchanges/ address through that exchange', () => {
    expect(replyRoute('caller-replies')).toEqual({ exchange: '', routingKey: 'caller-replies' });
    expect(replyRoute('amq.rabbitmq.reply-to.g1h2AA1yZX==')).toEqual({ exchange: '', routingKey: 'amq.rabbitmq.reply-to.g1h2AA1yZX==' });
    expect(replyAddress('orders', 'order/42 ä')).toBe('/exchanges/orders/order%2F42%20%C3%A4');
    expect(replyRoute(replyAddress('orders', 'order/42 ä'))).toEqual({ exchange: 'orders', routingKey: 'order/42 ä' });
    expect(replyRoute('/exchanges/orders/')).toEqual({ exchange: 'orders', routingKey: '' });
  });

  it('refuses a malformed /exchanges/ address, naming the helper that builds one', () => {
    expect(() => replyRoute('/exchanges/orders')).toThrow(ReplyNotAllowedError);
    expect(() => replyRoute('/exchanges/orders')).toThrow('ctx.reply(): this message cannot be answered: its reply_to "/exchanges/orders" starts with "/exchanges/" but has no "/<routing key>" after the exchange; build it with replyAddress(exchange, routingKey)');
    expect(() => replyRoute('/exchanges/%E0%A4%A/k')).toThrow('is not percent-encoded; build it with replyAddress(exchange, routingKey)');
  });

  it('tells direct reply-to apart (published without mandatory) and takes the correlation id, else the message id', () => {
    expect(isDirectReplyTo('', 'amq.rabbitmq.reply-to.abc')).toBe(true);
    expect(isDirectReplyTo('', 'replies')).toBe(false);
    expect(isDirectReplyTo('orders', 'amq.rabbitmq.reply-to.abc')).toBe(false);
    expect(replyCorrelationId({ messageId: 'm1', correlationId: 'c1', properties: {} })).toBe('c1');
    expect(replyCorrelationId({ messageId: 'm1', correlationId: null, properties: {} })).toBe('m1');
  });

  it('builds the error reply: same correlation id, warren-error header, JSON body {"error": reason}; none without reply_to', () => {
    expect(errorReplyMessage({ messageId: 'm1', correlationId: null, properties: { replyTo: 'q' } }, 'too big')).toEqual({
      exchange: '', routingKey: 'q', body: Buffer.from('{"error":"too big"}'),
      properties: { contentType: 'application/json', headers: { 'warren-error': 'too big' }, correlationId: 'm1', messageId: 'm1/error-reply' },
    });
    expect(errorReplyMessage({ messageId: 'm1', correlationId: null, properties: { replyTo: null } }, 'x')).toBeUndefined();
    expect(errorReason(new Error('x'.repeat(1_200)))).toHaveLength(1_000);
  });
});
