/**
 * Dead letters to an SQS queue (one per handler, created by the CDK stack; URL in WARREN_DLQ_URL). Honours
 * AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_SQS, so any SQS-compatible server can stand in.
 * The body is the original text, or base64 (attribute warren.bodyEncoding = base64) when SQS could not carry it.
 * The SQS client is loaded on the first dead letter, not at import: a Lambda cold start does not parse the AWS SDK.
 */
import type { MessageAttributeValue, SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetter, DeadLetterSink } from './types.js';

/** True when SQS accepts every character (the XML 1.0 character ranges: tab, LF, CR, U+0020-U+D7FF, ...). */
function sqsCanCarry(text: string): boolean {
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    const ok = c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
    if (!ok) return false;
  }
  return true;
}

export const SQS_ATTRIBUTES = {
  handler: 'warren.handler',
  errorClass: 'warren.errorClass',
  errorMessage: 'warren.errorMessage',
  errorKind: 'warren.errorKind',
  sourceQueue: 'warren.sourceQueue',
  deliveries: 'warren.deliveries',
  messageKey: 'warren.messageKey',
  properties: 'warren.properties',
  bodyEncoding: 'warren.bodyEncoding',
  deadLetteredAt: 'warren.deadLetteredAt',
} as const;

function text(value: string): MessageAttributeValue {
  return { DataType: 'String', StringValue: value === '' ? ' ' : value };
}

/** Encodes a dead letter as SQS body + attributes (at most 10 attributes, as SQS allows). */
export function toSqsMessage(letter: DeadLetter): { body: string; attributes: Record<string, MessageAttributeValue> } {
  const asText = letter.data.toString('utf8');
  const textSafe = Buffer.from(asText, 'utf8').equals(letter.data) && sqsCanCarry(asText) && asText.length > 0;
  const A = SQS_ATTRIBUTES;
  return {
    body: textSafe ? asText : letter.data.toString('base64'),
    attributes: {
      [A.handler]: text(letter.handler),
      [A.errorClass]: text(letter.error.name),
      [A.errorMessage]: text(letter.error.message.slice(0, 1_000)),
      [A.errorKind]: text(letter.error.kind),
      [A.sourceQueue]: text(`${letter.sourceQueue}::${letter.vhost}`),
      [A.deliveries]: { DataType: 'Number', StringValue: String(letter.deliveries) },
      ...(letter.messageKey === null ? {} : { [A.messageKey]: text(letter.messageKey) }),
      [A.properties]: text(JSON.stringify(letter.properties)),
      [A.bodyEncoding]: text(textSafe ? 'utf8' : 'base64'),
      [A.deadLetteredAt]: text(letter.deadLetteredAt),
    },
  };
}

export class SqsSink implements DeadLetterSink {
  private client: Promise<SQSClient> | undefined;

  public constructor(private readonly queueUrl: string, client?: SQSClient) {
    this.client = client === undefined ? undefined : Promise.resolve(client);
  }

  public get destination(): string { return `sqs ${this.queueUrl}`; }

  public async send(letter: DeadLetter): Promise<void> {
    const { body, attributes } = toSqsMessage(letter);
    const { createSqsClient, SendMessageCommand } = await import('./sqsClient.js');
    this.client ??= Promise.resolve(createSqsClient());
    const client = await this.client;
    await client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: body, MessageAttributes: attributes }));
  }

  public async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    (await client)?.destroy();
  }
}
