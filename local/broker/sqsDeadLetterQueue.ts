/** Creates (idempotently) the SQS dead-letter queue the local runner uses when `runner.deadLetter` is 'sqs'. */
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { createSqsClient } from '../../runtime/deadLetter/sqsClient.js';
import { ENV } from '../../runtime/env.js';
import { WarrenError } from '../../runtime/errors.js';

/** SQS queue names allow letters, digits, "-" and "_" (80 at most). */
export function sqsDeadLetterQueueName(queue: string): string {
  return `${queue.replace(/[^A-Za-z0-9_-]/g, '-')}-dlq`.slice(-80);
}

export async function ensureSqsDeadLetterQueue(queue: string, client = createSqsClient()): Promise<string> {
  if (process.env[ENV.sqsEndpoint] === undefined && process.env[ENV.awsEndpoint] === undefined) {
    throw new WarrenError('runner.deadLetter is "sqs" but neither AWS_ENDPOINT_URL_SQS nor AWS_ENDPOINT_URL is set; point one at an SQS-compatible server (for example `npx fauxqs`)');
  }
  try {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: sqsDeadLetterQueueName(queue), Attributes: { MessageRetentionPeriod: String(14 * 24 * 3600) } }));
    if (QueueUrl === undefined) throw new Error('CreateQueue returned no QueueUrl');
    return QueueUrl;
  } finally {
    client.destroy();
  }
}
