/**
 * Builds the `aws:rmq` event the Lambda trigger would send for a batch of amqplib deliveries, quirks included: the
 * local runner's consumers (local/broker/) and the handler test kit (testing/) both build their events here.
 */
import type { Message } from 'amqplib';
import type { RmqBasicProperties, RmqEvent, RmqHeaderValue, RmqMessage } from './event.js';

export const LOCAL_BROKER_ARN = 'arn:aws:mq:local:000000000000:broker:warren-local:b-00000000-0000-0000-0000-000000000000';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Formats an AMQP timestamp (seconds) like the trigger does: "Jan 1, 1970, 12:33:41 AM" (UTC). */
export function formatTimestamp(seconds: number): string {
  // Messages published within one second share their timestamp: the runner formats it twice per delivery (its size
  // for the payload budget, then the event), so the last one is kept.
  if (seconds === lastTimestamp.seconds) return lastTimestamp.text;
  const d = new Date(seconds * 1000);
  const h = d.getUTCHours();
  const text = `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}, ${h % 12 === 0 ? 12 : h % 12}:${twoDigits(d.getUTCMinutes())}:${twoDigits(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
  lastTimestamp = { seconds, text };
  return text;
}

let lastTimestamp: { readonly seconds: number; readonly text: string } = { seconds: Number.NaN, text: '' };

function twoDigits(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Encodes a header value as the trigger does: strings (and byte arrays) become `{ bytes: [...] }`. */
export function encodeHeaderValue(value: unknown): RmqHeaderValue {
  if (typeof value === 'string') return { bytes: [...Buffer.from(value, 'utf8')] };
  if (Buffer.isBuffer(value)) return { bytes: [...value] };
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return Math.floor(value.getTime() / 1000);
  if (Array.isArray(value)) return value.map(encodeHeaderValue);
  if (typeof value === 'object' && value !== undefined) {
    const out: Record<string, RmqHeaderValue> = {};
    for (const [k, v] of Object.entries(value)) out[k] = encodeHeaderValue(v);
    return out;
  }
  return null;
}

function orNull<T>(value: T | undefined): T | null {
  return value === undefined ? null : value;
}

/** The `basicProperties` of a message as the trigger sends them (`bodySize`: the body's length in bytes). */
export function toRmqBasicProperties(p: Message['properties'], bodySize: number): RmqBasicProperties {
  const headers = p.headers === undefined || p.headers === null ? null : (encodeHeaderValue(p.headers) as Record<string, RmqHeaderValue>);
  const timestamp: unknown = p.timestamp;
  const basicProperties: RmqBasicProperties = {
    contentType: orNull(p.contentType as string | undefined),
    contentEncoding: orNull(p.contentEncoding as string | undefined),
    headers,
    deliveryMode: orNull(p.deliveryMode as number | undefined),
    priority: orNull(p.priority as number | undefined),
    correlationId: orNull(p.correlationId as string | undefined),
    replyTo: orNull(p.replyTo as string | undefined),
    expiration: p.expiration === undefined ? null : String(p.expiration),
    messageId: orNull(p.messageId as string | undefined),
    timestamp: typeof timestamp === 'number' ? formatTimestamp(timestamp) : null,
    type: orNull(p.type as string | undefined),
    userId: orNull(p.userId as string | undefined),
    appId: orNull(p.appId as string | undefined),
    clusterId: orNull(p.clusterId as string | undefined),
    bodySize,
  };
  return basicProperties;
}

export function toRmqMessage(message: Pick<Message, 'content' | 'fields' | 'properties'>): RmqMessage {
  const basicProperties = toRmqBasicProperties(message.properties, message.content.length);
  return { basicProperties, redelivered: message.fields.redelivered, data: message.content.toString('base64') };
}

/** One batch from one queue, as the trigger's event (from the broker `eventSourceArn` names). */
export function toRmqEvent(queue: string, vhost: string, messages: readonly Pick<Message, 'content' | 'fields' | 'properties'>[], eventSourceArn = LOCAL_BROKER_ARN): RmqEvent {
  return {
    eventSource: 'aws:rmq',
    eventSourceArn,
    rmqMessagesByQueue: { [`${queue}::${vhost}`]: messages.map(toRmqMessage) },
  };
}
