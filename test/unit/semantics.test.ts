import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { classifyError, explainError } from '../../runtime/classify.js';
import { HANDLER_RUNTIME_DEFAULTS } from '../../runtime/defineHandler.js';
import { decodeEvent } from '../../runtime/decode.js';
import { toSqsMessage } from '../../runtime/deadLetter/SqsSink.js';
import { ConnectionLostError, DecodeError, MissingMessageKeyError, PermanentError, PermanentInputError, SchemaValidationError } from '../../runtime/errors.js';
import { messageKey } from '../../runtime/inbox.js';
import { validateBody } from '../../runtime/validate.js';
import { toRmqEvent } from '../../runtime/toRmqEvent.js';

function message(body: string, messageId?: string) {
  const [m] = decodeEvent(toRmqEvent('q.0', '/', [{ content: Buffer.from(body), fields: { redelivered: false } as never, properties: { headers: {}, ...(messageId === undefined ? {} : { messageId }) } as never }]));
  return m!;
}

describe('Function: classifyError()', () => {
  it('sorts errors by the documented defaults, unknown ones as transient', () => {
    expect(classifyError(new PermanentError('x'))).toBe('permanent');
    expect(classifyError(new PermanentInputError('f', 'x'))).toBe('permanent');
    expect(classifyError(new SchemaValidationError([]))).toBe('permanent');
    expect(classifyError(new DecodeError('body', 'x'))).toBe('permanent');
    expect(classifyError(new MissingMessageKeyError())).toBe('permanent');
    expect(classifyError(new ConnectionLostError('x'))).toBe('transient');
    expect(classifyError({ code: 'ER_LOCK_DEADLOCK' })).toBe('transient');
    expect(classifyError({ code: 'ER_LOCK_WAIT_TIMEOUT' })).toBe('transient');
    expect(classifyError(new TypeError('a bug'))).toBe('transient');
  });

  it('lets a handler decide first', () => {
    expect(classifyError(new TypeError('x'), () => 'permanent')).toBe('permanent');
    expect(classifyError(new PermanentError('x'), () => undefined)).toBe('permanent');
  });

  it('tells a known transient MySQL code from an unknown error that is transient only by default', () => {
    for (const code of ['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'ER_CON_COUNT_ERROR', 'ER_QUERY_INTERRUPTED']) {
      expect(explainError(Object.assign(new Error(code), { code }))).toEqual({ kind: 'transient', rule: 'transient-mysql-code' });
    }
    // a MySQL error outside the list (a bug in the SQL) and a plain bug: transient, but only by the default rule
    expect(explainError(Object.assign(new Error('syntax'), { code: 'ER_PARSE_ERROR', errno: 1064 }))).toEqual({ kind: 'transient', rule: 'unknown-default' });
    expect(explainError(new TypeError('a bug'))).toEqual({ kind: 'transient', rule: 'unknown-default' });
    expect(explainError(new ConnectionLostError('x'))).toEqual({ kind: 'transient', rule: 'connection' });
    expect(explainError(new DecodeError('body', 'x'))).toEqual({ kind: 'permanent', rule: 'permanent-error' });
    expect(explainError(new TypeError('x'), () => 'permanent')).toEqual({ kind: 'permanent', rule: 'custom' });
  });
});

describe('Function: messageKey()', () => {
  it('returns null for a message without a key under "process" (at-least-once, no inbox claim)', () => {
    expect(messageKey(message('{}'), undefined, 'process')).toBeNull();
    expect(messageKey(message('{}', 'm-1'), undefined, 'process')).toBe('m-1');
  });

  it('uses message_id, then the key function, then the missing-key policy', () => {
    expect(messageKey(message('{}', 'm-1'), undefined, 'dead-letter')).toBe('m-1');
    expect(messageKey(message('{"id":7}', 'm-1'), (m) => String((m.body as { id: number }).id), 'dead-letter')).toBe('7');
    expect(() => messageKey(message('{}'), undefined, 'dead-letter')).toThrow(MissingMessageKeyError);
    const hashed = messageKey(message('{"a":1}'), undefined, 'hash-body');
    expect(hashed).toMatch(/^body-sha256:[0-9a-f]{64}$/);
    expect(messageKey(message('{"a":1}'), undefined, 'hash-body')).toBe(hashed);
  });

  it('hashes keys longer than the inbox column', () => {
    expect(messageKey(message('{}', 'x'.repeat(300)), undefined, 'dead-letter')).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('Function: validateBody()', () => {
  it('returns the parsed value or names every failing field', async () => {
    const schema = z.object({ orderId: z.string(), quantity: z.number().int().positive() });
    await expect(validateBody(schema, { orderId: 'a', quantity: 2 })).resolves.toEqual({ orderId: 'a', quantity: 2 });
    const error = await validateBody(schema, { quantity: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaValidationError);
    expect((error as SchemaValidationError).issues.map((i) => i.path)).toEqual(['orderId', 'quantity']);
  });
});

describe('Function: toSqsMessage()', () => {
  it('keeps within the ten attributes SQS allows', () => {
    const { attributes } = toSqsMessage({
      handler: 'h', sourceQueue: 'q.0', vhost: '/', messageKey: 'k', data: Buffer.from('x'),
      properties: { contentType: null, contentEncoding: null, headers: null, deliveryMode: null, priority: null, correlationId: null, replyTo: null, expiration: null, messageId: 'k', timestamp: null, type: null, userId: null, appId: null, clusterId: null, bodySize: 1 },
      error: { name: 'E', message: '', kind: 'permanent' }, deliveries: 2, deadLetteredAt: 'now',
    });
    expect(Object.keys(attributes).sort()).toEqual([
      'warren.bodyEncoding', 'warren.deadLetteredAt', 'warren.deliveries', 'warren.errorClass', 'warren.errorKind',
      'warren.errorMessage', 'warren.handler', 'warren.messageKey', 'warren.properties', 'warren.sourceQueue',
    ]);
    expect(attributes['warren.errorMessage']?.StringValue).toBe(' '); // SQS rejects empty strings
    expect(attributes['warren.deadLetteredAt']?.StringValue).toBe('now');
  });
});

describe('Constant: HANDLER_RUNTIME_DEFAULTS', () => {
  it('pins every default of defineHandler()', () => {
    expect(HANDLER_RUNTIME_DEFAULTS).toEqual({ inbox: true, onMissingKey: 'process', attempts: 3, maxDeliveries: 5, retryBackoffBaseMs: 50, retryBackoffMaxMs: 1_000, outboxLeftoverCheckMs: 10_000 });
  });
});

describe('Constant: RELAY_DEFAULTS', () => {
  it('pins the local outbox relay defaults', async () => {
    const { RELAY_DEFAULTS } = await import('../../local/broker/OutboxRelay.js');
    expect(RELAY_DEFAULTS).toEqual({ intervalMs: 1_000, minAgeMs: 2_000, afterBatchMs: 1_500 });
  });
});

describe('Function: resolveHandlerOptions()', () => {
  it('rejects an unknown option, a missing or double handler function, and out-of-range values, naming the option', async () => {
    const { resolveHandlerOptions } = await import('../../runtime/handlerOptions.js');
    const handle = async () => undefined;
    expect(() => resolveHandlerOptions({ handle, atempts: 3 } as never)).toThrow('Invalid config at "defineHandler({ atempts })": unknown option; expected one of handle, handleBatch, name, schema, inbox, key, onMissingKey, attempts, maxDeliveries, retryBackoffBaseMs, retryBackoffMaxMs, classify, deadLetter, connection, publisher, outboxLeftoverCheckMs');
    expect(() => resolveHandlerOptions({} as never)).toThrow('Invalid config at "defineHandler({ handle })": expected exactly one of handle(message, ctx) and handleBatch(messages, ctx)');
    expect(() => resolveHandlerOptions({ handle, attempts: 0 })).toThrow('Invalid config at "defineHandler({ attempts })": expected a whole number >= 1, received 0');
    expect(() => resolveHandlerOptions({ handle, onMissingKey: 'skip' as never })).toThrow(`Invalid config at "defineHandler({ onMissingKey })": expected 'process', 'dead-letter', 'hash-body', received "skip"`);
    expect(resolveHandlerOptions({ handle, attempts: undefined })).toMatchObject({ attempts: 3, onMissingKey: 'process' });
  });
});
