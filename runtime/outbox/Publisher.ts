/**
 * The process's one RabbitMQ publishing connection (like its one MySQL connection): opened lazily with a bounded
 * connect time, a confirm channel, and forgotten when it closes so the next flush reconnects (after a broker restart).
 *
 * Where it connects, in order: WARREN_PUBLISH_AMQP_URL (the local runner sets it); WARREN_AMQP_ENDPOINT +
 * WARREN_AMQP_SECRET_ARN (+ WARREN_AMQP_VHOST) on AWS, the credentials read from Secrets Manager.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ChannelModel, ConfirmChannel, Options } from 'amqplib';
import { WarrenError } from '../errors.js';
import { redactUrl } from '../logger.js';
import { urlForVhost } from '../amqp/amqpUrl.js';
import { onReturnedMessage } from './replies.js';
import { ENV, envValue, scopedEnv } from '../env.js';
import { processSingleton } from '../processRegistry.js';

export interface OutgoingMessage {
  readonly exchange: string;
  readonly routingKey: string;
  readonly body: Buffer;
  readonly properties: Options.Publish;
}

/** Publishes with publisher confirms; resolves when the broker confirmed every message. */
export interface Publisher {
  readonly destination: string;
  publish(messages: readonly OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

export type UrlProvider = () => Promise<string>;

export class AmqpPublisher implements Publisher {
  private connection: ChannelModel | undefined;
  private channel: Promise<ConfirmChannel> | undefined;
  private lastUrl = '';

  /** `setup` runs on every new channel, e.g. to assert the queue a sink writes to. */
  public constructor(
    private readonly url: UrlProvider,
    private readonly connectTimeoutMs = 5_000,
    private readonly setup: (channel: ConfirmChannel) => Promise<unknown> = async () => undefined,
  ) {}

  public get destination(): string { return this.lastUrl === '' ? 'rabbitmq (not connected yet)' : redactUrl(this.lastUrl); }

  public async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const channel = await this.open();
    for (const m of messages) channel.publish(m.exchange, m.routingKey, m.body, m.properties);
    await channel.waitForConfirms();
  }

  public async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    this.channel = undefined;
    await connection?.close().catch(() => undefined);
  }

  private open(): Promise<ConfirmChannel> {
    this.channel ??= (async () => {
      const url = await this.url();
      this.lastUrl = url;
      const { default: amqp } = await import('amqplib');
      const connection = await amqp.connect(url, { timeout: this.connectTimeoutMs });
      connection.on('error', () => undefined);
      connection.once('close', () => { if (this.connection === connection) { this.connection = undefined; this.channel = undefined; } });
      this.connection = connection;
      const channel = await connection.createConfirmChannel();
      channel.on('error', () => undefined); // e.g. 404 for a missing exchange: the channel closes, the flush fails
      // A mandatory message (a reply) that reached no queue comes back before its confirm: dropped, logged, counted.
      channel.on('return', onReturnedMessage);
      channel.once('close', () => { this.channel = undefined; });
      await this.setup(channel);
      return channel;
    })().catch((error: unknown) => { this.channel = undefined; throw error; });
    return this.channel;
  }
}

/** The AMQP URL for publishing, from the environment (see the file comment). */
export async function publishUrlFromEnv(env: NodeJS.ProcessEnv = scopedEnv()): Promise<string> {
  const local = envValue(ENV.publishAmqpUrl, env);
  if (local !== undefined) return local;
  const endpoint = envValue(ENV.amqpEndpoint, env);
  const secretArn = envValue(ENV.amqpSecretArn, env);
  if (endpoint !== undefined && secretArn !== undefined) {
    const { readSecretsManagerCredentials } = await import('../amqp/brokerSecret.js');
    const { username, password } = await readSecretsManagerCredentials(secretArn);
    const url = new URL(endpoint);
    url.username = encodeURIComponent(username);
    url.password = encodeURIComponent(password);
    return urlForVhost(url.toString(), envValue(ENV.amqpVhost, env) ?? '/');
  }
  throw new WarrenError('ctx.publish() and ctx.reply() need a broker to publish to (a handler that replies needs `replies: true` in warren.config.ts): set WARREN_PUBLISH_AMQP_URL (the local runner does), or WARREN_AMQP_ENDPOINT and WARREN_AMQP_SECRET_ARN (the CDK stack does)');
}

function publishers(): Map<string, Publisher> {
  return processSingleton('publishers', () => new Map<string, Publisher>());
}

function standIns(): AsyncLocalStorage<Publisher> {
  return processSingleton('publisherStandIn', () => new AsyncLocalStorage<Publisher>());
}

/**
 * Runs `fn` (an invocation) with `publisher` standing in for the process's publisher: `processPublisher()` returns it
 * there instead of one that connects to a broker. The handler test kit (testing/) records what a handler publishes
 * this way; nothing else sets it. A handler given its own `publisher` option keeps it.
 */
export function runWithPublisher<T>(publisher: Publisher, fn: () => T): T {
  return standIns().run(publisher, fn);
}

/** The process's publisher for the current handler's broker and vhost (one per destination; see `env.ts`). */
export function processPublisher(): Publisher {
  const standIn = standIns().getStore();
  if (standIn !== undefined) return standIn;
  const env = scopedEnv();
  const key = [ENV.publishAmqpUrl, ENV.amqpEndpoint, ENV.amqpSecretArn, ENV.amqpVhost].map((n) => envValue(n, env) ?? '').join(' ');
  const all = publishers();
  let publisher = all.get(key);
  if (publisher === undefined) {
    publisher = new AmqpPublisher(() => publishUrlFromEnv(env));
    all.set(key, publisher);
  }
  return publisher;
}

export async function closeProcessPublisher(): Promise<void> {
  const all = [...publishers().values()];
  publishers().clear();
  await Promise.all(all.map((p) => p.close()));
}
