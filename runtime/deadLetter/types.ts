import type { ErrorKind } from '../classify.js';
import type { RmqBasicProperties } from '../event.js';

/** A message that will never succeed, with why. */
export interface DeadLetter {
  readonly handler: string;
  readonly sourceQueue: string;
  readonly vhost: string;
  readonly messageKey: string | null;
  readonly data: Buffer;
  /** The original AMQP properties, as the event carried them. */
  readonly properties: RmqBasicProperties;
  readonly error: { readonly name: string; readonly message: string; readonly kind: ErrorKind };
  /** Deliveries that failed, this one included. */
  readonly deliveries: number;
  /** ISO-8601. */
  readonly deadLetteredAt: string;
}

/** Where dead letters go: an SQS queue on AWS, a RabbitMQ queue locally (or anything that implements this). */
export interface DeadLetterSink {
  /** Human-readable destination for logs, e.g. "rabbitmq queue orders.dlq". */
  readonly destination: string;
  /** Resolves once the letter is durably stored (publisher confirm / SQS response). */
  send(letter: DeadLetter): Promise<void>;
  close(): Promise<void>;
}

/** True when the message is a dead letter sent back by `dlq replay`. */
export function isReplayed(message: { readonly headers: Readonly<Record<string, unknown>> }): boolean {
  return message.headers[DEAD_LETTER_HEADERS.replayedAt] !== undefined;
}

const KEPT_PROPERTIES = ['messageId', 'correlationId', 'contentType', 'contentEncoding', 'type', 'appId'] as const;
export type KeptProperties = Partial<Record<(typeof KEPT_PROPERTIES)[number], string>>;

/** The string AMQP properties worth keeping when a message is re-published (dead-lettered or replayed). */
export function keptProperties(source: object): KeptProperties {
  const out: KeptProperties = {};
  for (const key of KEPT_PROPERTIES) {
    const value: unknown = (source as Record<string, unknown>)[key];
    if (typeof value === 'string') out[key] = value;
  }
  return out;
}

/** Header / attribute names Warren writes on a dead letter. */
export const DEAD_LETTER_HEADERS = {
  handler: 'x-warren-handler',
  errorClass: 'x-warren-error-class',
  errorMessage: 'x-warren-error-message',
  errorKind: 'x-warren-error-kind',
  sourceQueue: 'x-warren-source-queue',
  sourceVhost: 'x-warren-source-vhost',
  deliveries: 'x-warren-deliveries',
  deadLetteredAt: 'x-warren-dead-lettered-at',
  messageKey: 'x-warren-message-key',
  replayedAt: 'x-warren-replayed-at',
} as const;
