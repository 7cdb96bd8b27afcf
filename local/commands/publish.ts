/** Publishes JSON messages to a handler's exchange with publisher confirms, optionally at a fixed rate. */
import amqp from 'amqplib';
import { sleep } from '../../runtime/backoff.js';
import { checkLambdaBodySize } from '../../runtime/payloadLimit.js';

export interface PublishOptions {
  readonly url: string;
  readonly exchange: string;
  readonly count: number;
  /** Messages per second; 0 = as fast as confirms allow. */
  readonly rate: number;
  readonly message: (index: number) => { key: string; body: unknown; messageId?: string; raw?: Buffer };
  readonly onProgress?: (published: number) => void;
}

export async function publish(options: PublishOptions): Promise<{ published: number; ms: number }> {
  const started = performance.now();
  const connection = await amqp.connect(options.url);
  try {
    const channel = await connection.createConfirmChannel();
    const window = 500;
    for (let i = 0; i < options.count; i += 1) {
      const { key, body, messageId, raw } = options.message(i);
      const content = raw ?? Buffer.from(JSON.stringify(body));
      // RabbitMQ would take it, and Lambda would drop it on AWS (runtime/payloadLimit.ts): refuse it here instead.
      checkLambdaBodySize(content, `message ${i + 1} of ${options.count} (routing key ${JSON.stringify(key)})${i > 0 ? ` (the ${i} before it were published)` : ''}: its body`);
      channel.publish(options.exchange, key, content, {
        persistent: true,
        contentType: 'application/json',
        messageId: messageId ?? key,
        timestamp: Math.floor(Date.now() / 1000),
      });
      if ((i + 1) % window === 0) {
        await channel.waitForConfirms();
        options.onProgress?.(i + 1);
      }
      if (options.rate > 0) {
        const due = started + ((i + 1) * 1000) / options.rate;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
      }
    }
    await channel.waitForConfirms();
    options.onProgress?.(options.count);
    await channel.close();
  } finally {
    await connection.close().catch(() => undefined);
  }
  return { published: options.count, ms: performance.now() - started };
}
