/**
 * The CloudFormation custom resource (CDK Provider framework `onEvent` handler) that keeps the application broker
 * user: the user the MQ triggers, the handlers' `ctx.publish` and the outbox relay log in as, instead of the
 * broker's administrator. Set up by `lib/WarrenBrokerUser.ts`.
 *
 * Amazon MQ creates only the administrator (the `administrator` tag) with the broker; further users are added through
 * the RabbitMQ management API (Amazon MQ developer guide, "Simple authentication and authorization":
 * `PUT /api/users/<name>` with `{"password", "tags"}`, permissions per vhost). This resource does exactly that, as the
 * administrator:
 *
 *   Create, Update  PUT /api/users/<app user> {password, tags: ""}            (no management tag: no HTTP API, no UI)
 *                   PUT /api/permissions/<vhost>/<app user> {configure, write, read}   for each vhost (brokerPermissions.ts)
 *                   DELETE /api/permissions/<vhost>/<app user>                 for a vhost an Update no longer lists
 *   Delete          DELETE /api/users/<app user> (its permissions go with it); a user already gone is fine
 *
 * An Update keeps read on the shards it removes (`withRemovedShards`, brokerReadPermission.ts): their triggers are
 * deleted later, in the nested stacks' cleanup phase, and the shard-drain resource takes the name out then (fault 8).
 *
 * A Delete never fails (fault 9). It runs when the stack is deleted (the user goes with the broker, deleted right
 * after it: the broker is deleted after this resource, which depends on it through the topology resource), when the
 * user is renamed (the old user's Delete, in the cleanup phase) and in a rollback. When the management API cannot be
 * reached (the broker rebooting, or the network between the function and the broker already being torn down) it
 * retries for `deleteRetryMs` (a reboot is over by then in the usual case), then succeeds, logging the user it left:
 * while the stack is being deleted that user goes with the broker; otherwise delete it by hand
 * (`rabbitmqadmin delete user name=<user>`). A refused login or a missing secret is logged the same way.
 *
 * Every call is idempotent, so a repeated Create changes nothing. A user of that name that carries tags (an
 * administrator or someone's monitoring user) is not Warren's: Create refuses to take it over.
 *
 * Resource properties:
 *   ConsoleUrl      `https://host` (the management API)
 *   AdminSecretArn  the administrator's secret `{"username", "password"}` (never logged)
 *   AppSecretArn    the application user's secret `{"username", "password"}` (never logged)
 *   Permissions     JSON `VhostPermissions[]`
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { VhostPermissions } from '../../topology/brokerPermissions.js';
import { ConfigError, WarrenError } from '../../runtime/errors.js';
import { createLogger, errorFields } from '../../runtime/logger.js';
import { rememberSecret, scrubError } from '../../runtime/redact.js';
import { readSecretsManagerCredentials, type BrokerCredentials, type SecretReader } from '../../runtime/amqp/brokerSecret.js';
import { connectWithRetry, type ConnectRetryOptions } from './brokerConnect.js';
import { withRemovedShards } from './brokerReadPermission.js';

/** The defaults of the Delete's own retry (the function's timeout is 5 minutes). */
export const BROKER_USER_DELETE_DEFAULTS = { deleteRetryMs: 240_000 } as const;

/** The part of the Lambda context the Delete reads. */
export interface LambdaTime { readonly getRemainingTimeInMillis?: () => number }

export interface BrokerUserDeleteOptions {
  /** How long a Delete keeps trying an unreachable or failing management API before it succeeds anyway. @default 240_000 */
  readonly deleteRetryMs?: number;
}

export interface BrokerUserResult {
  readonly PhysicalResourceId: string;
  readonly Data: { readonly Username: string };
}

const log = createLogger({ component: 'broker-user-resource' });

/** The physical id names the user, so a new name makes CloudFormation create the new user and delete the old one. */
export function brokerUserPhysicalId(username: string): string {
  return `warren-broker-user:${username}`;
}

/** A small client of the RabbitMQ management API, authenticated as the administrator. */
export class ManagementApi {
  private readonly base: string;
  private readonly auth: string;

  public constructor(consoleUrl: string, admin: BrokerCredentials, private readonly retry: ConnectRetryOptions = {}) {
    this.base = consoleUrl.replace(/\/$/, '');
    this.auth = `Basic ${Buffer.from(`${admin.username}:${admin.password}`).toString('base64')}`;
  }

