/**
 * The request client's errors: each a `WarrenError` (runtime/errors.ts) naming the request (exchange, routing key,
 * correlation id) so a caller's log line says which request failed and why.
 */
import { WarrenError } from '../runtime/errors.js';
import type { Reply } from './Reply.js';

/** Which request an error is about. */
export interface RequestTarget {
  readonly exchange: string;
  readonly routingKey: string;
  readonly correlationId: string;
}

function describe(target: RequestTarget): string {
  return `request to exchange ${JSON.stringify(target.exchange)} with routing key ${JSON.stringify(target.routingKey)} (correlation id ${target.correlationId})`;
}

/** Base class of the errors a request rejects with; carries the request's exchange, key and correlation id. */
export class RequestError extends WarrenError {
  public readonly exchange: string;
  public readonly routingKey: string;
  public readonly correlationId: string;
  public constructor(target: RequestTarget, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RequestError';
    this.exchange = target.exchange;
    this.routingKey = target.routingKey;
    this.correlationId = target.correlationId;
  }
}

/** The request was answered with an error reply (header `warren-error`): the handler refused or dead-lettered it. */
export class RequestFailedError extends RequestError {
  /** The `warren-error` header: why the handler side failed the request. */
  public readonly reason: string;
  public readonly reply: Reply;
  public constructor(target: RequestTarget, reason: string, reply: Reply) {
    super(target, `The ${describe(target)} failed: ${reason}`);
    this.name = 'RequestFailedError';
    this.reason = reason;
    this.reply = reply;
  }
}

/** No reply came within `timeoutMs`. The request may still be applied later: retry with the same `messageId`. */
export class RequestTimeoutError extends RequestError {
  public readonly timeoutMs: number;
  public constructor(target: RequestTarget, timeoutMs: number) {
    super(target, `No reply to the ${describe(target)} within ${timeoutMs} ms. The handler may be slow, stopped, or may have ` +
      'dropped the request; it may still apply it later, so retry with the same messageId to be answered once (docs/request-and-reply.md)');
    this.name = 'RequestTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/** The broker returned the request (mandatory flag): no queue is bound for this routing key on that exchange. */
export class UnroutableRequestError extends RequestError {
  public readonly replyCode: number;
  public readonly replyText: string;
  public constructor(target: RequestTarget, replyCode: number, replyText: string) {
    super(target, `The ${describe(target)} was returned by RabbitMQ (${replyCode} ${replyText}): no queue is bound to that exchange for this ` +
      'key. Is the handler\'s topology declared (start the runner once, or deploy the stack)?');
    this.name = 'UnroutableRequestError';
    this.replyCode = replyCode;
    this.replyText = replyText;
  }
}

/** The exchange does not exist on the broker (checked before the first request to it). */
export class NoSuchExchangeError extends RequestError {
  public constructor(target: RequestTarget, options?: ErrorOptions) {
    super(target, `Cannot send the ${describe(target)}: RabbitMQ has no exchange ${JSON.stringify(target.exchange)} in this vhost. ` +
      'A handler\'s exchange is named after its `queue` in warren.config.ts; check the name and the vhost in the URL', options);
    this.name = 'NoSuchExchangeError';
  }
}

/**
 * The client's channel or connection closed (or `close()` was called) with the request pending. Its reply, if any,
 * is lost (direct reply-to delivers only to the channel that asked); retry with the same `messageId` on a new client.
 */
export class RequestAbortedError extends RequestError {
  public constructor(target: RequestTarget, why: string, options?: ErrorOptions) {
    super(target, `The ${describe(target)} was abandoned: ${why}. Its reply, if one comes, is lost; retry with the same messageId`, options);
    this.name = 'RequestAbortedError';
  }
}

/** Thrown by `request()` on a client that is closed (by `close()` or because its connection was lost). */
export class RequestClientClosedError extends WarrenError {
  public constructor(why: string) {
    super(`The request client is closed (${why}); create a new one with RequestClient.connect()`);
    this.name = 'RequestClientClosedError';
  }
}
