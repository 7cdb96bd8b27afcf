/**
 * `assertQueue` that turns RabbitMQ's "inequivalent arg" refusal (406 PRECONDITION_FAILED, which also closes the
 * channel) into a `QueueArgumentsMismatchError` naming the queue, the argument, what the broker has, what Warren wants
 * and how to get out of it.
 */
import type { Channel, ChannelModel, Options } from 'amqplib';
import { QueueArgumentsMismatchError } from './errors.js';

/** `inequivalent arg 'x-queue-type' for queue 'orders.0' in vhost '/': received the value 'quorum' of type 'longstr' but current is none` */
const INEQUIVALENT = /inequivalent arg '([^']+)' for queue '((?:[^']|'(?! in vhost))*)' in vhost '([^']*)': received (.*) but current is (.*?)"?$/;
/** `parameters for queue 'orders.0' in vhost '/' not equivalent` (durable, exclusive or auto-delete differ) */
const NOT_EQUIVALENT = /parameters for queue '(.*)' in vhost '([^']*)' not equivalent/;

/** What to do about a queue with the wrong arguments; `exchange` is where its messages belong. */
export function mismatchHint(queue: string, vhost: string, exchange: string | undefined): string {
  const drain = queue.endsWith('.dlq')
    ? `move its dead letters out first (\`npm run dlq -- replay --all\` with the Warren version that created it, or read them with \`npm run dlq -- list\`)`
    : `let the Warren version that created it drain it first (or move its messages with a shovel to exchange "${exchange ?? queue}")`;
  return `${drain}, then delete it with \`rabbitmqctl delete_queue -p '${vhost}' '${queue}' --if-empty\` ` +
    `(on Amazon MQ: Queues > ${queue} > Delete in the RabbitMQ web console) and start again; Warren declares it anew.`;
}

function describeValue(text: string): string {
  const typed = /^the value '(.*)' of type '(\w+)'$/.exec(text.trim());
  if (typed !== null) return `${JSON.stringify(typed[1])} (${typed[2]})`;
  return text.trim() === 'none' ? 'not set' : text.trim().replace(/^'(.*)'$/, '$1');
}

/**
 * Turns a failed declaration into a `QueueArgumentsMismatchError` when it is one; returns other errors unchanged.
 * `options` are the ones the declaration asked for.
 */
export function explainDeclareError(error: unknown, queue: string, vhost: string, options: Options.AssertQueue, exchange?: string): unknown {
  const message = error instanceof Error ? error.message : String(error);
  const wanted = options.arguments as Record<string, unknown> | undefined ?? {};
  const hint = mismatchHint(queue, vhost, exchange);
  const arg = INEQUIVALENT.exec(message);
  if (arg !== null) {
    return new QueueArgumentsMismatchError({ queue, vhost, argument: arg[1]!, has: describeValue(arg[5]!), wants: describeValue(arg[4]!), wanted, hint }, { cause: error });
  }
  if (NOT_EQUIVALENT.test(message)) {
    return new QueueArgumentsMismatchError({ queue, vhost, argument: 'durable/exclusive/auto-delete', has: 'other flags', wants: `durable: ${String(options.durable ?? true)}`, wanted, hint }, { cause: error });
  }
  return error;
}

/**
 * Declares `queue` on `channel`. A refusal closes the channel, so callers stop using it after a throw. `exchange` (the
 * handler's exchange) only feeds the hint of the error.
 */
export async function declareQueue(channel: Channel, queue: string, vhost: string, options: Options.AssertQueue, exchange?: string): Promise<void> {
  try {
    await channel.assertQueue(queue, options);
  } catch (error) {
    throw explainDeclareError(error, queue, vhost, options, exchange);
  }
}

/** Declares `queue` on a channel of its own (closed afterwards), for callers that keep using their channel. */
export async function declareQueueAlone(connection: ChannelModel, queue: string, vhost: string, options: Options.AssertQueue): Promise<void> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined); // a refusal is reported through the rejected promise
  try {
    await declareQueue(channel, queue, vhost, options);
  } finally {
    await channel.close().catch(() => undefined);
  }
}