  /**
   * Sends one request; a request that does not reach the API (refused, timed out) is retried with backoff, an answer
   * is not. Returns the status (2xx or 404) and the parsed body.
   */
  public async request(method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const response = await connectWithRetry((timeoutMs) => fetch(`${this.base}${path}`, {
      method,
      headers: { authorization: this.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    }), `the management API at ${this.base}`, this.retry);
    const text = await response.text();
    if (response.status === 401 || response.status === 403) {
      throw new WarrenError(`management API refused ${method} ${path} (HTTP ${response.status}): the secret in AdminSecretArn must hold a user with the administrator tag`);
    }
    if (!response.ok && response.status !== 404) throw new WarrenError(`management API answered HTTP ${response.status} to ${method} ${path}: ${text.slice(0, 200)}`);
    let parsed: unknown;
    try { parsed = text === '' ? undefined : JSON.parse(text); } catch { parsed = text; }
    return { status: response.status, body: parsed };
  }
}

const users = (name: string) => `/api/users/${encodeURIComponent(name)}`;
const permissions = (vhost: string, name: string) => `/api/permissions/${encodeURIComponent(vhost)}/${encodeURIComponent(name)}`;

/** Creates or updates the application user and sets its permissions on each vhost; removes them from `dropVhosts`. */
export async function ensureBrokerAppUser(api: ManagementApi, app: BrokerCredentials, admin: BrokerCredentials, wanted: readonly VhostPermissions[], dropVhosts: readonly string[] = []): Promise<void> {
  if (app.username === admin.username) {
    throw new ConfigError('AppSecretArn', `the application user "${app.username}" is the administrator; give the application secret another username`);
  }
  const existing = await api.request('GET', users(app.username));
  if (existing.status === 200) {
    const tags = (existing.body as { tags?: unknown } | undefined)?.tags;
    const tagList = Array.isArray(tags) ? tags.join(',') : typeof tags === 'string' ? tags : '';
    if (tagList !== '') {
      throw new WarrenError(`broker user "${app.username}" already exists with tags "${tagList}": it is not Warren's application user (which has none); delete it or give the application secret another username`);
    }
  }
  await api.request('PUT', users(app.username), { password: app.password, tags: '' });
  for (const p of wanted) {
    const vhost = await api.request('GET', `/api/vhosts/${encodeURIComponent(p.vhost)}`);
    if (vhost.status === 404) throw new WarrenError(`vhost "${p.vhost}" does not exist on the broker; the topology resource creates it and must run first`);
    await api.request('PUT', permissions(p.vhost, app.username), { configure: p.configure, write: p.write, read: p.read });
  }
  const keep = new Set(wanted.map((p) => p.vhost));
  for (const vhost of dropVhosts.filter((v) => !keep.has(v))) await api.request('DELETE', permissions(vhost, app.username));
}

/** Deletes the application user (and so its permissions); a missing user is not an error. */
export async function deleteBrokerAppUser(api: ManagementApi, username: string, admin: BrokerCredentials): Promise<void> {
  if (username === admin.username) throw new ConfigError('AppSecretArn', `refusing to delete "${username}": it is the administrator`);
  await api.request('DELETE', users(username));
}

function property(event: CloudFormationCustomResourceEvent, name: string): string {
  const value: unknown = event.ResourceProperties[name];
  if (typeof value !== 'string' || value === '') throw new ConfigError(name, `missing custom resource property ${name}`);
  return value;
}

function parsePermissions(raw: unknown, field: string): VhostPermissions[] {
  let value: unknown;
  try { value = JSON.parse(typeof raw === 'string' ? raw : ''); } catch { value = undefined; }
  const ok = Array.isArray(value) && value.every((p) => typeof p === 'object' && p !== null
    && ['vhost', 'configure', 'write', 'read'].every((k) => typeof (p as Record<string, unknown>)[k] === 'string'));
  if (!ok) throw new ConfigError(field, `expected a JSON array of {"vhost", "configure", "write", "read"}, received ${JSON.stringify(raw)}`);
  return value as VhostPermissions[];
}

/** Deletes the user named by `physicalId`; never throws (see the file comment). */
async function deleteNeverFailing(event: CloudFormationCustomResourceEvent & { PhysicalResourceId: string }, readSecret: SecretReader, retry: ConnectRetryOptions, options: BrokerUserDeleteOptions, context?: LambdaTime): Promise<BrokerUserResult> {
  const username = event.PhysicalResourceId.replace(/^warren-broker-user:/, '');
  const result = { PhysicalResourceId: event.PhysicalResourceId, Data: { Username: username } };
  if (username === event.PhysicalResourceId || username === '') return result; // not a user this resource created
  // Give up in time to answer: a Delete killed at the function's timeout would be answered FAILED by the framework.
  const remaining = context?.getRemainingTimeInMillis?.();
  const budget = Math.min(options.deleteRetryMs ?? BROKER_USER_DELETE_DEFAULTS.deleteRetryMs, remaining === undefined ? Infinity : remaining - Math.min(15_000, remaining / 4));
  const giveUpAt = Date.now() + Math.max(0, budget);
  for (let attempt = 1; ; attempt += 1) {
    try {
      const admin = await readSecret(property(event, 'AdminSecretArn'));
      rememberSecret(admin.password); // whatever reader gave it: no log line or error shows it (runtime/redact.ts)
      const left = giveUpAt - Date.now();
      const api = new ManagementApi(property(event, 'ConsoleUrl'), admin, {
        ...retry,
        retryForMs: Math.max(500, Math.min(retry.retryForMs ?? 60_000, left)),
        connectTimeoutMs: Math.max(500, Math.min(retry.connectTimeoutMs ?? 10_000, left)),
      });
      await deleteBrokerAppUser(api, username, admin);
      log.info('application user deleted', { username });
      return result;
    } catch (error) {
      const refused = error instanceof ConfigError || /HTTP 40[13]/.test(error instanceof Error ? error.message : '');
      if (refused || Date.now() >= giveUpAt) {
        log.error('could not delete the application user; the Delete succeeds anyway. If the stack is being deleted, the user goes with the broker; otherwise delete it by hand: rabbitmqadmin delete user name=<user>', { username, attempts: attempt, ...errorFields(error) });
        return result;
      }
      log.warn('deleting the application user failed; retrying (the broker may be rebooting)', { username, attempt, ...errorFields(error) });
      await new Promise((r) => setTimeout(r, Math.min(5_000, Math.max(0, giveUpAt - Date.now()))));
    }
  }
}

/** Builds the `onEvent` handler; tests pass a `readSecret` because Secrets Manager does not exist here. */
export function createBrokerUserHandler(readSecret: SecretReader = readSecretsManagerCredentials, retry: ConnectRetryOptions = {}, deleteOptions: BrokerUserDeleteOptions = {}): (event: CloudFormationCustomResourceEvent, context?: LambdaTime) => Promise<BrokerUserResult> {
  return async (event, context) => {
    if (event.RequestType === 'Delete') return deleteNeverFailing(event, readSecret, retry, deleteOptions, context);
    try {
      const admin = await readSecret(property(event, 'AdminSecretArn'));
      rememberSecret(admin.password); // whatever reader gave it: no log line or error shows it (runtime/redact.ts)
      const api = new ManagementApi(property(event, 'ConsoleUrl'), admin, retry);
      const app = await readSecret(property(event, 'AppSecretArn'));
      rememberSecret(app.password);
      const sameUser = event.RequestType === 'Update' && event.PhysicalResourceId === brokerUserPhysicalId(app.username);
      const oldPermissions = sameUser ? parsePermissions(event.OldResourceProperties.Permissions ?? '[]', 'OldResourceProperties.Permissions') : [];
      // Read stays on the shards this update removes until their triggers are gone (fault 8, brokerReadPermission.ts).
      const wanted = withRemovedShards(parsePermissions(event.ResourceProperties.Permissions, 'Permissions'), oldPermissions);
      await ensureBrokerAppUser(api, app, admin, wanted, oldPermissions.map((p) => p.vhost));
      log.info('application user ready', { username: app.username, vhosts: wanted.map((p) => p.vhost) });
      return { PhysicalResourceId: brokerUserPhysicalId(app.username), Data: { Username: app.username } };
    } catch (error) {
      log.error('broker user resource failed', { requestType: event.RequestType, ...errorFields(error) });
      throw scrubError(error); // the passwords it PUTs must not reach the runtime's error log or the Reason
    }
  };
}

export const handler = createBrokerUserHandler();
