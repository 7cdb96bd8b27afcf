/** What goes into a run (`TestMessage`) and what comes out of it (`TestRun`): the test kit's data types. */
import type { Options } from 'amqplib';
import type { ErrorKind } from '../runtime/classify.js';
import type { DeadLetter } from '../runtime/deadLetter/types.js';
import type { BatchSummary } from '../runtime/handlerOptions.js';

/** A header value as a publisher sets it (strings reach the handler as strings, as through the real trigger). */
export type TestHeaderValue = string | number | boolean | null | readonly TestHeaderValue[] | { readonly [key: string]: TestHeaderValue };

/** AMQP properties of a test message (absent ones are null in the event, as the trigger sends them). */
export interface TestMessageProperties {
  /** @default 'application/json' when the body is JSON-encoded, else none */
  readonly contentType?: string;
  readonly contentEncoding?: string;
  readonly correlationId?: string;
  /** Makes the message a request: `ctx.reply()` answers it (recorded in `TestRun.replies`). */
  readonly replyTo?: string;
  readonly expiration?: string;
  readonly priority?: number;
  readonly type?: string;
  readonly userId?: string;
  readonly appId?: string;
  /** Sent as the trigger formats it ("Jan 1, 1970, 12:33:41 AM", UTC, whole seconds). */
  readonly timestamp?: Date;
  /** @default 2 (persistent) */
  readonly deliveryMode?: number;
}

/** One message for `kit.run()`. */
export interface TestMessage {
  /** A Buffer or a string is sent as its bytes (so `'not json'` is a body that is not JSON); anything else as JSON. */
  readonly body: unknown;
  /**
   * The AMQP message_id, the inbox key by default; `null` sends none (an unkeyed message, see `onMissingKey`).
   * @default generated: 'msg-1', 'msg-2', ... in the kit's order (unique in its database)
   */
  readonly messageId?: string | null;
  readonly properties?: TestMessageProperties;
  /** @default none */
  readonly headers?: Readonly<Record<string, TestHeaderValue>>;
  /** Whether the broker marks it as delivered before (a redelivery). @default false */
  readonly redelivered?: boolean;
}

/** A message as `kit.run()` delivered it: its message id settled (run it again to redeliver it). */
export interface DeliveredMessage extends TestMessage {
  readonly messageId: string | null;
  readonly redelivered: boolean;
}

/** A message the handler published (`ctx.publish`) or a reply (`ctx.reply`), as it would have reached the broker. */
export interface RecordedMessage {
  readonly exchange: string;
  readonly routingKey: string;
  /** The body parsed as JSON, or its UTF-8 text when it is not JSON. */
  readonly body: unknown;
  /** The body's bytes. */
  readonly data: Buffer;
  /** `<source's key>/<n>` for the n-th publish of a message, `<key>/reply` (or `<key>/error-reply`) for its reply. */
  readonly messageId: string;
  readonly correlationId: string | null;
  readonly headers: Readonly<Record<string, unknown>>;
  /** Every AMQP property Warren set (persistent, `appId` 'warren:<handler>', contentType, timestamp, ...). */
  readonly properties: Readonly<Options.Publish>;
}

/** A reply: a recorded message that goes to the request's `reply_to`. */
export interface RecordedReply extends RecordedMessage {
  /** The reason of Warren's error reply (header `warren-error`) to a request it dead-lettered; null for `ctx.reply`. */
  readonly error: string | null;
}

/** A message set aside, with why. */
export interface RecordedDeadLetter {
  readonly messageId: string | null;
  /** The body parsed as JSON, or its UTF-8 text when it is not JSON (a body that is not JSON is a reason itself). */
  readonly body: unknown;
  /** The error's message, e.g. the failing field of a schema. */
  readonly reason: string;
  /** The error's class, e.g. 'SchemaValidationError', 'DecodeError', 'PermanentError'. */
  readonly errorName: string;
  readonly kind: ErrorKind;
  /** Deliveries that failed, this one included. */
  readonly deliveries: number;
  /** The letter as the dead-letter queue would have received it. */
  readonly letter: DeadLetter;
}

/** What a run recorded, also when its invocation failed (`TestRunError.run`). */
export interface TestRunRecord {
  /** The messages as delivered, in order. */
  readonly messages: readonly DeliveredMessage[];
  /** `ctx.publish` messages, published after their transaction committed (never for one that rolled back). */
  readonly published: readonly RecordedMessage[];
  /** `ctx.reply` answers and Warren's error replies, sent after their transaction committed. */
  readonly replies: readonly RecordedReply[];
  readonly deadLettered: readonly RecordedDeadLetter[];
}

/** What `kit.run()` returns: the invocation's summary and what it recorded. */
export interface TestRun extends TestRunRecord {
  /** What the handler function returned (`committed`, `deduplicated`, `deadLettered`, `retries`, `published`, ...). */
  readonly summary: BatchSummary;
}
