/** Publishing and reading raw messages for the failure-semantics tests. */
import amqp, { type GetMessage } from 'amqplib';
import { AMQP_URL } from './services.js';

export interface RawMessage {
  readonly body: string | Buffer;
  readonly messageId?: string;
  readonly headers?: Record<string, unknown>;
  /** Routing key through the exchange; when `queue` is set the message goes straight to that queue instead. */
  readonly key?: string;
  readonly queue?: string;
}

export async function publishRaw(exchange: string, messages: readonly RawMessage[]): Promise<void> {
  const connection = await amqp.connect(AMQP_URL);
  try {
    const channel = await connection.createConfirmChannel();
    for (const m of messages) {
      const content = Buffer.isBuffer(m.body) ? m.body : Buffer.from(m.body);
      const options = { persistent: true, ...(m.messageId === undefined ? {} : { messageId: m.messageId }), headers: m.headers ?? {} };
      if (m.queue !== undefined) channel.sendToQueue(m.queue, content, options);
      else channel.publish(exchange, m.key ?? m.messageId ?? 'k', content, options);
    }
    await channel.waitForConfirms();
    await channel.close();
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Takes (and acks) every message currently in `queue`. */
export async function drainQueue(queue: string): Promise<GetMessage[]> {
  const connection = await amqp.connect(AMQP_URL);
  try {
    const channel = await connection.createChannel();
    const out: GetMessage[] = [];
    for (;;) {
      const msg = await channel.get(queue, { noAck: true });
      if (msg === false) break;
      out.push(msg);
    }
    await channel.close();
    return out;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

export function headerText(msg: GetMessage, name: string): string {
  const value: unknown = msg.properties.headers?.[name];
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

export interface Tap {
  /** Messages waiting in the tap queue. */
  count(): Promise<number>;
  /** Deletes the tap queue and the exchange (both the test's own). */
  remove(): Promise<void>;
}

/** Declares a test's own topic exchange and a queue bound to it with `#`, so what is published there can be counted. */
export async function createTap(exchange: string, queue: string): Promise<Tap> {
  const onChannel = async <T>(fn: (channel: amqp.Channel) => Promise<T>): Promise<T> => {
    const connection = await amqp.connect(AMQP_URL);
    try {
      return await fn(await connection.createChannel());
    } finally {
      await connection.close().catch(() => undefined);
    }
  };
  await onChannel(async (channel) => {
    await channel.assertExchange(exchange, 'topic', { durable: false });
    await channel.assertQueue(queue, { durable: false });
    await channel.bindQueue(queue, exchange, '#');
  });
  return {
    count: () => onChannel(async (channel) => (await channel.checkQueue(queue)).messageCount),
    remove: () => onChannel(async (channel) => {
      await channel.deleteQueue(queue);
      await channel.deleteExchange(exchange);
    }),
  };
}
