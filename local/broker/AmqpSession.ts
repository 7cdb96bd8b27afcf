/**
 * A RabbitMQ connection that comes back: on an unexpected close it tells its owner (`onLost`), reconnects with capped,
 * jittered backoff, and hands the new connection to `onConnected` (which redeclares topology and consumers).
 */
import amqp, { type ChannelModel } from 'amqplib';
import { backoffDelay, sleep } from '../../runtime/backoff.js';
import { errorFields, redactUrl, type Logger } from '../../runtime/logger.js';
import { BrokerAccessRefusedError, BrokerUnavailableError } from '../errors.js';

export const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

/** The defaults of `AmqpSessionOptions`. */
export const AMQP_SESSION_DEFAULTS = {
  startAttempts: 5,
  heartbeatSeconds: 10,
  connectTimeoutMs: 10_000,
  /** Start-up gives up after this many timed-out handshakes (a wedged broker does not recover by itself). */
  handshakeTimeoutAttempts: 2,
} as const;

export interface AmqpSessionOptions {
  readonly url: string;
  readonly name: string;
  readonly log: Logger;
  readonly onConnected: (connection: ChannelModel) => Promise<void>;
  readonly onLost: () => void;
  /** @default 5 */
  readonly startAttempts?: number;
  /** @default 10 */
  readonly heartbeatSeconds?: number;
  /** Longest wait for the TCP connect and the AMQP handshake of one attempt. @default 10_000 */
  readonly connectTimeoutMs?: number;
}

/** amqplib's error when the broker refused the user name or password (a 403 in the handshake). */
const isAccessRefused = (error: unknown): boolean => error instanceof Error && /ACCESS[-_]REFUSED/.test(error.message);
/** amqplib's error when `timeout` passed before the connection was open. */
const isHandshakeTimeout = (error: unknown): boolean => error instanceof Error && error.message === 'connect ETIMEDOUT';

export class AmqpSession {
  private connection: ChannelModel | undefined;
  private closing = false;
  public reconnects = 0;

  public constructor(private readonly options: AmqpSessionOptions) {}

  public get connected(): boolean { return this.connection !== undefined; }

  private get connectTimeoutMs(): number { return this.options.connectTimeoutMs ?? AMQP_SESSION_DEFAULTS.connectTimeoutMs; }

  /** Connects (a few attempts) and runs `onConnected`; throws `BrokerUnavailableError` when RabbitMQ is not there. */
  public async start(): Promise<void> {
    const attempts = this.options.startAttempts ?? AMQP_SESSION_DEFAULTS.startAttempts;
    let timeouts = 0;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.open();
        return;
      } catch (error) {
        if (isAccessRefused(error)) throw new BrokerAccessRefusedError(redactUrl(this.options.url), { cause: error });
        if (isHandshakeTimeout(error)) timeouts += 1;
        if (attempt >= attempts || timeouts >= AMQP_SESSION_DEFAULTS.handshakeTimeoutAttempts) {
          throw new BrokerUnavailableError(redactUrl(this.options.url), { cause: error, handshakeTimedOut: timeouts > 0, timeoutMs: this.connectTimeoutMs });
        }
        await sleep(backoffDelay(attempt, 200, 2_000));
      }
    }
  }

  public async close(): Promise<void> {
    this.closing = true;
    const connection = this.connection;
    this.connection = undefined;
    await connection?.close().catch(() => undefined);
  }

  private async open(): Promise<void> {
    const url = new URL(this.options.url);
    if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', String(this.options.heartbeatSeconds ?? AMQP_SESSION_DEFAULTS.heartbeatSeconds));
    const connection = await amqp.connect(url.toString(), { clientProperties: { connection_name: this.options.name }, timeout: this.connectTimeoutMs });
    connection.on('error', (error: Error) => this.options.log.warn('rabbitmq connection error', errorFields(error)));
    connection.once('close', () => this.onClose(connection));
    try {
      await this.options.onConnected(connection);
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
    this.connection = connection;
  }

  private onClose(connection: ChannelModel): void {
    if (this.closing || (this.connection !== connection && this.connection !== undefined)) return;
    if (this.connection !== connection) return; // failed during open(); start()/reconnect() handles it
    this.connection = undefined;
    this.options.log.warn('rabbitmq connection lost; reconnecting (unacked messages go back to their queues)');
    this.options.onLost();
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    for (let attempt = 0; !this.closing; attempt += 1) {
      await sleep(backoffDelay(attempt, 250, 5_000) + 100);
      if (this.closing) return;
      try {
        await this.open();
        this.reconnects += 1;
        this.options.log.info('rabbitmq reconnected; consuming again', { attempts: attempt + 1 });
        return;
      } catch (error) {
        this.options.log.warn('rabbitmq reconnect failed; retrying', {
          attempt: attempt + 1, ...errorFields(error),
          ...(isHandshakeTimeout(error) ? { hint: 'the broker accepts connections but does not answer: it may be out of file handles (docs/operations.md, "Troubleshooting")' } : {}),
        });
      }
    }
  }
}
