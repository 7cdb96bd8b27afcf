import { describe, expect, it } from 'vitest';
import { HANDLER_DEFAULTS, resolveConfig, RUNNER_DEFAULTS, shardQueues } from '../../config/config.js';
import { CONNECTION_DEFAULTS } from '../../runtime/db/ConnectionManager.js';
import { ConfigError } from '../../runtime/errors.js';
import { SHARD_DEFAULTS } from '../../local/broker/ShardConsumer.js';

const minimal = { handlers: [{ name: 'orders', entry: 'functions/orders.ts' }] };

function errorOf(raw: unknown): ConfigError {
  try {
    resolveConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('Function: resolveConfig()', () => {
  it('pins every default', () => {
    expect(HANDLER_DEFAULTS).toEqual({ export: 'handler', vhost: '/', batchSize: 100, batchingWindowSeconds: 0.5, concurrency: 1, timeoutSeconds: 60, deliveryLimit: 50, publishes: [], replies: false, repliesTo: [] });
    expect(RUNNER_DEFAULTS).toEqual({ shutdownTimeoutSeconds: 30, deadLetter: 'rabbitmq', inboxRetentionDays: 7, metricsPort: 9464, workers: 4, dedicated: {}, workerModel: 'thread', workerHeapMb: 1024, workerYoungGenerationMb: 192 });
    expect(CONNECTION_DEFAULTS).toEqual({ pingAfterIdleMs: 30_000, connectAttempts: 8, connectBackoffBaseMs: 100, connectBackoffMaxMs: 3_000, connectTimeoutMs: 10_000, statementTimeoutMs: 60_000, preparedStatements: false, implicitTransactions: false });
    expect(SHARD_DEFAULTS).toEqual({ retryBackoffBaseMs: 200, retryBackoffMaxMs: 5_000 });
    expect(resolveConfig(minimal)).toEqual({
      handlers: [{ name: 'orders', entry: 'functions/orders.ts', queue: 'orders', ...HANDLER_DEFAULTS }],
      migrations: [],
      runner: RUNNER_DEFAULTS,
    });
  });

  it('names the field, what was expected and what was received', () => {
    const error = errorOf({ handlers: [{ name: 'orders', entry: 'functions/orders.ts', batchSize: 0 }] });
    expect(error.field).toBe('handlers[0].batchSize');
    expect(error.message).toBe('Invalid config at "handlers[0].batchSize": expected a whole number from 1 to 10000, received 0');
  });

  it('rejects a typo in an option name and lists the allowed ones', () => {
    expect(errorOf({ handlers: [{ name: 'orders', entry: 'functions/orders.ts', concurency: 2 }] }).message).toMatch(
      /^Invalid config at "handlers\[0\]\.concurency": unknown option; allowed options are name, entry, export, queue/,
    );
  });

  it('rejects the Lambda limits it cannot honour', () => {
    expect(errorOf({ handlers: [{ name: 'a', entry: 'a.ts', batchingWindowSeconds: 301 }] }).field).toBe('handlers[0].batchingWindowSeconds');
    expect(errorOf({ handlers: [{ name: 'a', entry: 'a.ts', timeoutSeconds: 900 }] }).field).toBe('handlers[0].timeoutSeconds');
    expect(errorOf({ handlers: [{ name: 'a', entry: 'a.ts', concurrency: 1.5 }] }).field).toBe('handlers[0].concurrency');
    expect(errorOf({ handlers: [{ name: 'a', entry: 'a.ts', deliveryLimit: 0 }] }).message).toBe('Invalid config at "handlers[0].deliveryLimit": expected a whole number from 1 to 1000000, received 0');
    expect(errorOf({ handlers: [{ name: 'a', entry: 'a.ts', deliveryLimit: -1 }] }).field).toBe('handlers[0].deliveryLimit');
    expect(errorOf({ ...minimal, runner: { metricsPort: 70_000 } }).message).toBe('Invalid config at "runner.metricsPort": expected a whole number from 0 to 65535, received 70000');
  });

  it('accepts its own output again, so the CDK custom resource can re-validate resolved handlers', () => {
    const resolved = resolveConfig(minimal);
    expect(resolveConfig(resolved)).toEqual(resolved);
    expect(errorOf({ handlers: [{ name: 'a', entry: 'a.ts', batchingWindowSeconds: 0.2 }] }).message).toContain('expected a whole number from 0 to 300, received 0.2');
  });

  it('validates the pool size and dedicated workers, naming an unknown handler', () => {
    expect(resolveConfig({ ...minimal, runner: { workers: 8, dedicated: { orders: 2 } } }).runner).toMatchObject({ workers: 8, dedicated: { orders: 2 } });
    expect(errorOf({ ...minimal, runner: { workers: 0 } }).message).toBe('Invalid config at "runner.workers": expected a whole number from 1 to 256, received 0');
    expect(errorOf({ ...minimal, runner: { dedicated: { order: 2 } } }).message).toBe('Invalid config at "runner.dedicated.order": no handler is called "order"; use one of orders');
    expect(errorOf({ ...minimal, runner: { dedicated: { orders: 0 } } }).message).toBe('Invalid config at "runner.dedicated.orders": expected a whole number from 1 to 64, received 0');
    expect(errorOf({ ...minimal, runner: { dedicated: 2 } }).field).toBe('runner.dedicated');
    expect(errorOf({ ...minimal, runner: { workerModel: 'threads' } }).message).toBe('Invalid config at "runner.workerModel": expected "process" or "thread", received "threads"');
    expect(errorOf({ ...minimal, runner: { workerHeapMb: 16 } }).message).toBe('Invalid config at "runner.workerHeapMb": expected a whole number from 32 to 65536, received 16');
    expect(errorOf({ ...minimal, runner: { workerYoungGenerationMb: 8192 } }).message).toBe('Invalid config at "runner.workerYoungGenerationMb": expected a whole number from 0 to 4096, received 8192');
  });

  it('rejects two handlers with the same name or the same queue', () => {
    expect(errorOf({ handlers: [{ name: 'a', entry: 'a.ts' }, { name: 'a', entry: 'b.ts', queue: 'b' }] }).message).toContain('"a" is already used by handlers[0]');
    expect(errorOf({ handlers: [{ name: 'a', entry: 'a.ts', queue: 'q' }, { name: 'b', entry: 'b.ts', queue: 'q' }] }).field).toBe('handlers[1].queue');
  });

  it('rejects a missing handler list, a bad name and a bad entry', () => {
    expect(errorOf({}).field).toBe('handlers');
    expect(errorOf({ handlers: [{ name: 'Orders', entry: 'a.ts' }] }).field).toBe('handlers[0].name');
    expect(errorOf({ handlers: [{ name: 'orders', entry: 'a.py' }] }).field).toBe('handlers[0].entry');
    expect(errorOf(undefined).field).toBe('config');
  });
});

describe('Function: shardQueues()', () => {
  it('names shard queues <queue>.0 .. <queue>.<N-1>', () => {
    expect(shardQueues({ queue: 'orders', concurrency: 3 })).toEqual(['orders.0', 'orders.1', 'orders.2']);
  });
});
