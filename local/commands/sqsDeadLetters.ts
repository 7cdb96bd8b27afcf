/**
 * Listing and replaying an SQS dead-letter queue (what `runner.deadLetter: 'sqs'` uses locally, and the shape the
 * Lambda runtime writes on AWS). Listing receives with a zero visibility timeout, so nothing is hidden or removed;
 * replay publishes a letter back to its source shard queue (attribute warren.sourceQueue) with publisher confirms and
 * `x-warren-replayed-at`, then deletes it from SQS.
 */
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import amqp from 'amqplib';
import { SQS_ATTRIBUTES as A } from '../../runtime/deadLetter/SqsSink.js';
import { createSqsClient } from '../../runtime/deadLetter/sqsClient.js';
import { DEAD_LETTER_HEADERS, keptProperties } from '../../runtime/deadLetter/types.js';
import { decodeHeaderValue } from '../../runtime/decode.js';
import type { RmqHeaderValue } from '../../runtime/event.js';
import type { DeadLetterEntry } from './deadLetters.js';
import { urlForVhost } from '../../runtime/amqp/amqpUrl.js';

function attr(message: Message, name: string): string {
  return message.MessageAttributes?.[name]?.StringValue ?? '';
}

function toEntry(message: Message, index: number): DeadLetterEntry & { readonly vhost: string; readonly data: Buffer; readonly properties: Record<string, unknown> } {
  const [sourceQueue = '', vhost = '/'] = attr(message, A.sourceQueue).split('::');
  const data = attr(message, A.bodyEncoding) === 'base64' ? Buffer.from(message.Body ?? '', 'base64') : Buffer.from(message.Body ?? '', 'utf8');
  const properties = JSON.parse(attr(message, A.properties) || '{}') as Record<string, unknown>;
  return {
    index,
    messageId: typeof properties.messageId === 'string' ? properties.messageId : null,
    messageKey: attr(message, A.messageKey) || null,
    sourceQueue,
    vhost,
    errorClass: attr(message, A.errorClass),
    reason: attr(message, A.errorMessage),
    kind: attr(message, A.errorKind),
    deliveries: Number(attr(message, A.deliveries) || 0),
    deadLetteredAt: message.Attributes?.SentTimestamp === undefined ? '' : new Date(Number(message.Attributes.SentTimestamp)).toISOString(),
    body: data.toString('utf8').slice(0, 500),
    replayTo: { exchange: '', routingKey: sourceQueue },
    data,
    properties,
  };
}

async function receiveAll(queueUrl: string, visibilityTimeout: number, limit: number): Promise<Message[]> {
  const client = createSqsClient();
  try {
    const seen = new Map<string, Message>();
    while (seen.size < limit) {
      const { Messages = [] } = await client.send(new ReceiveMessageCommand({
        QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['SentTimestamp'], VisibilityTimeout: visibilityTimeout, WaitTimeSeconds: 0,
      }));
      const fresh = Messages.filter((m) => m.MessageId !== undefined && !seen.has(m.MessageId));
      if (fresh.length === 0) break;
      for (const m of fresh) seen.set(m.MessageId!, m);
    }
    return [...seen.values()];
  } finally {
    client.destroy();
  }
}

export async function listSqsDeadLetters(queueUrl: string, limit = 1_000): Promise<DeadLetterEntry[]> {
  return (await receiveAll(queueUrl, 0, limit)).map((m, i) => {
    const { data: _data, properties: _properties, vhost: _vhost, ...entry } = toEntry(m, i);
    return entry;
  });
}

export async function replaySqsDeadLetters(queueUrl: string, amqpUrl: string, select: (entry: DeadLetterEntry) => boolean = () => true, limit = 10_000): Promise<DeadLetterEntry[]> {
  const messages = await receiveAll(queueUrl, 60, limit); // hidden while we replay them
  const client = createSqsClient();
  const connections = new Map<string, amqp.ChannelModel>();
  const replayed: DeadLetterEntry[] = [];
  try {
    for (const [i, message] of messages.entries()) {
      const entry = toEntry(message, i);
      if (!select(entry) || entry.sourceQueue === '') {
        await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }));
        continue;
      }
      let connection = connections.get(entry.vhost);
      if (connection === undefined) {
        connection = await amqp.connect(urlForVhost(amqpUrl, entry.vhost));
        connections.set(entry.vhost, connection);
      }
      const channel = await connection.createConfirmChannel();
      const { headers: rawHeaders, ...props } = entry.properties;
      const headers: Record<string, unknown> = {};
      for (const [k, v] of Object.entries((rawHeaders ?? {}) as Record<string, RmqHeaderValue>)) headers[k] = decodeHeaderValue(v);
      headers[DEAD_LETTER_HEADERS.replayedAt] = new Date().toISOString();
      const options: amqp.Options.Publish = { persistent: true, headers, ...keptProperties(props) };
      channel.sendToQueue(entry.sourceQueue, entry.data, options);
      await channel.waitForConfirms();
      await channel.close();
      await client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
      const { data: _data, properties: _properties, vhost: _vhost, ...plain } = entry;
      replayed.push(plain);
    }
    return replayed;
  } finally {
    client.destroy();
    for (const c of connections.values()) await c.close().catch(() => undefined);
  }
}
