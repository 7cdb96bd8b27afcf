/**
 * A message Lambda would drop (its `aws:rmq` event alone is over the 6 MB invocation payload; runtime/payloadLimit.ts
 * cites the AWS docs): on AWS it is lost without a trace, so the runner never runs it but writes it to the handler's
 * dead-letter sink (`<queue>.dlq` by default) with a reason that says so, with its size and the limit. `npm run dlq`
 * lists it like any other letter.
 */
import type { Channel, Message } from 'amqplib';
import { errorReason, errorReplyMessage } from '../../runtime/outbox/replies.js';
import { DeadLetterError } from '../../runtime/errors.js';
import type { DeadLetterSink } from '../../runtime/deadLetter/types.js';
import { RabbitMqSink } from '../../runtime/deadLetter/RabbitMqSink.js';
import type { ResolvedHandlerConfig } from '../../config/config.js';
import { deadLetterQueueName } from '../../topology/topology.js';
import type { Logger } from '../../runtime/logger.js';
import type { PayloadBudget } from './payloadBudget.js';
import { toRmqBasicProperties } from '../../runtime/toRmqEvent.js';

export interface OversizeSource {
  readonly handler: string;
  /** The shard queue it came from (`dlq replay` sends it back there). */
  readonly queue: string;
  readonly vhost: string;
}

/** The reason written on the letter (`x-warren-error-message`). */
export function oversizeReason(eventBytes: number, bodyBytes: number, limit: number): string {
  const n = (v: number) => v.toLocaleString('en-US');
  return `Lambda would drop this message: its aws:rmq event alone is ${n(eventBytes)} bytes (a ${n(bodyBytes)}-byte body, ` +
    `base64-encoded, with its properties), over Lambda's invocation payload limit of ${n(limit)} bytes (6 MB). On AWS the ` +
    'trigger drops it without a trace (Lambda docs, "Troubleshoot Amazon MQ event source mapping errors"). Publish a ' +
    'reference (an S3 key, a row id) instead of the data, or split it';
}

/**
 * Resolves with the reason once the sink confirmed the letter; rejects (`DeadLetterError`) when there is no sink or it
 * failed. The caller answers a request with an error reply (`oversizeErrorReply`).
 */
export async function setAsideOversize(sink: DeadLetterSink | undefined, source: OversizeSource, msg: Pick<Message, 'content' | 'fields' | 'properties'>, budget: PayloadBudget, log: Logger): Promise<string> {
  const eventBytes = budget.aloneBytes(msg);
  const reason = oversizeReason(eventBytes, msg.content.length, budget.limit);
  const messageId = typeof msg.properties.messageId === 'string' ? msg.properties.messageId : null;
  if (sink === undefined) {
    throw new DeadLetterError(`No dead-letter queue is configured for handler "${source.handler}", so a message Lambda would drop (message id ${messageId ?? 'none'}, ${eventBytes} bytes as an event) cannot be set aside; it stays in ${source.queue}`);
  }
  try {
    await sink.send({
      handler: source.handler,
      sourceQueue: source.queue,
      vhost: source.vhost,
      messageKey: null,
      data: msg.content,
      properties: toRmqBasicProperties(msg.properties, msg.content.length),
      error: { name: 'PayloadTooLargeError', message: reason, kind: 'permanent' },
      deliveries: 1,
      deadLetteredAt: new Date().toISOString(),
    });
  } catch (error) {
    throw new DeadLetterError(`Could not write a message Lambda would drop to the dead-letter queue (${sink.destination}): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  log.error('message dead-lettered: Lambda would drop it', { messageId, eventBytes, bodyBytes: msg.content.length, limit: budget.limit, to: sink.destination });
  return reason;
}

/**
 * Answers a request that was set aside with an error reply, published on the shard's own channel (the letter is
 * written already; at most once, like any publish without confirms). Only through the default exchange: a publish to
 * an exchange that does not exist would close the consumer's channel, so an `/exchanges/` reply address gets no error
 * reply here (logged). A malformed address is logged too.
 */
export function oversizeErrorReply(channel: Pick<Channel, 'publish'>, msg: Pick<Message, 'properties'>, reason: string, log: Logger): void {
  const p = msg.properties as { replyTo?: unknown; messageId?: unknown; correlationId?: unknown };
  const source = {
    messageId: typeof p.messageId === 'string' ? p.messageId : null,
    correlationId: typeof p.correlationId === 'string' ? p.correlationId : null,
    properties: { replyTo: typeof p.replyTo === 'string' ? p.replyTo : null },
  };
  try {
    const reply = errorReplyMessage(source, errorReason(reason));
    if (reply === undefined) return;
    if (reply.exchange !== '') {
      log.warn('no error reply for a message set aside: its reply_to names an exchange, and the runner answers only through the default exchange; the caller\'s timeout answers it', { replyTo: source.properties.replyTo });
      return;
    }
    channel.publish(reply.exchange, reply.routingKey, reply.body, { ...reply.properties, persistent: false });
  } catch (error) {
    log.warn('no error reply for a message set aside', { replyTo: source.properties.replyTo, error: error instanceof Error ? error.message : String(error) });
  }
}

/**
 * One sink per handler, opened on first use (most runs never need one): always the handler's RabbitMQ `<queue>.dlq`,
 * also with `runner.deadLetter: 'sqs'`, because SQS takes at most 1 MiB per message (its `MaximumMessageSize`) and these
 * letters are bigger than 4.5 MB.
 */
export class OversizeSinks {
  private readonly sinks = new Map<string, DeadLetterSink>();

  /** `url`: the broker URL of the handler's vhost. */
  public get(handler: ResolvedHandlerConfig, url: string): DeadLetterSink {
    let sink = this.sinks.get(handler.name);
    if (sink === undefined) {
      sink = new RabbitMqSink(url, deadLetterQueueName(handler.queue));
      this.sinks.set(handler.name, sink);
    }
    return sink;
  }

  public async close(): Promise<void> {
    const all = [...this.sinks.values()];
    this.sinks.clear();
    await Promise.all(all.map((s) => s.close().catch(() => undefined)));
  }
}
