/**
 * Reaching the broker from the stack's functions: right after the broker turns RUNNING its listener may refuse or stall
 * connections for a while, so each connect has a timeout (`connectTimeoutMs`) and is retried with capped exponential
 * backoff until `retryForMs` has passed. Used by the topology, shard-drain and broker-user resources.
 */
import { backoffDelay, sleep } from '../../runtime/backoff.js';
import { WarrenError } from '../../runtime/errors.js';
import { createLogger, errorFields } from '../../runtime/logger.js';
import type { BrokerCredentials } from '../../runtime/amqp/brokerSecret.js';

const log = createLogger({ component: 'topology-resource' });

export interface ConnectRetryOptions {
  /** Give up on one connect attempt after this long (TCP + TLS + AMQP handshake). @default 10_000 */
  readonly connectTimeoutMs?: number;
  /** Keep retrying until this much time has passed since the first attempt. @default 120_000 */
  readonly retryForMs?: number;
  /** First backoff ceiling; doubles per attempt up to `maxDelayMs`. @default 1_000 */
  readonly baseDelayMs?: number;
  /** @default 15_000 */
  readonly maxDelayMs?: number;
}

export const BROKER_CONNECT_DEFAULTS = { connectTimeoutMs: 10_000, retryForMs: 120_000, baseDelayMs: 1_000, maxDelayMs: 15_000 } as const;

/**
 * `connect()` with a timeout per attempt and capped exponential backoff (full jitter) between attempts, until
 * `retryForMs` has passed; then throws the last error. A refused login (403) is not retried: it will not heal.
 */
export async function connectWithRetry<T>(connect: (timeoutMs: number) => Promise<T>, what: string, options: ConnectRetryOptions = {}): Promise<T> {
  const o = { ...BROKER_CONNECT_DEFAULTS, ...options };
  const started = Date.now();
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await connect(o.connectTimeoutMs);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/ACCESS_REFUSED|403/.test(message)) throw error;
      const delay = backoffDelay(attempt, o.baseDelayMs, o.maxDelayMs);
      if (Date.now() - started + delay > o.retryForMs) {
        throw new WarrenError(`Could not connect to ${what} within ${o.retryForMs} ms (${attempt + 1} attempts): ${message}`, { cause: error });
      }
      log.warn('connect failed; retrying', { target: what, attempt: attempt + 1, delayMs: delay, ...errorFields(error) });
      await sleep(delay);
    }
  }
}

/** Creates `vhost` through the RabbitMQ management API (idempotent PUT) and grants `username` full permissions on it. */
export async function ensureVhost(consoleUrl: string, credentials: BrokerCredentials, vhost: string, options: ConnectRetryOptions = {}): Promise<void> {
  const auth = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  const base = consoleUrl.replace(/\/$/, '');
  const put = async (path: string, body: unknown): Promise<void> => {
    await connectWithRetry(async (timeoutMs) => {
      const response = await fetch(`${base}${path}`, {
        method: 'PUT',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (response.status === 401 || response.status === 403) throw new WarrenError(`management API refused ${path} (HTTP ${response.status}, 403): the broker user needs the administrator tag`);
      if (!response.ok) throw new WarrenError(`management API answered HTTP ${response.status} to PUT ${path}: ${(await response.text()).slice(0, 200)}`);
    }, `the management API at ${base}`, options);
  };
  const v = encodeURIComponent(vhost);
  await put(`/api/vhosts/${v}`, { description: 'Warren' });
  await put(`/api/permissions/${v}/${encodeURIComponent(credentials.username)}`, { configure: '.*', write: '.*', read: '.*' });
}
