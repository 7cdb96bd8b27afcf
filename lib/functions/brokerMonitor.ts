/**
 * The broker monitor on AWS: one scheduled function for the whole stack (lib/WarrenBrokerMonitor.ts). Amazon MQ vends
 * no per-queue CloudWatch metrics on RabbitMQ 4, so it asks the broker itself, with a passive declare (`checkQueue`)
 * per queue, which returns the queue's message and consumer counts without changing it:
 *
 *   BrokerDeadLetters       messages in `<queue>.dlq` (what the broker gave up on: past the quorum queue's delivery
 *                           limit). Warren's own dead letters go to the handler's SQS queue on AWS, so anything here
 *                           means the broker dropped a message from a shard; list and replay it with `npm run dlq`
 *                           against the broker URL. Per handler (dimensions Stack, Handler) and in total (Stack).
 *   ShardsWithoutConsumer   shard queues with no consumer (its trigger is disabled or failing). Total, plus one log
 *                           line naming each such shard.

Every metric carries the dimension `Stack` (WARREN_STACK_NAME, the CloudFormation stack name), so two Warren stacks in
one account and region keep apart and each stack's alarms watch only their own monitor.
 *
 * Why a metric rather than forwarding into SQS: forwarding would move messages out of the broker, where `npm run dlq`
 * replays them with their properties intact, and would need a second copy path with its own failure modes; a count is
 * read-only and one alarm covers every handler.
 *
 * Queues come from WARREN_MONITOR_QUEUES (JSON `[{"handler", "vhost", "queue", "shards"}]`), which the stack compiles
 * into the bundle (esbuild `define`) because 200 handlers exceed Lambda's 4 KB of environment variables.
 */
import amqp, { type ChannelModel } from 'amqplib';
import { readSecretsManagerCredentials, type SecretReader } from '../../runtime/amqp/brokerSecret.js';
import { ConfigError } from '../../runtime/errors.js';
import { createLogger, errorFields } from '../../runtime/logger.js';
import { ENV } from '../../runtime/env.js';
import { deadLetterQueueName } from '../../topology/topology.js';

export interface MonitoredHandler {
  readonly handler: string;
  readonly vhost: string;
  readonly queue: string;
  readonly shards: number;
}

export interface MonitorResult {
  readonly deadLetters: Record<string, number>;
  readonly totalDeadLetters: number;
  readonly shardsWithoutConsumer: string[];
  /** Queues that could not be checked (missing or the broker refused): counted as breaching by the alarms. */
  readonly unreadable: string[];
}

export const BROKER_MONITOR_NAMESPACE = 'Warren';
const log = createLogger({ component: 'broker-monitor' });

export function monitoredHandlers(raw: string | undefined): MonitoredHandler[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw ?? '');
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || !parsed.every((h: Record<string, unknown>) => typeof h?.handler === 'string' && typeof h.vhost === 'string' && typeof h.queue === 'string' && typeof h.shards === 'number')) {
    throw new ConfigError(ENV.monitorQueues, `expected a JSON array of {"handler", "vhost", "queue", "shards"}, received ${JSON.stringify(raw)?.slice(0, 200)}`);
  }
  return parsed as MonitoredHandler[];
}

