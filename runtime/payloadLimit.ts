/**
 * How big a RabbitMQ message may be so that Lambda can deliver it.
 *
 * AWS's rules (checked in the AWS docs):
 * - "Lambda quotas", Invocation payload (request and response): 6 MB each for synchronous invocations; an Invoke over
 *   it fails with "Request must be smaller than 6291456 bytes for the InvokeFunction operation", so 6 MB here means
 *   6,291,456 bytes. The MQ trigger invokes synchronously ("Using Lambda with Amazon MQ").
 * - "How Lambda processes records from stream and queue-based event sources", Batching behavior: Lambda invokes the
 *   function when the batching window ends, the batch size is met, or "the payload size reaches 6 MB"; and the
 *   CreateEventSourceMapping API reference, BatchSize: "Lambda passes all of the records in the batch to the function
 *   in a single call, up to the payload limit for synchronous invocation (6 MB)". So a batch is cut at 6 MB.
 * - "Troubleshoot Amazon MQ event source mapping errors": "Records also go unprocessed if Lambda drops them due to
 *   their size. The size limit for Lambda records is 6 MB." Nothing is retried or dead-lettered: the message is lost.
 *
 * The `aws:rmq` event carries each body base64-encoded (4 bytes per 3, rounded up) inside JSON with the message's
 * properties, so a body's share of the 6 MB is 4/3 of its size plus a few hundred bytes. The local runner measures the
 * event exactly (local/broker/payloadBudget.ts); publishers, which cannot know the event's envelope, use
 * `LAMBDA_MAX_BODY_BYTES`, which leaves `EVENT_OVERHEAD_ALLOWANCE_BYTES` for the envelope and the properties.
 */
import { PayloadTooLargeError } from './errors.js';

/** Lambda's synchronous invocation payload limit: 6 MB = 6,291,456 bytes ("Lambda quotas"). */
export const LAMBDA_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;

/** Room left for the event's envelope (source, ARN, queue name) and one message's properties and headers. */
export const EVENT_OVERHEAD_ALLOWANCE_BYTES = 4 * 1024;

/** Bytes of `data` (base64, no line breaks) for a body of `bytes` bytes. */
export function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

/**
 * The largest body that always fits an `aws:rmq` event alone: its base64 plus 4 KiB of envelope and properties within
 * 6,291,456 bytes. 4,715,520 bytes (about 4.5 MiB). Also the broker's `max_message_size` on AWS (lib/WarrenBroker.ts).
 */
export const LAMBDA_MAX_BODY_BYTES = Math.floor((LAMBDA_PAYLOAD_LIMIT_BYTES - EVENT_OVERHEAD_ALLOWANCE_BYTES) / 4) * 3;

/**
 * Throws `PayloadTooLargeError` when `body` is over `LAMBDA_MAX_BODY_BYTES`. Call it in a publisher before
 * `channel.publish()`: a bigger message is accepted by RabbitMQ locally but dropped by Lambda on AWS.
 *
 * ```ts
 * const body = Buffer.from(JSON.stringify(order));
 * checkLambdaBodySize(body, `order ${order.orderId}`);
 * channel.publish('orders', order.orderId, body, { messageId: order.orderId, persistent: true });
 * ```
 */
export function checkLambdaBodySize(body: Buffer, what = 'The message body'): void {
  if (body.length > LAMBDA_MAX_BODY_BYTES) throw new PayloadTooLargeError(what, body.length, LAMBDA_MAX_BODY_BYTES);
}
