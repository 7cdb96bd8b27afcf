/**
 * The broker's stand-in for one run: a `Publisher` and a `DeadLetterSink` that keep what they are given instead of
 * sending it (runtime/outbox/Publisher.ts `runWithPublisher`, runtime/deadLetter/fromEnv.ts `runWithDeadLetterSink`).
 */
import type { DeadLetter, DeadLetterSink } from '../runtime/deadLetter/types.js';
import type { OutgoingMessage, Publisher } from '../runtime/outbox/Publisher.js';
import { REPLY_ERROR_HEADER } from '../runtime/outbox/replies.js';
import type { RecordedDeadLetter, RecordedMessage, RecordedReply } from './records.js';

const DESTINATION = 'warren/testing (recorded, not sent)';

/** A reply's message id ends in `/reply` or `/error-reply`; a publish's in `/<n>` (runtime/outbox/outbox.ts). */
const REPLY_ID = /\/(?:error-)?reply$/;

/** The body as JSON when it parses, else its text. */
export function decodeBody(data: Buffer): unknown {
  const text = data.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export class Recorder {
  public readonly published: RecordedMessage[] = [];
  public readonly replies: RecordedReply[] = [];
  public readonly deadLettered: RecordedDeadLetter[] = [];

  public readonly publisher: Publisher = {
    destination: DESTINATION,
    publish: async (messages: readonly OutgoingMessage[]) => { for (const m of messages) this.record(m); },
    close: async () => undefined,
  };

  public readonly sink: DeadLetterSink = {
    destination: DESTINATION,
    send: async (letter: DeadLetter) => {
      this.deadLettered.push({
        messageId: letter.properties.messageId ?? null,
        body: decodeBody(letter.data),
        reason: letter.error.message,
        errorName: letter.error.name,
        kind: letter.error.kind,
        deliveries: letter.deliveries,
        letter,
      });
    },
    close: async () => undefined,
  };

  private record(m: OutgoingMessage): void {
    const headers = (m.properties.headers ?? {}) as Record<string, unknown>;
    const message: RecordedMessage = {
      exchange: m.exchange,
      routingKey: m.routingKey,
      body: decodeBody(m.body),
      data: m.body,
      messageId: String(m.properties.messageId),
      correlationId: typeof m.properties.correlationId === 'string' ? m.properties.correlationId : null,
      headers,
      properties: m.properties,
    };
    if (!REPLY_ID.test(message.messageId)) {
      this.published.push(message);
      return;
    }
    const error = headers[REPLY_ERROR_HEADER];
    this.replies.push({ ...message, error: typeof error === 'string' ? error : null });
  }
}
