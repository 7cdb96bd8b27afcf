/**
 * The CloudFormation custom resource (CDK Provider framework `onEvent` handler) that declares every handler's shard
 * topology on the Amazon MQ broker with `declareTopology`, the code the local runner uses too.
 *
 * Resource properties (set by `lib/WarrenTopology.ts`):
 *   BrokerEndpoint  `amqps://host:5671` (or `amqp://` locally)
 *   SecretArn       Secrets Manager secret with JSON `{"username", "password"}` (never logged)
 *   Handlers        JSON of the resolved handler configs (`ResolvedHandlerConfig[]`)
 *
 * Create and Update declare (idempotently). Delete does nothing: queues may still hold messages, so they stay on the
 * broker for you to drain or delete (`rabbitmqadmin delete queue name=<queue>.<i>`).
 */
import amqp from 'amqplib';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { resolveConfig, type ResolvedHandlerConfig } from './config.js';
import { ConfigError } from './errors.js';
import { createLogger, errorFields } from './logger.js';
import { declareTopology } from './topology.js';

export const TOPOLOGY_PHYSICAL_ID = 'warren-topology';

export interface BrokerCredentials {
  readonly username: string;
  readonly password: string;
}

/** Reads the broker user from a secret; the default asks Secrets Manager. */
export type SecretReader = (secretArn: string) => Promise<BrokerCredentials>;

export interface TopologyResult {
  readonly PhysicalResourceId: string;
  readonly Data: { readonly Queues: string; readonly Orphans: string };
}

const log = createLogger({ component: 'topology-resource' });

function parseCredentials(raw: string | undefined): BrokerCredentials {
  let value: unknown;
  try {
    value = JSON.parse(raw ?? '');
  } catch {
    throw new ConfigError('SecretArn', 'the secret is not JSON; expected {"username": "...", "password": "..."}');
  }
  const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (typeof v.username !== 'string' || typeof v.password !== 'string') {
    throw new ConfigError('SecretArn', 'the secret must hold string fields "username" and "password"');
  }
  return { username: v.username, password: v.password };
}

/** Reads the secret with `@aws-sdk/client-secrets-manager` (loaded only when used). */
export const readSecretsManagerCredentials: SecretReader = async (secretArn) => {
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({});
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    return parseCredentials(out.SecretString);
  } finally {
    client.destroy();
  }
};

function property(event: CloudFormationCustomResourceEvent, name: string): string {
  const value: unknown = event.ResourceProperties[name];
  if (typeof value !== 'string' || value === '') throw new ConfigError(name, `missing custom resource property ${name}`);
  return value;
}

/** Declares every handler's topology, one connection per virtual host. Returns the shard queues and any orphans. */
export async function declareAll(endpoint: string, credentials: BrokerCredentials, handlers: readonly ResolvedHandlerConfig[]): Promise<{ queues: string[]; orphans: string[] }> {
  const url = new URL(endpoint);
  const protocol = url.protocol.replace(/:$/, '');
  if (protocol !== 'amqps' && protocol !== 'amqp') throw new ConfigError('BrokerEndpoint', `expected amqps://host:port, received protocol ${JSON.stringify(protocol)}`);
  const queues: string[] = [];
  const orphans: string[] = [];
  const vhosts = [...new Set(handlers.map((h) => h.vhost))];
  for (const vhost of vhosts) {
    const connection = await amqp.connect({
      protocol,
      hostname: url.hostname,
      port: url.port === '' ? (protocol === 'amqps' ? 5671 : 5672) : Number(url.port),
      username: credentials.username,
      password: credentials.password,
      vhost,
    });
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

/** Builds the `onEvent` handler; tests pass a `readSecret` because Secrets Manager does not exist here. */
export function createTopologyHandler(readSecret: SecretReader = readSecretsManagerCredentials): (event: CloudFormationCustomResourceEvent) => Promise<TopologyResult> {
  return async (event) => {
    if (event.RequestType === 'Delete') {
      log.info('delete: leaving the queues on the broker', { physicalResourceId: event.PhysicalResourceId });
      return { PhysicalResourceId: event.PhysicalResourceId, Data: { Queues: '', Orphans: '' } };
    }
    const endpoint = property(event, 'BrokerEndpoint');
    const { handlers } = resolveConfig({ handlers: JSON.parse(property(event, 'Handlers')) as unknown });
    const credentials = await readSecret(property(event, 'SecretArn'));
    try {
      const { queues, orphans } = await declareAll(endpoint, credentials, handlers);
      return { PhysicalResourceId: TOPOLOGY_PHYSICAL_ID, Data: { Queues: queues.join(','), Orphans: orphans.join(',') } };
    } catch (error) {
      log.error('topology declaration failed', errorFields(error));
      throw error;
    }
  };
}

export const handler = createTopologyHandler();
