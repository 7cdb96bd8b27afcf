/** What a request resolves with: the reply's body and AMQP properties, and the round trip it took. */

import { REPLY_ERROR_HEADER } from '../runtime/outbox/replies.js';

/** The header an error reply carries, holding the reason: the one the handler side sets (runtime/outbox/replies.ts). */
export const WARREN_ERROR_HEADER = REPLY_ERROR_HEADER;

/** The reply's AMQP properties that a caller reads (the rest of what the broker sent is under `headers`, or dropped). */
export interface ReceivedReplyProperties {
  readonly correlationId?: string;
  readonly messageId?: string;
  readonly contentType?: string;
  readonly contentEncoding?: string;
  readonly type?: string;
  readonly appId?: string;
  /** Seconds since the epoch, when the replier set it. */
  readonly timestamp?: number;
  readonly headers: Readonly<Record<string, unknown>>;
}

export class Reply {
  /** The reply's body as received. */
  public readonly body: Buffer;
  /** The reply's AMQP properties (`correlationId`, `contentType`, `headers`, ...). */
  public readonly properties: ReceivedReplyProperties;
  /** From publishing the request to receiving this reply, in ms. */
  public readonly roundTripMs: number;

  public constructor(body: Buffer, properties: ReceivedReplyProperties, roundTripMs: number) {
    this.body = body;
    this.properties = properties;
    this.roundTripMs = roundTripMs;
  }

  /** The body as UTF-8 text. */
  public text(): string {
    return this.body.toString('utf8');
  }

  /** The body parsed as JSON (throws `SyntaxError` when it is not JSON). `T` is not checked: validate what you rely on. */
  public json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }

  /** The `warren-error` header (the reason of an error reply), or undefined for an ordinary reply. */
  public get error(): string | undefined {
    return headerText(this.properties.headers[WARREN_ERROR_HEADER]);
  }
}

/** A header value as text: AMQP long strings may arrive as strings or as bytes depending on the client library. */
export function headerText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return String(value);
}
