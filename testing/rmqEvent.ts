/**
 * Test messages as the `aws:rmq` event Lambda's Amazon MQ trigger sends (and the local runner builds with
 * local/broker/toRmqEvent.ts): base64 data, string headers as `{ bytes }`, absent properties null, the timestamp as
 * formatted text. test/unit/testingKit.test.ts checks that both build the same event for the same message.
 */
import type { RmqBasicProperties, RmqEvent, RmqHeaderValue, RmqMessage } from '../runtime/event.js';
import { TestKitError } from './errors.js';
import type { DeliveredMessage, TestHeaderValue, TestMessage } from './records.js';

export const TEST_BROKER_ARN = 'arn:aws:mq:local:000000000000:broker:warren-testing:b-00000000-0000-0000-0000-000000000000';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Jan 1, 1970, 12:33:41 AM" (UTC), as the trigger formats an AMQP timestamp. */
function formatTimestamp(date: Date): string {
  const d = new Date(Math.floor(date.getTime() / 1000) * 1000);
  const h = d.getUTCHours();
  const two = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}, ${h % 12 === 0 ? 12 : h % 12}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}

function encodeHeader(value: TestHeaderValue): RmqHeaderValue {
  if (typeof value === 'string') return { bytes: [...Buffer.from(value, 'utf8')] };
  if (Array.isArray(value)) return value.map((v: TestHeaderValue) => encodeHeader(v));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, RmqHeaderValue> = {};
    for (const [k, v] of Object.entries(value as Record<string, TestHeaderValue>)) out[k] = encodeHeader(v);
    return out;
  }
  return value as number | boolean | null;
}

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

function toRmqMessage(m: DeliveredMessage): RmqMessage {
  const { data, json } = bodyBytes(m.body);
  const p = m.properties ?? {};
  const headers = m.headers === undefined ? null : (encodeHeader(m.headers) as Record<string, RmqHeaderValue>);
  const basicProperties: RmqBasicProperties = {
    contentType: p.contentType ?? (json ? 'application/json' : null),
    contentEncoding: p.contentEncoding ?? null,
    headers,
    deliveryMode: p.deliveryMode ?? 2,
    priority: p.priority ?? null,
    correlationId: p.correlationId ?? null,
    replyTo: p.replyTo ?? null,
    expiration: p.expiration ?? null,
    messageId: m.messageId,
    timestamp: p.timestamp === undefined ? null : formatTimestamp(p.timestamp),
    type: p.type ?? null,
    userId: p.userId ?? null,
    appId: p.appId ?? null,
    clusterId: null,
    bodySize: data.length,
  };
  return { basicProperties, redelivered: m.redelivered, data: data.toString('base64') };
}

/** One batch from one queue, as the trigger's event. */
export function testRmqEvent(queue: string, vhost: string, messages: readonly DeliveredMessage[]): RmqEvent {
  return { eventSource: 'aws:rmq', eventSourceArn: TEST_BROKER_ARN, rmqMessagesByQueue: { [`${queue}::${vhost}`]: messages.map(toRmqMessage) } };
}
