/**
 * The SQS client of the SQS dead-letter sink and the local `dlq` commands. Its own module so that `SqsSink` can load it
 * (and with it the AWS SDK) on the first dead letter: the bundled Lambda asset keeps `@aws-sdk/client-sqs` in a
 * separate file (lib/WarrenFunction.ts) that a cold start never reads unless a message is dead-lettered.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { ENV, envValue } from '../env.js';

export { SendMessageCommand } from '@aws-sdk/client-sqs';

/**
 * An SQS client that honours AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL for every call. (Given only through the
 * environment, the SDK would still send each call to the host of its QueueUrl.)
 */
export function createSqsClient(env: NodeJS.ProcessEnv = process.env): SQSClient {
  const endpoint = envValue(ENV.sqsEndpoint, env) ?? envValue(ENV.awsEndpoint, env);
  return new SQSClient(endpoint === undefined ? {} : { endpoint });
}
