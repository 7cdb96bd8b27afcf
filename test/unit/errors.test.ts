/**
 * One error family: every error class Warren exports from a room's errors file is a `WarrenError` whose `name` is its
 * class name (a log line's `ConfigError: ...` says which class to catch), and no room defines an error class outside
 * its errors file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as clientErrors from '../../client/errors.js';
import { Reply } from '../../client/Reply.js';
import * as configErrors from '../../config/errors.js';
import * as libErrors from '../../lib/errors.js';
import * as libFunctionErrors from '../../lib/functions/errors.js';
import * as localErrors from '../../local/errors.js';
import * as runtimeErrors from '../../runtime/errors.js';
import * as topologyErrors from '../../topology/errors.js';
import * as testingErrors from '../../testing/errors.js';

const ROOMS = ['runtime', 'config', 'topology', 'lib', 'local', 'client', 'testing'];
const ERROR_FILES: Record<string, Record<string, unknown>> = {
  'runtime/errors.ts': runtimeErrors,
  'config/errors.ts': configErrors,
  'topology/errors.ts': topologyErrors,
  'lib/errors.ts': libErrors,
  'lib/functions/errors.ts': libFunctionErrors,
  'local/errors.ts': localErrors,
  'client/errors.ts': clientErrors,
  'testing/errors.ts': testingErrors,
};

const target = { exchange: 'orders', routingKey: 'k', correlationId: 'c1' };
const budget = { mode: 'strict' as const, shares: [{ handler: 'orders', shards: 2, allowance: 1, connections: 3 }], clients: 3, databaseConnections: 2, multiplexing: 1.5 };

/** One instance of each class, made as its thrower makes it. */
const SAMPLES: Record<string, () => Error> = {
  WarrenError: () => new runtimeErrors.WarrenError('m'),
  ConfigError: () => new runtimeErrors.ConfigError('handlers.orders', 'p'),
  DecodeError: () => new runtimeErrors.DecodeError('body', 'p'),
  ConnectionLostError: () => new runtimeErrors.ConnectionLostError('m'),
  DatabaseUnavailableError: () => new runtimeErrors.DatabaseUnavailableError(3),
  TransactionClosedError: () => new runtimeErrors.TransactionClosedError(),
  ConnectionManagerClosedError: () => new runtimeErrors.ConnectionManagerClosedError(),
  PermanentError: () => new runtimeErrors.PermanentError('m'),
  PermanentInputError: () => new runtimeErrors.PermanentInputError('id', 'p'),
  SchemaValidationError: () => new runtimeErrors.SchemaValidationError([{ path: 'id', message: 'required' }]),
  CrashedInvocationError: () => new runtimeErrors.CrashedInvocationError(2),
  MissingMessageKeyError: () => new runtimeErrors.MissingMessageKeyError(),
  DeadLetterError: () => new runtimeErrors.DeadLetterError('m'),
  TimeoutError: () => new runtimeErrors.TimeoutError('ping', 100),
  PayloadTooLargeError: () => new runtimeErrors.PayloadTooLargeError('body', 10, 5),
  PrivilegeError: () => new runtimeErrors.PrivilegeError({ user: 'u', privilege: 'INSERT', table: 't', fix: 'f' }),
  ConnectionBudgetError: () => new runtimeErrors.ConnectionBudgetError('m', 3, 2),
  ReplyNotAllowedError: () => new runtimeErrors.ReplyNotAllowedError('no reply_to'),
  ConcurrentClaimError: () => new runtimeErrors.ConcurrentClaimError(),
  UnknownPublishSourceError: () => new runtimeErrors.UnknownPublishSourceError(),
  TopologyError: () => new topologyErrors.TopologyError('m'),
  QueueArgumentsMismatchError: () => new topologyErrors.QueueArgumentsMismatchError({ queue: 'q', vhost: '/', argument: 'x-queue-type', has: 'classic', wants: 'quorum', wanted: {}, hint: 'h' }),
  ProxyConnectionBudgetError: () => new libErrors.ProxyConnectionBudgetError(budget, { maxConnections: 3, maxConnectionsPercent: 90, reclaimAllowance: 1, mode: 'strict' }),
  StaleLockError: () => new libErrors.StaleLockError('warren.lock.json', ['orders']),
  ReplacementRefusedError: () => new libErrors.ReplacementRefusedError('Broker', 'EngineVersion', 'warren:brokerEngineVersion', '3.13', '4.0'),
  MigrationError: () => new libFunctionErrors.MigrationError('001.sql', 1, 'CREATE TABLE t (id INT)', 'syntax'),
  MigrationConnectError: () => new libFunctionErrors.MigrationConnectError('proxy:3306', 1000, 3, 'ECONNREFUSED'),
  AccountConcurrencyError: () => new libFunctionErrors.AccountConcurrencyError('m', 20, 10),
  WorkerStartError: () => new localErrors.WorkerStartError('orders', 'd'),
  WorkerExitedError: () => new localErrors.WorkerExitedError('orders-1', 1, null),
  BrokerUnavailableError: () => new localErrors.BrokerUnavailableError('amqp://localhost'),
  HandlerImportError: () => new localErrors.HandlerImportError([{ handler: 'orders', entry: 'functions/orders.ts', cause: 'c' }]),
  ServerConnectionBudgetError: () => new localErrors.ServerConnectionBudgetError(3, 2, 'd'),
  BrokerAccessRefusedError: () => new localErrors.BrokerAccessRefusedError('amqp://u:p@localhost'),
  DatabaseUnreachableError: () => new localErrors.DatabaseUnreachableError('mysql://localhost', 'unreachable', 'd'),
  RequestError: () => new clientErrors.RequestError(target, 'm'),
  RequestFailedError: () => new clientErrors.RequestFailedError(target, 'refused', new Reply(Buffer.from('{}'), { headers: {} }, 1)),
  RequestTimeoutError: () => new clientErrors.RequestTimeoutError(target, 100),
  UnroutableRequestError: () => new clientErrors.UnroutableRequestError(target, 312, 'NO_ROUTE'),
  NoSuchExchangeError: () => new clientErrors.NoSuchExchangeError(target),
  RequestAbortedError: () => new clientErrors.RequestAbortedError(target, 'closed'),
  RequestClientClosedError: () => new clientErrors.RequestClientClosedError('closed'),
  TestKitError: () => new testingErrors.TestKitError('m'),
  TestRunError: () => new testingErrors.TestRunError('orders', { messages: [], published: [], replies: [], deadLettered: [] }, new Error('c')),
};

