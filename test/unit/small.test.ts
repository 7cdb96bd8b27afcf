import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../runtime/backoff.js';
import { createLogger, redactUrl } from '../../runtime/logger.js';
import { isConnectionError, isTooManyConnections } from '../../runtime/db/mysqlErrors.js';
import { prettyLine } from '../../local/ops/Console.js';
import { urlForVhost } from '../../runtime/amqp/amqpUrl.js';

describe('Function: backoffDelay()', () => {
  it('grows exponentially up to the cap, with full jitter', () => {
    expect(backoffDelay(0, 100, 1_000, () => 1)).toBe(100);
    expect(backoffDelay(3, 100, 1_000, () => 1)).toBe(800);
    expect(backoffDelay(10, 100, 1_000, () => 1)).toBe(1_000);
    expect(backoffDelay(10, 100, 1_000, () => 0)).toBe(0);
  });
});

describe('Function: redactUrl()', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactUrl('mysql://app:hunter2@db:3306/x')).toBe('mysql://app:***@db:3306/x');
    expect(redactUrl('amqp://guest@host')).toBe('amqp://guest@host');
    expect(redactUrl('::not a url')).toBe('<unparseable url>');
  });
});

describe('Function: createLogger()', () => {
  it('writes one JSON line per entry with the child fields, and honours the level', () => {
    const lines: string[] = [];
    const log = createLogger({ handler: 'orders' }, { level: 'info', sink: (l) => lines.push(l) }).child({ messageId: 'm1' });
    log.debug('hidden');
    log.warn('shown', { attempt: 2 });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', msg: 'shown', handler: 'orders', messageId: 'm1', attempt: 2 });
  });
});

describe('Function: isConnectionError()', () => {
  it('recognises fatal and connection-loss errors but not statement errors', () => {
    expect(isConnectionError({ fatal: true, code: 'X' })).toBe(true);
    expect(isConnectionError({ code: 'PROTOCOL_CONNECTION_LOST' })).toBe(true);
    expect(isConnectionError(new Error("Can't add new command when connection is in closed state"))).toBe(true);
    expect(isConnectionError({ code: 'ER_DUP_ENTRY', errno: 1062 })).toBe(false);
    expect(isTooManyConnections({ code: 'ER_CON_COUNT_ERROR' })).toBe(true);
  });
});

describe('Function: prettyLine()', () => {
  it('renders a JSON log line for people and passes other text through', () => {
    const line = prettyLine('{"time":"2026-01-01T10:11:12.000Z","level":"warn","msg":"hello","a":1}', 'orders.0');
    expect(line).toContain('10:11:12');
    expect(line).toContain('[orders.0] hello');
    expect(line).toContain('a=1');
    expect(prettyLine('plain text')).toBe('plain text');
  });
});

describe('Function: urlForVhost()', () => {
  it('puts the vhost in the path the way amqplib reads it', () => {
    expect(urlForVhost('amqp://u:p@h:5672', '/')).toBe('amqp://u:p@h:5672');
    expect(urlForVhost('amqp://u:p@h:5672/', 'prod/eu')).toBe('amqp://u:p@h:5672/prod%2Feu');
  });
});
