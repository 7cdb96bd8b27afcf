/**
 * Dead letters to a RabbitMQ queue (`<queue>.dlq` by default locally): the original body and properties, the reason in
 * `x-warren-*` headers. One lazily opened connection per process, reopened after it closes; publisher confirms.
 */
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { decodeHeaderValue } from '../decode.js';
import { redactUrl } from '../logger.js';
import { DEAD_LETTER_HEADERS as H, type DeadLetter, type DeadLetterSink } from './types.js';

export class RabbitMqSink implements DeadLetterSink {
  private connection: ChannelModel | undefined;
  private channel: Promise<ConfirmChannel> | undefined;

  public constructor(private readonly url: string, private readonly queue: string) {}

  public get destination(): string { return `rabbitmq queue ${this.queue} at ${redactUrl(this.url)}`; }

  public async send(letter: DeadLetter): Promise<void> {
    const channel = await this.open();
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
    await new Promise<void>((resolve, reject) => {
      channel.sendToQueue(this.queue, letter.data, {
        persistent: true,
        headers,
        ...(p.messageId === null ? {} : { messageId: p.messageId }),
        ...(p.correlationId === null ? {} : { correlationId: p.correlationId }),
        ...(p.contentType === null ? {} : { contentType: p.contentType }),
        ...(p.contentEncoding === null ? {} : { contentEncoding: p.contentEncoding }),
        ...(p.type === null ? {} : { type: p.type }),
        ...(p.appId === null ? {} : { appId: p.appId }),
      }, (error: unknown) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve()));
    });
  }

  public async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    this.channel = undefined;
    await connection?.close().catch(() => undefined);
  }

  private open(): Promise<ConfirmChannel> {
    this.channel ??= (async () => {
      const connection = await amqp.connect(this.url);
      connection.on('error', () => undefined);
      connection.once('close', () => { if (this.connection === connection) { this.connection = undefined; this.channel = undefined; } });
      this.connection = connection;
      const channel = await connection.createConfirmChannel();
      channel.on('error', () => undefined);
      channel.once('close', () => { this.channel = undefined; });
      await channel.assertQueue(this.queue, { durable: true });
      return channel;
    })().catch((error: unknown) => { this.channel = undefined; throw error; });
    return this.channel;
  }
}
