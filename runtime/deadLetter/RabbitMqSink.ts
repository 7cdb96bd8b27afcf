/**
 * Dead letters to a RabbitMQ queue (`<queue>.dlq` by default locally): the original body and properties, the reason in
 * `x-warren-*` headers, through an `AmqpPublisher` (one lazily opened connection, reopened after it closes; confirms).
 */
import type amqp from 'amqplib';
import { AmqpPublisher } from '../outbox/Publisher.js';
import { decodeHeaderValue } from '../decode.js';
import { redactUrl } from '../logger.js';
import { DEAD_LETTER_QUEUE_OPTIONS } from '../amqp/queueArguments.js';
import { DEAD_LETTER_HEADERS as H, keptProperties, type DeadLetter, type DeadLetterSink } from './types.js';

export class RabbitMqSink implements DeadLetterSink {
  private readonly publisher: AmqpPublisher;

  public constructor(private readonly url: string, private readonly queue: string) {
    // The same declaration as the topology's (see queueArguments.ts): any other arguments make RabbitMQ refuse it.
    this.publisher = new AmqpPublisher(async () => url, 5_000, (channel) => channel.assertQueue(queue, DEAD_LETTER_QUEUE_OPTIONS));
  }

  public get destination(): string { return `rabbitmq queue ${this.queue} at ${redactUrl(this.url)}`; }

  public async send(letter: DeadLetter): Promise<void> {
    const p = letter.properties;
    const original: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(p.headers ?? {})) original[k] = decodeHeaderValue(v);
    const headers = {
      ...original,
      [H.handler]: letter.handler,
      [H.errorClass]: letter.error.name,
      [H.errorMessage]: letter.error.message.slice(0, 1_000),
      [H.errorKind]: letter.error.kind,
      [H.sourceQueue]: letter.sourceQueue,
      [H.sourceVhost]: letter.vhost,
      [H.deliveries]: letter.deliveries,
      [H.deadLetteredAt]: letter.deadLetteredAt,
      ...(letter.messageKey === null ? {} : { [H.messageKey]: letter.messageKey }),
    };
    const properties: amqp.Options.Publish = { persistent: true, headers, ...keptProperties(p) };
    // The default exchange routes by queue name.
    await this.publisher.publish([{ exchange: '', routingKey: this.queue, body: letter.data, properties }]);
  }

  public async close(): Promise<void> {
    await this.publisher.close();
  }
}
