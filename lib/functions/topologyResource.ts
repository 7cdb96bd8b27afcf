/**
 * The CloudFormation custom resource (CDK Provider framework `onEvent` handler) that declares every handler's shard
 * topology on the Amazon MQ broker with `declareTopology`, the code the local runner uses too.
 *
 * Resource properties (set by `lib/WarrenTopology.ts`):
 *   BrokerEndpoint  `amqps://host:5671` (or `amqp://` locally)
 *   ConsoleUrl      `https://host`: the management API; vhosts other than "/" are created there first (optional)
 *   SecretArn       Secrets Manager secret with JSON `{"username", "password"}` (never logged)
 *   Handlers        JSON of the resolved handler configs (`ResolvedHandlerConfig[]`)
 *
 * Connects are retried with backoff while a new broker's listener settles (`connectWithRetry` in brokerConnect.ts).
 *
 * Create and Update declare (idempotently). Delete does nothing: queues may still hold messages, so they stay on the
 * broker for you to drain or delete (`rabbitmqadmin delete queue name=<queue>.<i>`).
 */
import amqp from 'amqplib';
import { createHash } from 'node:crypto';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { resolveConfig, type ResolvedHandlerConfig } from '../../config/config.js';
import { ConfigError } from '../../runtime/errors.js';
import { createLogger, errorFields } from '../../runtime/logger.js';
import { declareTopology } from '../../topology/topology.js';
import { readSecretsManagerCredentials, type BrokerCredentials, type SecretReader } from '../../runtime/amqp/brokerSecret.js';
import { connectWithRetry, ensureVhost, type ConnectRetryOptions } from './brokerConnect.js';

export const TOPOLOGY_PHYSICAL_ID = 'warren-topology';

/**
 * What `onEvent` returns. CloudFormation caps a custom resource's whole response at 4,096 bytes (AWS CloudFormation
 * User Guide, "Custom resources" / "Custom resource response objects"), so `Data` holds counts and a digest, never
 * lists: 200 handlers with 40-character names, or one handler at `concurrency` 1,000, name 1,000+ queues. The queue
 * and orphan names go to the function's log instead.
 */
export interface TopologyResult {
  readonly PhysicalResourceId: string;
  readonly Data: {
    /** Shard queues declared. */
    readonly QueueCount: number;
    /** Surplus shard queues unbound by a lowered `concurrency` (named in the log). */
    readonly OrphanCount: number;
    /** SHA-256 (hex) of the declared shard queues' names, comma-joined in declaration order. */
    readonly QueuesSha256: string;
  };
}

/** The response `Data` for declared queues and orphans: sizes and a digest, independent of how many there are. */
export function topologyData(queues: readonly string[], orphans: readonly string[]): TopologyResult['Data'] {
  return { QueueCount: queues.length, OrphanCount: orphans.length, QueuesSha256: createHash('sha256').update(queues.join(',')).digest('hex') };
}

const log = createLogger({ component: 'topology-resource' });

function property(event: CloudFormationCustomResourceEvent, name: string): string {
  const value: unknown = event.ResourceProperties[name];
  if (typeof value !== 'string' || value === '') throw new ConfigError(name, `missing custom resource property ${name}`);
  return value;
}

/** Declares every handler's topology, one connection per virtual host. Returns the shard queues and any orphans. */
export async function declareAll(endpoint: string, credentials: BrokerCredentials, handlers: readonly ResolvedHandlerConfig[], options: ConnectRetryOptions & { readonly consoleUrl?: string } = {}): Promise<{ queues: string[]; orphans: string[] }> {
  const url = new URL(endpoint);
  const protocol = url.protocol.replace(/:$/, '');
  if (protocol !== 'amqps' && protocol !== 'amqp') throw new ConfigError('BrokerEndpoint', `expected amqps://host:port, received protocol ${JSON.stringify(protocol)}`);
  const queues: string[] = [];
  const orphans: string[] = [];
  const vhosts = [...new Set(handlers.map((h) => h.vhost))];
  for (const vhost of vhosts) {
    if (vhost !== '/' && options.consoleUrl !== undefined) await ensureVhost(options.consoleUrl, credentials, vhost, options);
    const port = url.port === '' ? (protocol === 'amqps' ? 5671 : 5672) : Number(url.port);
    const connection = await connectWithRetry((timeoutMs) => amqp.connect({
      protocol,
      hostname: url.hostname,
      port,
      username: credentials.username,
      password: credentials.password,
      vhost,
    }, { timeout: timeoutMs }), `${protocol}://${url.hostname}:${port} vhost ${JSON.stringify(vhost)}`, options);
    try {
      for (const handler of handlers.filter((h) => h.vhost === vhost)) {
        const result = await declareTopology(connection, handler);
        queues.push(...result.plan.shards);
        orphans.push(...result.orphans);
        log.info('topology declared', { handler: handler.name, vhost, exchange: result.plan.exchange, shards: result.plan.shards.length, orphans: result.orphans });
      }
    } finally {
      await connection.close().catch(() => undefined);
    }
  }
  return { queues, orphans };
}

/** Builds the `onEvent` handler; tests pass a `readSecret` because Secrets Manager does not exist here, and may pass
 * `declare` to size a response for more queues than a shared test broker should hold. */
export function createTopologyHandler(readSecret: SecretReader = readSecretsManagerCredentials, retry: ConnectRetryOptions = {}, declare: typeof declareAll = declareAll): (event: CloudFormationCustomResourceEvent) => Promise<TopologyResult> {
  return async (event) => {
    if (event.RequestType === 'Delete') {
      log.info('delete: leaving the queues on the broker', { physicalResourceId: event.PhysicalResourceId });
      return { PhysicalResourceId: event.PhysicalResourceId, Data: topologyData([], []) };
    }
    const endpoint = property(event, 'BrokerEndpoint');
    const { handlers } = resolveConfig({ handlers: JSON.parse(property(event, 'Handlers')) as unknown });
    const credentials = await readSecret(property(event, 'SecretArn'));
    try {
      const consoleUrl = typeof event.ResourceProperties.ConsoleUrl === 'string' && event.ResourceProperties.ConsoleUrl !== '' ? event.ResourceProperties.ConsoleUrl : undefined;
      const { queues, orphans } = await declare(endpoint, credentials, handlers, { ...retry, ...(consoleUrl === undefined ? {} : { consoleUrl }) });
      if (orphans.length > 0) log.warn('surplus shard queues unbound; drain or delete them', { orphans });
      return { PhysicalResourceId: TOPOLOGY_PHYSICAL_ID, Data: topologyData(queues, orphans) };
    } catch (error) {
      log.error('topology declaration failed', errorFields(error));
      throw error;
    }
  };
}

export const handler = createTopologyHandler();