/** Passive declare on its own channel (a missing queue closes the channel with 404). */
async function check(connection: ChannelModel, queue: string): Promise<{ messageCount: number; consumerCount: number } | undefined> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    const ok = await channel.checkQueue(queue);
    return { messageCount: ok.messageCount, consumerCount: ok.consumerCount };
  } catch {
    return undefined;
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/** Reads every handler's dead-letter depth and shard consumers; `connect(vhost)` opens a connection to that vhost. */
export async function readBroker(handlers: readonly MonitoredHandler[], connect: (vhost: string) => Promise<ChannelModel>): Promise<MonitorResult> {
  const deadLetters: Record<string, number> = {};
  const shardsWithoutConsumer: string[] = [];
  const unreadable: string[] = [];
  for (const vhost of [...new Set(handlers.map((h) => h.vhost))]) {
    const connection = await connect(vhost);
    try {
      for (const h of handlers.filter((x) => x.vhost === vhost)) {
        const dlq = await check(connection, deadLetterQueueName(h.queue));
        if (dlq === undefined) unreadable.push(deadLetterQueueName(h.queue));
        else deadLetters[h.handler] = dlq.messageCount;
        for (let i = 0; i < h.shards; i += 1) {
          const shard = await check(connection, `${h.queue}.${i}`);
          if (shard === undefined) unreadable.push(`${h.queue}.${i}`);
          else if (shard.consumerCount === 0) shardsWithoutConsumer.push(`${h.queue}.${i}`);
        }
      }
    } finally {
      await connection.close().catch(() => undefined);
    }
  }
  return { deadLetters, totalDeadLetters: Object.values(deadLetters).reduce((a, b) => a + b, 0), shardsWithoutConsumer, unreadable };
}

/** The EMF lines: one per handler (dimensions Stack, Handler) and one total with Stack only (what the alarms watch). */
export function emfLines(result: MonitorResult, stack: string, now = Date.now()): string[] {
  const lines = Object.entries(result.deadLetters).map(([handler, count]) => JSON.stringify({
    _aws: { Timestamp: now, CloudWatchMetrics: [{ Namespace: BROKER_MONITOR_NAMESPACE, Dimensions: [['Stack', 'Handler']], Metrics: [{ Name: 'BrokerDeadLetters', Unit: 'Count' }] }] },
    Stack: stack,
    Handler: handler,
    BrokerDeadLetters: count,
  }));
  lines.push(JSON.stringify({
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [{
        Namespace: BROKER_MONITOR_NAMESPACE,
        Dimensions: [['Stack']],
        Metrics: [{ Name: 'BrokerDeadLetters', Unit: 'Count' }, { Name: 'ShardsWithoutConsumer', Unit: 'Count' }, { Name: 'UnreadableQueues', Unit: 'Count' }],
      }],
    },
    Stack: stack,
    BrokerDeadLetters: result.totalDeadLetters,
    ShardsWithoutConsumer: result.shardsWithoutConsumer.length,
    UnreadableQueues: result.unreadable.length,
  }));
  return lines;
}

export function createBrokerMonitor(readSecret: SecretReader = readSecretsManagerCredentials, write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): () => Promise<MonitorResult> {
  return async () => {
    // ENV.monitorQueues, read literally (not process.env[ENV.monitorQueues] or envValue) so esbuild's define replaces it
    // with the list the stack compiles into the bundle (a real variable in tests).
    const handlers = monitoredHandlers(process.env.WARREN_MONITOR_QUEUES);
    const stack = process.env[ENV.stackName];
    if (stack === undefined || stack === '') throw new ConfigError(ENV.stackName, 'missing: the stack sets it to its name (the metrics\' Stack dimension)');
    const endpoint = new URL(process.env[ENV.amqpEndpoint] ?? '');
    const credentials = await readSecret(process.env[ENV.amqpSecretArn] ?? '');
    const protocol = endpoint.protocol.replace(/:$/, '');
    const result = await readBroker(handlers, (vhost) => amqp.connect({
      protocol,
      hostname: endpoint.hostname,
      port: endpoint.port === '' ? (protocol === 'amqps' ? 5671 : 5672) : Number(endpoint.port),
      username: credentials.username,
      password: credentials.password,
      vhost,
    }, { timeout: 10_000 }));
    for (const line of emfLines(result, stack)) write(line);
    if (result.totalDeadLetters > 0) log.warn('the broker dead-lettered messages; list and replay them with npm run dlq against the broker', { deadLetters: result.deadLetters });
    for (const shard of result.shardsWithoutConsumer) log.warn('shard queue has no consumer: its trigger is disabled or failing', { queue: shard });
    if (result.unreadable.length > 0) log.warn('queues could not be checked', { queues: result.unreadable });
    return result;
  };
}

export async function handler(): Promise<MonitorResult> {
  try {
    return await createBrokerMonitor()();
  } catch (error) {
    log.error('broker monitor failed', errorFields(error));
    throw error;
  }
}