type ErrorClass = abstract new (...args: never[]) => Error;

/** Every class an errors file exports that is an Error of any kind, by name. */
function exportedErrorClasses(): Map<string, ErrorClass> {
  const out = new Map<string, ErrorClass>();
  for (const exports of Object.values(ERROR_FILES)) {
    for (const [name, value] of Object.entries(exports)) {
      if (typeof value === 'function' && (value === Error || value.prototype instanceof Error)) out.set(name, value as ErrorClass);
    }
  }
  return out;
}

function roomFiles(): string[] {
  return ROOMS.flatMap((room) => readdirSync(room, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(process.cwd(), join(e.parentPath, e.name))));
}

describe('Warren\'s errors', () => {
  const classes = exportedErrorClasses();

  it('have a sample here for every error class the rooms\' errors files export', () => {
    expect([...classes.keys()].sort()).toEqual(Object.keys(SAMPLES).sort());
  });

  it.each(Object.keys(SAMPLES))('%s is a WarrenError whose name is its class name', (name) => {
    const error = SAMPLES[name]!();
    expect(error).toBeInstanceOf(classes.get(name)!);
    expect(error).toBeInstanceOf(runtimeErrors.WarrenError);
    expect(error.name).toBe(name);
    expect(error.constructor.name).toBe(name);
    expect(String(error)).toMatch(new RegExp(`^${name}: `));
  });

  it('are each defined in their room\'s errors file and nowhere else in the rooms', () => {
    const elsewhere = roomFiles()
      .filter((file) => !file.endsWith('/errors.ts'))
      .flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/class\s+(\w+)\s+extends\s+[\w.]*Error\b/g)].map((m) => `${file}: ${m[1]}`));
    expect(elsewhere).toEqual([]);
  });
});
