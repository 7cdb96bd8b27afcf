/**
 * Types of the Lambda event that an Amazon MQ for RabbitMQ trigger sends (`eventSource: "aws:rmq"`), quirks included:
 * string headers arrive as `{ bytes: number[] }`, numbers stay numbers, `timestamp` is a formatted date string such as
 * "Jan 1, 1970, 12:33:41 AM", and absent properties are `null`. The local runner produces exactly this shape.
 */

/** A header value as the trigger serialises it. */
export type RmqHeaderValue =
  | { readonly bytes: readonly number[] }
  | number
  | boolean
  | null
  | readonly RmqHeaderValue[]
  | { readonly [key: string]: RmqHeaderValue };

export interface RmqBasicProperties {
  readonly contentType: string | null;
  readonly contentEncoding: string | null;
  readonly headers: Readonly<Record<string, RmqHeaderValue>> | null;
  readonly deliveryMode: number | null;
  readonly priority: number | null;
  readonly correlationId: string | null;
  readonly replyTo: string | null;
  readonly expiration: string | null;
  readonly messageId: string | null;
  /** Formatted like "Jan 1, 1970, 12:33:41 AM" (UTC), or null. */
  readonly timestamp: string | null;
  readonly type: string | null;
  readonly userId: string | null;
  readonly appId: string | null;
  readonly clusterId: string | null;
  readonly bodySize: number;
}

export interface RmqMessage {
  readonly basicProperties: RmqBasicProperties;
  readonly redelivered: boolean;
  /** The body, base64. */
  readonly data: string;
}

export interface RmqEvent {
  readonly eventSource: 'aws:rmq';
  readonly eventSourceArn: string;
  /** Keyed `"<queue>::<vhost>"`. */
  readonly rmqMessagesByQueue: Readonly<Record<string, readonly RmqMessage[]>>;
}

/** The part of the Lambda context Warren uses; the real `Context` from Lambda satisfies it. */
export interface InvocationContext {
  callbackWaitsForEmptyEventLoop: boolean;
  readonly awsRequestId?: string;
  getRemainingTimeInMillis?(): number;
}
