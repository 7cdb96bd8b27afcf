/**
 * The dead-letter step of the message path: sets a message that can never succeed aside in the handler's dead-letter
 * sink, with why, and records it in the inbox so a redelivery does not write a second letter.
 *
 * At-least-once: the inbox row is written after the sink confirmed the letter, so a crash in between can write it
 * twice. Without a sink, or when the sink fails, it throws `DeadLetterError` (transient): the batch fails and comes
 * back, and nothing is lost.
 */
import { classifyError, type ErrorClassifier } from '../classify.js';
import type { Database } from '../db/ConnectionManager.js';
import type { WarrenMessage } from '../decode.js';
import { DeadLetterError } from '../errors.js';
import { inboxOutcome, markDeadLettered } from '../inbox.js';
import type { Logger } from '../logger.js';
import { isReplayed, type DeadLetterSink } from './types.js';

export interface DeadLetterStep {
  readonly handler: string;
  /** Whether the inbox is on (then a key's outcome is looked up and recorded). */
  readonly inbox: boolean;
  /** The handler's sink, resolved when a letter is due (undefined: none configured). */
  readonly sink: () => DeadLetterSink | undefined;
  readonly classify?: ErrorClassifier;
}

/** What became of the message: set aside now, or already handled (processed, or dead-lettered by an earlier delivery). */
export type DeadLetterOutcome = 'dead-lettered' | 'deduplicated';

export async function deadLetterMessage(step: DeadLetterStep, db: Database, message: WarrenMessage, key: string | null, error: unknown, deliveries: number, log: Logger): Promise<DeadLetterOutcome> {
  const { handler } = step;
  const keyed = step.inbox && key !== null;
  if (keyed) {
    // Already handled, or already dead-lettered by an earlier delivery: no second letter. A replay that fails again
    // is dead-lettered again.
    const known = await inboxOutcome(db, handler, key);
    if (known === 'processed' || (known === 'dead-lettered' && !isReplayed(message))) return 'deduplicated';
  }
  const name = error instanceof Error ? error.name : 'Error';
  const reason = error instanceof Error ? error.message : String(error);
  const sink = step.sink();
  if (sink === undefined) {
    throw new DeadLetterError(`No dead-letter queue is configured for handler "${handler}", so a permanent failure (${reason}) cannot be set aside; set WARREN_DLQ_URL (SQS) or WARREN_DLQ_AMQP_URL and WARREN_DLQ_QUEUE`, { cause: error });
  }
  try {
    await sink.send({
      handler,
      sourceQueue: message.queue,
      vhost: message.vhost,
      messageKey: key,
      data: message.data,
      properties: message.properties,
      error: { name, message: reason, kind: classifyError(error, step.classify) },
      deliveries,
      deadLetteredAt: new Date().toISOString(),
    });
  } catch (sendError) {
    throw new DeadLetterError(`Could not write to the dead-letter queue (${sink.destination}): ${sendError instanceof Error ? sendError.message : String(sendError)}`, { cause: sendError });
  }
  if (keyed) await markDeadLettered(db, handler, key);
  log.error('message dead-lettered', { reason, errorClass: name, deliveries, to: sink.destination });
  return 'dead-lettered';
}
