/**
 * What a handler author uses: `defineHandler`, the types of its options, message and context, and the errors a handler
 * throws. Everything else (the runner, the stack, tests) imports from the file that defines it.
 */
export { defineHandler, HANDLER_RUNTIME_DEFAULTS } from './defineHandler.js';
export type { BatchSummary, HandlerContext, HandlerFunctions, HandlerOptions, HandlerSettings, RmqHandler } from './defineHandler.js';
export type { BatchContext } from './invocation.js';
export type { ConnectionManagerOptions, QueryFn, QueryResult } from './db/ConnectionManager.js';
export type { HeaderValue, WarrenMessage } from './decode.js';
export type { InvocationContext, RmqBasicProperties, RmqEvent } from './event.js';
export { PayloadTooLargeError, PermanentError, PermanentInputError, ReplyNotAllowedError, WarrenError } from './errors.js';
export { checkLambdaBodySize, LAMBDA_MAX_BODY_BYTES, LAMBDA_PAYLOAD_LIMIT_BYTES } from './payloadLimit.js';
export type { ErrorClassifier, ErrorKind } from './classify.js';
export type { KeyFunction, MissingKeyPolicy } from './inbox.js';
export type { DeadLetter, DeadLetterSink } from './deadLetter/types.js';
export type { PublishFn, PublishProperties, ReplyFn, ReplyProperties } from './outbox/outbox.js';
export { REPLY_ERROR_HEADER, replyAddress } from './outbox/replies.js';
export type { OutgoingMessage, Publisher } from './outbox/Publisher.js';
export type { Logger, LogFields } from './logger.js';
/** Reading a variable of the handler's environment: `envValue` sees the handler's own `env` in a shared worker. */
export { ENV, envValue } from './env.js';
