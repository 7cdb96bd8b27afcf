/**
 * Test messages as the `aws:rmq` event Lambda's Amazon MQ trigger sends, built by the code the local runner uses
 * (runtime/toRmqEvent.ts): base64 data, string headers as `{ bytes }`, absent properties null, the timestamp as
 * formatted text. test/unit/testingKit.test.ts checks that both give the same event for the same message.
 */
import type { Message } from 'amqplib';
import type { RmqEvent } from '../runtime/event.js';
import { toRmqEvent } from '../runtime/toRmqEvent.js';
import { TestKitError } from './errors.js';
import type { DeliveredMessage, TestMessage } from './records.js';

export const TEST_BROKER_ARN = 'arn:aws:mq:local:000000000000:broker:warren-testing:b-00000000-0000-0000-0000-000000000000';

/** The body's bytes and whether they are JSON the kit encoded. */
function bodyBytes(body: unknown): { data: Buffer; json: boolean } {
  if (Buffer.isBuffer(body)) return { data: body, json: false };
  if (typeof body === 'string') return { data: Buffer.from(body, 'utf8'), json: false };
  return { data: Buffer.from(JSON.stringify(body), 'utf8'), json: true };
}

/** Checks the messages and settles their ids (`nextId` gives a generated one) and redelivered flags. */
export function deliveredMessages(messages: unknown, nextId: () => string): DeliveredMessage[] {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new TestKitError('kit.run(handler, messages): expected a non-empty array of messages such as [{ body: { orderId: \'o1\' } }]');
  }
  return messages.map((m: unknown, i) => {
    if (typeof m !== 'object' || m === null || !('body' in m) || (m as TestMessage).body === undefined) {
      throw new TestKitError(`kit.run(handler, messages): messages[${i}] has no body; give each message one, e.g. { body: { orderId: 'o1' } } (a string or Buffer is sent as is, anything else as JSON)`);
    }
    const message = m as TestMessage;
    return { ...message, messageId: message.messageId === undefined ? nextId() : message.messageId, redelivered: message.redelivered ?? false };
  });
}

/** A delivered test message as the amqplib delivery the runner's consumers hand to `toRmqEvent`. */
function toDelivery(m: DeliveredMessage): Pick<Message, 'content' | 'fields' | 'properties'> {
  const { data, json } = bodyBytes(m.body);
  const p = m.properties ?? {};
  const contentType = p.contentType ?? (json ? 'application/json' : undefined);
  const properties = {
    ...p,
    ...(contentType === undefined ? {} : { contentType }),
    deliveryMode: p.deliveryMode ?? 2,
    headers: m.headers,
    messageId: m.messageId,
    timestamp: p.timestamp === undefined ? undefined : Math.floor(p.timestamp.getTime() / 1000),
  };
  return { content: data, fields: { redelivered: m.redelivered } as Message['fields'], properties: properties as Message['properties'] };
}

/** One batch from one queue, as the trigger's event (built as the runner builds it: runtime/toRmqEvent.ts). */
export function testRmqEvent(queue: string, vhost: string, messages: readonly DeliveredMessage[]): RmqEvent {
  return toRmqEvent(queue, vhost, messages.map(toDelivery), TEST_BROKER_ARN);
}
