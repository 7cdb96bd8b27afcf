/**
 * Asks a Warren handler and waits for its answer, from code outside handlers (services, scripts, tests). One AMQP
 * connection and one channel per client, many requests in flight, replies over RabbitMQ's direct reply-to
 * (RabbitMQ docs, "Direct Reply-to": consume the pseudo-queue `amq.rabbitmq.reply-to` in no-ack mode on the channel
 * that publishes, before publishing; replies reach only that channel while it is open).
 *
 * ```ts
 * import { RequestClient, RequestFailedError } from './client/index.js';
 *
 * const client = await RequestClient.connect({ url: process.env.AMQP_URL });
 * try {
 *   const reply = await client.request('orders', 'o-1', { orderId: 'o-1', sku: 'sku-1', quantity: 2 }, { timeoutMs: 5_000, messageId: 'o-1' });
 *   console.log(reply.json(), `${reply.roundTripMs.toFixed(1)} ms`);
 * } catch (error) {
 *   if (error instanceof RequestFailedError) console.error('refused:', error.reason);
 *   else throw error;
 * } finally {
 *   await client.close();
 * }
 * ```
 * Never call it inside a handler: waiting would hold the handler's transaction and row locks open
 * (docs/request-and-reply.md, "Handler to handler").
 */
import { randomUUID } from 'node:crypto';
import amqp, { type ChannelModel, type ConfirmChannel, type ConsumeMessage, type Message } from 'amqplib';
import { ENV } from '../runtime/env.js';
import { ConfigError } from '../runtime/errors.js';
import { DIRECT_REPLY_TO } from '../runtime/outbox/replies.js';
import { checkLambdaBodySize } from '../runtime/payloadLimit.js';
import {
  NoSuchExchangeError, RequestAbortedError, RequestClientClosedError, RequestFailedError, RequestTimeoutError,
  UnroutableRequestError, type RequestTarget,
} from './errors.js';
import { Reply, type ReceivedReplyProperties } from './Reply.js';

export { DIRECT_REPLY_TO };

/** Every default of the client, in one place (pinned by test/unit/requestClient.test.ts). */
export const REQUEST_CLIENT_DEFAULTS = {
  url: 'amqp://guest:guest@127.0.0.1:5672',
  timeoutMs: 30_000,
} as const;

export interface RequestClientOptions {
  /** The broker (and vhost) to ask. @default process.env.AMQP_URL, else `amqp://guest:guest@127.0.0.1:5672` */
  readonly url?: string;
  /** A request's timeout when its call sets none, in ms. @default 30_000 */
  readonly timeoutMs?: number;
}

export interface RequestOptions {
  /** How long to wait for the reply, in ms. @default the client's `timeoutMs` */
  readonly timeoutMs?: number;
  /**
   * The request's `message_id`, which Warren's inbox keys on when the handler has no `key` function. Set the same id
   * when you retry (after a timeout, or from a new client): the handler applies the request once and answers the
   * retry with the stored reply. @default a new random id per call (a retry is then a new request)
   */
  readonly messageId?: string;
  /** Extra AMQP headers. @default none */
  readonly headers?: Readonly<Record<string, string | number | boolean>>;
}

interface Pending {
  readonly target: RequestTarget;
  readonly startedAt: number;
  readonly timer: NodeJS.Timeout;
  readonly resolve: (reply: Reply) => void;
  readonly reject: (error: Error) => void;
}

export class RequestClient {
  private readonly connection: ChannelModel;
  private readonly defaultTimeoutMs: number;
  private readonly pendingRequests = new Map<string, Pending>();
  private readonly knownExchanges = new Set<string>(['']);
  private channel: Promise<ConfirmChannel> | undefined;
  private closedWhy: string | undefined;
  private closing: Promise<void> | undefined;
  private unknown = 0;

  /** Connects to the broker; the reply consumer is started with the first request. */
  public static async connect(options: RequestClientOptions = {}): Promise<RequestClient> {
    const timeoutMs = options.timeoutMs ?? REQUEST_CLIENT_DEFAULTS.timeoutMs;
    checkTimeout(timeoutMs, 'RequestClientOptions.timeoutMs');
    const connection = await amqp.connect(options.url ?? process.env[ENV.amqpUrl] ?? REQUEST_CLIENT_DEFAULTS.url);
    return new RequestClient(connection, timeoutMs);
  }

