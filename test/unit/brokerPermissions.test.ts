import { describe, expect, it } from 'vitest';
import { brokerAppPermissions, escapeRegex, exactly } from '../../topology/brokerPermissions.js';
import { appGrantStatement, grantDatabasePattern } from '../../runtime/db/appDatabaseUser.js';
import { resolveConfig } from '../../config/config.js';

describe('Function: brokerAppPermissions()', () => {
  const handlers = resolveConfig({
    handlers: [
      { name: 'orders', entry: 'functions/orders.ts', queue: 'orders', concurrency: 2, publishes: [{ exchange: 'orders.events', type: 'topic' }] },
      { name: 'billing', entry: 'functions/orders.ts', queue: 'bill-ing', concurrency: 1, publishes: [{ exchange: 'orders.events', type: 'topic' }, { exchange: 'ledger', type: 'fanout' }] },
      { name: 'audit', entry: 'functions/orders.ts', queue: 'audit', vhost: 'jobs', concurrency: 1 },
    ],
  }).handlers;

  it('grants, per vhost, read on exactly the shard queues, write on exactly the publishes exchanges and configure on nothing', () => {
    expect(brokerAppPermissions(handlers)).toEqual([
      { vhost: '/', configure: '^$', read: '^(?:bill\\-ing\\.0|orders\\.0|orders\\.1)$', write: '^(?:ledger|orders\\.events)$' },
      { vhost: 'jobs', configure: '^$', read: '^(?:audit\\.0)$', write: '^$' },
    ]);
  });

  it('adds write on amq.default for a handler with replies, and on exactly the input exchanges of its repliesTo handlers', () => {
    const replying = resolveConfig({
      handlers: [
        { name: 'orders', entry: 'functions/orders.ts', queue: 'orders', replies: true },
        { name: 'asker', entry: 'functions/orders.ts', queue: 'ask-queue' },
        { name: 'answerer', entry: 'functions/orders.ts', queue: 'answers', repliesTo: ['asker'], publishes: [{ exchange: 'ledger', type: 'fanout' }] },
      ],
    }).handlers;
    expect(brokerAppPermissions(replying)).toEqual([
      { vhost: '/', configure: '^$', read: '^(?:answers\\.0|ask\\-queue\\.0|orders\\.0)$', write: '^(?:amq\\.default|ask\\-queue|ledger)$' },
    ]);
    const write = new RegExp(brokerAppPermissions(replying)[0]!.write);
    for (const name of ['amq.default', 'ask-queue', 'ledger']) expect(write.test(name)).toBe(true);
    for (const name of ['amq.direct', 'answers', 'orders']) expect(write.test(name)).toBe(false);
  });

  it('refuses a repliesTo naming no handler of the config, or one on another vhost, naming the field', () => {
    expect(() => resolveConfig({ handlers: [{ name: 'a', entry: 'functions/orders.ts', repliesTo: ['nobody'] }] }))
      .toThrow('Invalid config at "handlers[0].repliesTo[0]": no handler is called "nobody"; use one of a');
    expect(() => resolveConfig({ handlers: [{ name: 'a', entry: 'functions/orders.ts', repliesTo: ['b'] }, { name: 'b', entry: 'functions/orders.ts', vhost: 'jobs' }] }))
      .toThrow('Invalid config at "handlers[0].repliesTo[0]": handler "b" is on vhost "jobs", this handler on "/"; a reply stays in its vhost');
    expect(() => resolveConfig({ handlers: [{ name: 'a', entry: 'functions/orders.ts', replies: 'yes' }] }))
      .toThrow('Invalid config at "handlers[0].replies": expected true or false, received "yes"');
  });

  it('builds patterns that match the names themselves and nothing next to them', () => {
    const [root] = brokerAppPermissions(handlers);
    const read = new RegExp(root!.read);
    for (const name of ['orders.0', 'orders.1', 'bill-ing.0']) expect(read.test(name)).toBe(true);
    for (const name of ['orders.2', 'orders.10', 'ordersX0', 'orders.dlq', 'orders', 'billling.0', 'xorders.0']) expect(read.test(name)).toBe(false);
    expect(new RegExp(exactly([])).test('anything')).toBe(false);
    expect(escapeRegex('a.b*c')).toBe('a\\.b\\*c');
  });
});

describe('Function: appGrantStatement()', () => {
  it('escapes _ and % in the database name, which GRANT reads as wildcards', () => {
    expect(grantDatabasePattern('my_db%')).toBe('my\\_db\\%');
    expect(appGrantStatement('warren_t1', 'warren_app')).toBe("GRANT SELECT, INSERT, UPDATE, DELETE ON `warren\\_t1`.* TO 'warren_app'@'%'");
  });
});
