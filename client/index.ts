/**
 * The asking side of request and reply, for code outside handlers: services, scripts, tests, `npm run send --
 * --request` and the bench (docs/request-and-reply.md). Handlers answer with `ctx.reply` (runtime/) instead.
 */
export { DIRECT_REPLY_TO, REQUEST_CLIENT_DEFAULTS, RequestClient, type RequestClientOptions, type RequestOptions } from './RequestClient.js';
export { Reply, WARREN_ERROR_HEADER, type ReceivedReplyProperties } from './Reply.js';
export {
  NoSuchExchangeError, RequestAbortedError, RequestClientClosedError, RequestError, RequestFailedError, RequestTimeoutError,
  UnroutableRequestError, type RequestTarget,
} from './errors.js';