  private constructor(connection: ChannelModel, timeoutMs: number) {
    this.connection = connection;
    this.defaultTimeoutMs = timeoutMs;
    connection.on('error', () => undefined); // the 'close' that follows carries the same error
    connection.on('close', (error?: Error) => {
      this.closedWhy ??= `the connection to RabbitMQ closed${error === undefined ? '' : `: ${error.message}`}`;
      this.abortAll(this.closedWhy);
    });
  }

  /** Requests waiting for their reply. */
  public get pending(): number {
    return this.pendingRequests.size;
  }

  /** Replies whose correlation id matched no pending request (late replies to timed-out requests, or strays); ignored. */
  public get unknownReplies(): number {
    return this.unknown;
  }

  /**
   * Publishes `body` to `exchange` with `routingKey` (a Buffer as is, anything else as JSON) and resolves with the
   * reply. Rejects with `RequestFailedError` (an error reply, `reason` = its `warren-error` header),
   * `RequestTimeoutError`, `UnroutableRequestError` (nothing bound for the key: at once, not after the timeout),
   * `NoSuchExchangeError`, `RequestAbortedError` (channel or connection closed, or `close()`), `PayloadTooLargeError`.
   */
  public async request(exchange: string, routingKey: string, body: unknown, options: RequestOptions = {}): Promise<Reply> {
    if (this.closedWhy !== undefined) throw new RequestClientClosedError(this.closedWhy);
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    checkTimeout(timeoutMs, 'RequestOptions.timeoutMs');
    const json = !Buffer.isBuffer(body);
    const text = json ? JSON.stringify(body) as string | undefined : undefined;
    if (json && text === undefined) throw new TypeError(`request body must be a Buffer or JSON-serializable, received ${typeof body}`);
    const content = Buffer.isBuffer(body) ? body : Buffer.from(text!);
    const correlationId = randomUUID();
    const target: RequestTarget = { exchange, routingKey, correlationId };
    checkLambdaBodySize(content, `the body of the request to exchange ${JSON.stringify(exchange)} (routing key ${JSON.stringify(routingKey)})`);
    await this.checkExchange(target);
    const channel = await this.openChannel();
    if (this.closedWhy !== undefined) throw new RequestClientClosedError(this.closedWhy);
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(correlationId, new RequestTimeoutError(target, timeoutMs)), timeoutMs);
      this.pendingRequests.set(correlationId, { target, startedAt: performance.now(), timer, resolve, reject });
      channel.publish(exchange, routingKey, content, {
        mandatory: true,
        persistent: true,
        ...(json ? { contentType: 'application/json' } : {}),
        correlationId,
        messageId: options.messageId ?? correlationId,
        replyTo: DIRECT_REPLY_TO,
        timestamp: Math.floor(Date.now() / 1000),
        headers: { ...options.headers },
      }, (error: unknown) => {
        // A nack: the broker did not take the request. (amqplib also calls this with "channel closed" when the
        // channel closes before the confirm; the channel's 'close' handler aborts it then, naming the cause.)
        if (error instanceof Error && error.message === 'message nacked') {
          this.settle(correlationId, new RequestAbortedError(target, 'RabbitMQ refused it (basic.nack)'));
        }
      });
    });
  }

  /** Rejects every pending request with `RequestAbortedError` and closes the connection. A second call is harmless. */
  public close(): Promise<void> {
    this.closing ??= (async () => {
      this.closedWhy ??= 'close() was called';
      this.abortAll(this.closedWhy);
      await this.connection.close().catch(() => undefined);
    })();
    return this.closing;
  }

  /** The channel that publishes and consumes the replies; a new one after the last one closed (e.g. a 404 on publish). */
  private openChannel(): Promise<ConfirmChannel> {
    this.channel ??= (async () => {
      const channel = await this.connection.createConfirmChannel();
      let cause = 'the channel closed';
      channel.on('error', (error: Error) => { cause = `the channel closed: ${error.message}`; });
      channel.on('close', () => {
        this.channel = undefined;
        // A publish to an exchange deleted since it was checked closes the channel: check again next time.
        this.knownExchanges.clear();
        this.knownExchanges.add('');
        // The connection's 'close' comes after its channels': wait a turn, so a lost connection is named as such.
        setImmediate(() => this.abortAll(this.closedWhy ?? cause));
      });
      channel.on('return', (message: Message) => this.onReturn(message));
      await channel.consume(DIRECT_REPLY_TO, (message) => this.onReply(message), { noAck: true });
      return channel;
    })();
    const opening = this.channel;
    opening.catch(() => { if (this.channel === opening) this.channel = undefined; });
    return opening;
  }

  /**
   * Checks (passively, on a channel of its own) that the exchange exists before the first request to it: a publish to
   * a missing exchange would close the shared channel and abort every request in flight with it.
   */
  private async checkExchange(target: RequestTarget): Promise<void> {
    if (this.knownExchanges.has(target.exchange)) return;
    const side = await this.connection.createChannel();
    side.on('error', () => undefined);
    try {
      await side.checkExchange(target.exchange);
      this.knownExchanges.add(target.exchange);
    } catch (error) {
      throw new NoSuchExchangeError(target, { cause: error });
    } finally {
      await side.close().catch(() => undefined);
    }
  }

  private onReply(message: ConsumeMessage | null): void {
    if (message === null) {
      this.abortAll('RabbitMQ cancelled the reply consumer');
      return;
    }
    const correlationId = stringOf(message.properties.correlationId);
    const pending = correlationId === undefined ? undefined : this.pendingRequests.get(correlationId);
    if (pending === undefined) {
      this.unknown += 1;
      return;
    }
    const reply = new Reply(message.content, propertiesOf(message), performance.now() - pending.startedAt);
    const reason = reply.error;
    this.settle(correlationId!, reason === undefined ? reply : new RequestFailedError(pending.target, reason, reply));
  }

  private onReturn(message: Message): void {
    const correlationId = stringOf(message.properties.correlationId);
    const pending = correlationId === undefined ? undefined : this.pendingRequests.get(correlationId);
    if (pending === undefined) return;
    const fields = message.fields as unknown as { readonly replyCode?: number; readonly replyText?: string };
    this.settle(correlationId!, new UnroutableRequestError(pending.target, fields.replyCode ?? 312, fields.replyText ?? 'NO_ROUTE'));
  }

  private settle(correlationId: string, outcome: Reply | Error): void {
    const pending = this.pendingRequests.get(correlationId);
    if (pending === undefined) return;
    this.pendingRequests.delete(correlationId);
    clearTimeout(pending.timer);
    if (outcome instanceof Reply) pending.resolve(outcome);
    else pending.reject(outcome);
  }

  private abortAll(why: string): void {
    for (const [correlationId, pending] of [...this.pendingRequests]) this.settle(correlationId, new RequestAbortedError(pending.target, why));
  }
}

function checkTimeout(value: number, field: string): void {
  if (!Number.isFinite(value) || value <= 0 || value > 2_147_483_647) {
    throw new ConfigError(field, `expected milliseconds above 0 and at most 2147483647, received ${String(value)}`);
  }
}

function stringOf(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

function propertiesOf(message: Message): ReceivedReplyProperties {
  const p = message.properties;
  const optional = (name: string, value: unknown) => (value === undefined || value === null ? {} : { [name]: value });
  return {
    ...optional('correlationId', stringOf(p.correlationId)),
    ...optional('messageId', stringOf(p.messageId)),
    ...optional('contentType', stringOf(p.contentType)),
    ...optional('contentEncoding', stringOf(p.contentEncoding)),
    ...optional('type', stringOf(p.type)),
    ...optional('appId', stringOf(p.appId)),
    ...optional('timestamp', typeof p.timestamp === 'number' ? p.timestamp : undefined),
    headers: { ...(p.headers ?? {}) },
  } as ReceivedReplyProperties;
}
