import { DecodeError } from './errors.js';
import type { RmqBasicProperties, RmqEvent, RmqHeaderValue, RmqMessage } from './event.js';

/** A header value after decoding: `{ bytes }` objects become strings. */
export type HeaderValue = string | number | boolean | null | readonly HeaderValue[] | { readonly [key: string]: HeaderValue };

/** One message of an `aws:rmq` event, decoded. */
export interface WarrenMessage<TBody = unknown> {
  readonly queue: string;
  readonly vhost: string;
  /** Position of the message in its invocation's batch, from 0. */
  readonly index: number;
  /** The body's bytes. */
  readonly data: Buffer;
  /** The body parsed as JSON (parsed on first read); throws `DecodeError` when it is not JSON. */
  readonly body: TBody;
  /** The body as UTF-8 text. */
  text(): string;
  /** Headers with `{ bytes }` values decoded to strings. */
  readonly headers: Readonly<Record<string, HeaderValue>>;
  readonly properties: RmqBasicProperties;
  readonly messageId: string | null;
  readonly correlationId: string | null;
  readonly redelivered: boolean;
  /** The message exactly as the event carried it. */
  readonly raw: RmqMessage;
}

function isBytes(value: unknown): value is { bytes: number[] } {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) &&
    Object.keys(value).length === 1 && Array.isArray((value as { bytes?: unknown }).bytes)
  );
}

/** Decodes one header value: `{ bytes: [...] }` becomes a UTF-8 string; containers are decoded recursively. */
export function decodeHeaderValue(value: RmqHeaderValue): HeaderValue {
  if (isBytes(value)) return Buffer.from(value.bytes).toString('utf8');
  if (Array.isArray(value)) return value.map((v: RmqHeaderValue) => decodeHeaderValue(v));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, HeaderValue> = {};
    for (const [k, v] of Object.entries(value as Record<string, RmqHeaderValue>)) out[k] = decodeHeaderValue(v);
    return out;
  }
  return value as HeaderValue;
}

/** Splits a `"<queue>::<vhost>"` key; the vhost may itself contain "::". */
export function splitQueueKey(key: string): { queue: string; vhost: string } {
  const at = key.indexOf('::');
  if (at <= 0) throw new DecodeError(`rmqMessagesByQueue key ${JSON.stringify(key)}`, 'expected "<queue>::<vhost>"');
  return { queue: key.slice(0, at), vhost: key.slice(at + 2) };
}

class DecodedMessage implements WarrenMessage {
  public readonly data: Buffer;
  public readonly headers: Readonly<Record<string, HeaderValue>>;
  private parsed: { value: unknown } | undefined;

  public constructor(
    public readonly queue: string,
    public readonly vhost: string,
    public readonly index: number,
    public readonly raw: RmqMessage,
  ) {
    if (typeof raw.data !== 'string') throw new DecodeError(`message ${index} of ${queue}`, 'field "data" must be a base64 string');
    this.data = Buffer.from(raw.data, 'base64');
    const headers: Record<string, HeaderValue> = {};
    for (const [k, v] of Object.entries(raw.basicProperties?.headers ?? {})) headers[k] = decodeHeaderValue(v);
    this.headers = headers;
  }

  public get properties(): RmqBasicProperties { return this.raw.basicProperties; }
  public get messageId(): string | null { return this.raw.basicProperties?.messageId ?? null; }
  public get correlationId(): string | null { return this.raw.basicProperties?.correlationId ?? null; }
  public get redelivered(): boolean { return this.raw.redelivered === true; }
  public text(): string { return this.data.toString('utf8'); }

  public setParsed(value: unknown): void { this.parsed = { value }; }

  public get body(): unknown {
    if (this.parsed === undefined) {
      try {
        this.parsed = { value: JSON.parse(this.text()) as unknown };
      } catch (error) {
        throw new DecodeError(`the body of message ${this.messageId ?? `#${this.index}`} on ${this.queue}`, `it is not JSON (${(error as Error).message})`, { cause: error });
      }
    }
    return this.parsed.value;
  }
}

/** Replaces a decoded message's body with an already parsed (validated) value. */
export function setBody(message: WarrenMessage, value: unknown): void {
  if (message instanceof DecodedMessage) message.setParsed(value);
}

/** Decodes every message of an `aws:rmq` event, in order, queue by queue. */
export function decodeEvent(event: RmqEvent): WarrenMessage[] {
  if (event?.eventSource !== 'aws:rmq' || typeof event.rmqMessagesByQueue !== 'object' || event.rmqMessagesByQueue === null) {
    throw new DecodeError('the event', 'expected an Amazon MQ for RabbitMQ event with eventSource "aws:rmq" and rmqMessagesByQueue');
  }
  const out: WarrenMessage[] = [];
  for (const [key, messages] of Object.entries(event.rmqMessagesByQueue)) {
    const { queue, vhost } = splitQueueKey(key);
    for (const raw of messages) out.push(new DecodedMessage(queue, vhost, out.length, raw));
  }
  return out;
}
