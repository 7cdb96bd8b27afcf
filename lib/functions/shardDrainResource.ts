/**
 * `Custom::WarrenShardDrain`: one per shard queue of every handler (lib/WarrenShardDrain.ts), served by the topology
 * function (lib/functions/brokerResources.ts). The shard's trigger depends on it, so when a lower `concurrency` removes shard
 * `i` from the template, CloudFormation deletes the trigger first and this resource after it ("DependsOn attribute",
 * CloudFormation Template Reference: the resource that depends on another is deleted before it). Removed resources are
 * deleted in the update's cleanup phase, after every update, so the topology resource has already unbound the shard.
 *
 * Delete (create and update do nothing):
 *   1. Is the shard still bound to the handler's exchange (management API)? Then this is not a lowered concurrency but
 *      the stack being deleted (the topology stays on the broker) or the handler moving to another nested stack: leave it.
 *   2. Wait until the queue has no consumer: CloudFormation may report the trigger deleted before its poller let go.
 *   3. Move its messages back through the exchange (`moveShardMessages`: routing key and message_id kept, so the inbox
 *      still applies each once; they land on the shard their key maps to now), then delete it when drained.
 * It never fails the deployment: a failed cleanup-phase delete would not bring the messages back. What it could not do,
 * it logs and reports in `Left`; `npm run shards -- status` shows such a queue and `npm run shards -- drain` finishes it.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import amqp from 'amqplib';
import { ConfigError } from '../../runtime/errors.js';
import { createLogger, errorFields } from '../../runtime/logger.js';
import { deleteIfDrained, moveShardMessages, queueState } from '../../topology/surplusShards.js';
import { readSecretsManagerCredentials, type BrokerCredentials, type SecretReader } from '../../runtime/amqp/brokerSecret.js';
import { connectWithRetry, type ConnectRetryOptions } from './brokerConnect.js';

export const SHARD_DRAIN_RESOURCE_TYPE = 'Custom::WarrenShardDrain';

export interface ShardDrainResult {
  readonly PhysicalResourceId: string;
  /** Counts and a short reason only: a custom resource's whole response must stay under 4 KB. */
  readonly Data: { readonly Moved: string; readonly Deleted: string; readonly Left: string };
}

/** The defaults of `ShardDrainOptions`. */
export const SHARD_DRAIN_RESOURCE_DEFAULTS = { consumerWaitMs: 180_000, pollMs: 2_000 } as const;

export interface ShardDrainOptions extends ConnectRetryOptions {
  /** Longest wait for the deleted trigger's poller to leave the queue. @default 180_000 */
  readonly consumerWaitMs?: number;
  /** @default 2_000 */
  readonly pollMs?: number;
}

const log = createLogger({ component: 'shard-drain-resource' });

/**
 * Where the broker settings come from when the resource leaves them out: the topology function's environment, set in the
 * parent stack (a nested stack gets the broker's endpoint list as a String parameter, on which Fn::Select fails: cfn-lint E1020).
 */
export const SHARD_DRAIN_ENV = { BrokerEndpoint: 'WARREN_BROKER_ENDPOINT', ConsoleUrl: 'WARREN_BROKER_CONSOLE_URL', SecretArn: 'WARREN_BROKER_SECRET_ARN' } as const;

function property(event: CloudFormationCustomResourceEvent, name: string): string {
  const value: unknown = event.ResourceProperties[name] ?? (name in SHARD_DRAIN_ENV ? process.env[SHARD_DRAIN_ENV[name as keyof typeof SHARD_DRAIN_ENV]] : undefined);
  if (typeof value !== 'string' || value === '') throw new ConfigError(name, `missing custom resource property ${name}`);
  return value;
}

/** True when `queue` has a binding from `exchange` (management API, `GET /api/bindings/<vhost>/e/<exchange>/q/<queue>`). */
export async function isBound(consoleUrl: string, credentials: BrokerCredentials, vhost: string, exchange: string, queue: string): Promise<boolean> {
  const auth = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  const path = `/api/bindings/${encodeURIComponent(vhost)}/e/${encodeURIComponent(exchange)}/q/${encodeURIComponent(queue)}`;
  const response = await fetch(`${consoleUrl.replace(/\/$/, '')}${path}`, { headers: { authorization: auth }, signal: AbortSignal.timeout(10_000) });
  if (response.status === 404) return false; // the exchange or the queue is gone
  if (!response.ok) throw new Error(`management API answered HTTP ${response.status} to GET ${path}`);
  return ((await response.json()) as unknown[]).length > 0;
}

export function createShardDrainHandler(readSecret: SecretReader = readSecretsManagerCredentials, options: ShardDrainOptions = {}): (event: CloudFormationCustomResourceEvent) => Promise<ShardDrainResult> {
  return async (event) => {
    const queue = property(event, 'Queue');
    const done = (moved: number, deleted: boolean, left: string): ShardDrainResult => ({ PhysicalResourceId: queue, Data: { Moved: String(moved), Deleted: String(deleted), Left: left } });
    if (event.RequestType !== 'Delete') return done(0, false, '');
    const exchange = property(event, 'Exchange');
    const vhost = property(event, 'Vhost');
    const endpoint = new URL(property(event, 'BrokerEndpoint'));
    const credentials = await readSecret(property(event, 'SecretArn'));
    try {
      if (await isBound(property(event, 'ConsoleUrl'), credentials, vhost, exchange, queue)) {
        log.info('shard still bound to its exchange (stack deletion or a handler moving between nested stacks): left as it is', { queue });
        return done(0, false, '');
      }
      const protocol = endpoint.protocol.replace(/:$/, '');
      const port = endpoint.port === '' ? (protocol === 'amqps' ? 5671 : 5672) : Number(endpoint.port);
      const connection = await connectWithRetry((timeoutMs) => amqp.connect({ protocol, hostname: endpoint.hostname, port, username: credentials.username, password: credentials.password, vhost }, { timeout: timeoutMs }), `${protocol}://${endpoint.hostname}:${port}`, options);
      connection.on('error', () => undefined);
      try {
        const waitMs = options.consumerWaitMs ?? SHARD_DRAIN_RESOURCE_DEFAULTS.consumerWaitMs;
        const started = Date.now();
        let state = await queueState(connection, queue);
        while (state !== null && state.consumers > 0 && Date.now() - started < waitMs) {
          await new Promise((r) => setTimeout(r, options.pollMs ?? SHARD_DRAIN_RESOURCE_DEFAULTS.pollMs));
          state = await queueState(connection, queue);
        }
        if (state === null) return done(0, false, '');
        if (state.consumers > 0) {
          log.warn('the surplus shard still has a consumer; its messages stay (npm run shards -- drain moves them)', { queue, consumers: state.consumers, waitedMs: Date.now() - started });
          return done(0, false, 'consumer');
        }
        const moved = await moveShardMessages(connection, exchange, queue);
        const deleted = await deleteIfDrained(connection, queue);
        log.info('surplus shard drained', { queue, moved, deleted });
        return done(moved, deleted, deleted ? '' : 'not empty');
      } finally {
        await connection.close().catch(() => undefined);
      }
    } catch (error) {
      log.error('draining the surplus shard failed; its messages stay on the broker (npm run shards -- drain moves them)', { queue, ...errorFields(error) });
      return done(0, false, 'error');
    }
  };
}
