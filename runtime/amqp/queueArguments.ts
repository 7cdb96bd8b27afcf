/**
 * The arguments of every queue Warren declares, in one place. The local runner, the CDK topology custom resource, the
 * RabbitMQ dead-letter sink and the tests all declare with these: RabbitMQ refuses a redeclaration with other arguments
 * (406 PRECONDITION_FAILED, which also closes the channel).
 *
 * Shard queues `<queue>.0` .. `<queue>.<N-1>`:
 *   x-queue-type: quorum                 Amazon MQ for RabbitMQ 4 makes untyped queues quorum anyway; say so explicitly
 *                                        so RabbitMQ 3.x locally runs the same queue type.
 *   x-delivery-limit: <deliveryLimit>    RabbitMQ 4.0+ would otherwise apply 20 and DROP the message past it.
 *   x-dead-letter-exchange: ''           past the limit the broker republishes the message through the default
 *   x-dead-letter-routing-key: <q>.dlq   exchange to `<queue>.dlq` (the queue Warren's own dead letters go to)...
 *   x-dead-letter-strategy: at-least-once ...with publisher confirms, keeping it in the shard queue until confirmed;
 *   x-overflow: reject-publish           which RabbitMQ requires for at-least-once dead-lettering (no length limit is set,
 *                                        so no publish is ever rejected).
 *   x-single-active-consumer: true       one consumer at a time gets messages (per-key order across runner replicas);
 *                                        the others stand by and take over when its channel closes.
 *
 * Dead-letter queue `<queue>.dlq`: quorum (replicated on a cluster broker) with a delivery limit so high it never
 * applies. Without one, RabbitMQ 4.0+ applies 20, and listing dead letters (`npm run dlq -- list` takes them unacked and
 * returns them) counts as a delivery on 4.0-4.2: the 21st listing would drop them. `-1` ("no limit" on 4.x) is not an
 * option: RabbitMQ 3.x treats it as "dead-letter on the first return".
 */
import type { Options } from 'amqplib';

export type QueueArguments = Readonly<Record<string, string | number | boolean>>;

/** `<queue>.dlq`: where Warren (locally) and the broker (everywhere) dead-letter a handler's messages. */
export function deadLetterQueueName(queue: string): string {
  return `${queue}.dlq`;
}

/** The shard queues' arguments for a handler's exchange/queue name and its `deliveryLimit`. */
export function shardQueueArguments(queue: string, deliveryLimit: number): QueueArguments {
  return {
    'x-queue-type': 'quorum',
    'x-delivery-limit': deliveryLimit,
    'x-dead-letter-exchange': '',
    'x-dead-letter-routing-key': deadLetterQueueName(queue),
    'x-dead-letter-strategy': 'at-least-once',
    'x-overflow': 'reject-publish',
    'x-single-active-consumer': true,
  };
}

/** Returns a dead letter may take (listings, replays of other letters) before the broker would drop it: never, in practice. */
export const DEAD_LETTER_QUEUE_DELIVERY_LIMIT = 1_000_000;

export const DEAD_LETTER_QUEUE_ARGUMENTS: QueueArguments = {
  'x-queue-type': 'quorum',
  'x-delivery-limit': DEAD_LETTER_QUEUE_DELIVERY_LIMIT,
};

/** `assertQueue` options of a shard queue. */
export function shardQueueOptions(queue: string, deliveryLimit: number): Options.AssertQueue {
  return { durable: true, arguments: shardQueueArguments(queue, deliveryLimit) };
}

/** `assertQueue` options of `<queue>.dlq`. */
export const DEAD_LETTER_QUEUE_OPTIONS: Options.AssertQueue = { durable: true, arguments: DEAD_LETTER_QUEUE_ARGUMENTS };
