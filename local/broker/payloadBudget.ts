/**
 * Lambda's 6 MB invocation payload, applied to the runner's batches (runtime/payloadLimit.ts has the AWS sources):
 * a batch is closed before the JSON of its `aws:rmq` event would pass 6,291,456 bytes, and a message whose event alone
 * would pass it is one Lambda would drop, which the shard sets aside (dead-letters) instead of running.
 *
 * Sizes are exact for the event the runner builds (`toRmqEvent`), in UTF-8 bytes, and computed once per delivery
 * without building the base64: a message's JSON is its properties' JSON plus `base64Length(body)`, and an event is its
 * envelope plus its messages plus one comma between each two.
 */
import type { Message } from 'amqplib';
import { base64Length, LAMBDA_PAYLOAD_LIMIT_BYTES } from '../../runtime/payloadLimit.js';
import { encodeHeaderValue, formatTimestamp, LOCAL_BROKER_ARN, toRmqBasicProperties } from '../../runtime/toRmqEvent.js';

type Delivery = Pick<Message, 'content' | 'fields' | 'properties'>;

/**
 * Bytes of `{"basicProperties":{...every property null, "bodySize":0},"redelivered":true,"data":""}`: a message's JSON
 * is this plus, per property, its value's JSON bytes minus the 4 of `null` (see `messageBytes`).
 */
const SKELETON_BYTES = Buffer.byteLength(JSON.stringify({ basicProperties: toRmqBasicProperties({} as Message['properties'], 0), redelivered: true, data: '' }));
/** Properties that `toRmqBasicProperties` copies as they are (absent: null). */
const COPIED = ['contentType', 'contentEncoding', 'deliveryMode', 'priority', 'correlationId', 'replyTo', 'messageId', 'type', 'userId', 'appId', 'clusterId'] as const;
/** Printable ASCII but `"` and `\`: such a string's JSON is itself in quotes. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** UTF-8 bytes of `JSON.stringify(value)` (`null` for undefined, as inside `basicProperties`). */
function jsonBytes(value: unknown): number {
  if (value === undefined || value === null) return 4;
  if (typeof value === 'string' && PLAIN.test(value)) return value.length + 2;
  return Buffer.byteLength(JSON.stringify(value));
}

export class PayloadBudget {
  /** Bytes of the event with no message: `{"eventSource":...,"rmqMessagesByQueue":{"<queue>::<vhost>":[]}}`. */
  public readonly envelopeBytes: number;
  private readonly sizes = new WeakMap<Delivery, number>();
  /** Running total over the head of one pending array (see `closesBatch`). */
  private scan: { of: readonly Delivery[] | undefined; head: Delivery | undefined; count: number; bytes: number } = { of: undefined, head: undefined, count: 0, bytes: 0 };

  public constructor(queue: string, vhost: string, public readonly limit: number = LAMBDA_PAYLOAD_LIMIT_BYTES) {
    this.envelopeBytes = Buffer.byteLength(JSON.stringify({ eventSource: 'aws:rmq', eventSourceArn: LOCAL_BROKER_ARN, rmqMessagesByQueue: { [`${queue}::${vhost}`]: [] } }));
  }

  /** Bytes one message adds to the event's JSON (without the comma before it); measured once per delivery. */
  public messageBytes(msg: Delivery): number {
    let size = this.sizes.get(msg);
    if (size === undefined) {
      // The JSON of `toRmqMessage(msg)` without building it (this runs for every delivery): the skeleton, plus each
      // property's value as `toRmqBasicProperties` renders it, plus the base64 body, which needs no JSON escaping.
      // test/unit/payloadBudget.test.ts compares it with JSON.stringify for random properties and headers.
      const p = msg.properties;
      size = SKELETON_BYTES + String(msg.content.length).length - 1 + (msg.fields.redelivered ? 0 : 1) + base64Length(msg.content.length);
      for (const key of COPIED) size += jsonBytes(p[key]) - 4;
      if (p.expiration !== undefined) size += jsonBytes(String(p.expiration)) - 4;
      if (typeof p.timestamp === 'number') size += jsonBytes(formatTimestamp(p.timestamp)) - 4;
      const headers: unknown = p.headers;
      if (headers !== undefined && headers !== null) size += (typeof headers === 'object' && Object.keys(headers).length === 0 ? 2 : jsonBytes(encodeHeaderValue(headers))) - 4;
      this.sizes.set(msg, size);
    }
    return size;
  }

  /** Bytes of the event for exactly these messages. */
  public eventBytes(messages: readonly Delivery[]): number {
    let bytes = this.envelopeBytes;
    for (let i = 0; i < messages.length; i += 1) bytes += this.messageBytes(messages[i]!) + (i > 0 ? 1 : 0);
    return bytes;
  }

  /** Bytes of the event that would carry this message alone. */
  public aloneBytes(msg: Delivery): number {
    return this.envelopeBytes + this.messageBytes(msg);
  }

  /** True when Lambda would drop the message: even alone, its event is over the limit. */
  public isOversize(msg: Delivery): boolean {
    return this.aloneBytes(msg) > this.limit;
  }

  /**
   * How many messages from the head of `pending` make the next batch: at most `batchSize`, and no more than fit the
   * limit. 0 when the head message alone is over it (set it aside instead).
   */
  public batchLength(pending: readonly Delivery[], batchSize: number): number {
    const max = Math.min(batchSize, pending.length);
    let bytes = this.envelopeBytes;
    for (let i = 0; i < max; i += 1) {
      bytes += this.messageBytes(pending[i]!) + (i > 0 ? 1 : 0);
      if (bytes > this.limit) return i;
    }
    return max;
  }

  /**
   * True when the payload already closes the next batch: the messages pending (up to `batchSize`) do not all fit one
   * event, so waiting for the batching window cannot make the batch any bigger. Called on every delivery, so it keeps
   * a running total over `pending` while that array only grows at its tail (a splice from the head, or a new array,
   * starts the count afresh).
   */
  public closesBatch(pending: readonly Delivery[], batchSize: number): boolean {
    const s = this.scan;
    if (s.of !== pending || s.head !== pending[0] || s.count > pending.length) {
      this.scan = { of: pending, head: pending[0], count: 0, bytes: this.envelopeBytes };
    }
    const scan = this.scan;
    const max = Math.min(batchSize, pending.length);
    while (scan.count < max && scan.bytes <= this.limit) {
      scan.bytes += this.messageBytes(pending[scan.count]!) + (scan.count > 0 ? 1 : 0);
      scan.count += 1;
    }
    return scan.bytes > this.limit;
  }
}
