import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { checkConnectionBudget, connectionBudget } from '../../lib/connectionBudget.js';
import { ProxyConnectionBudgetError } from '../../lib/errors.js';
import { ConnectionBudgetError, WarrenError } from '../../runtime/errors.js';
import { WarrenStack, WARREN_STACK_DEFAULTS } from '../../lib/WarrenStack.js';
import { resolveConfig } from '../../config/config.js';

const tooMany = resolveConfig({
  handlers: [
    { name: 'orders', entry: 'functions/orders.ts', concurrency: 40 },
    { name: 'audit', entry: 'functions/orders.ts', concurrency: 12 },
  ],
});

describe('Function: connectionBudget()', () => {
  it('counts client connections (shards plus reclaim allowance) and the proxy database connections apart', () => {
    const budget = connectionBudget(tooMany.handlers, { maxConnections: 60, maxConnectionsPercent: 90, reclaimAllowance: 1 });
    expect(budget).toEqual({
      mode: 'multiplexed',
      shares: [
        { handler: 'orders', shards: 40, allowance: 1, connections: 41 },
        { handler: 'audit', shards: 12, allowance: 1, connections: 13 },
      ],
      clients: 54,
      databaseConnections: 54,
      multiplexing: 1,
    });
  });

  it('lets 200 handlers at concurrency 1 share the default 54 database connections when multiplexed', () => {
    const many = Array.from({ length: 200 }, (_, i) => ({ name: `h${i}`, concurrency: 1 }));
    const budget = checkConnectionBudget(many, { maxConnections: 60, maxConnectionsPercent: 90, reclaimAllowance: 1, extra: [{ name: 'outbox relay', connections: 1 }, { name: 'migrations', connections: 1 }] });
    expect(budget.clients).toBe(402);
    expect(budget.databaseConnections).toBe(54);
    expect(budget.multiplexing).toBe(7.44);
  });

  it('refuses the same 200 handlers in strict mode, naming the mode and how to fix it', () => {
    const many = Array.from({ length: 3 }, (_, i) => ({ name: `h${i}`, concurrency: 20 }));
    const act = () => checkConnectionBudget(many, { maxConnections: 60, maxConnectionsPercent: 90, reclaimAllowance: 1, mode: 'strict', extra: [{ name: 'outbox relay', connections: 1 }] });
    expect(act).toThrow(ProxyConnectionBudgetError);
    expect(act).toThrow(ConnectionBudgetError);
    expect(act).toThrow(WarrenError);
    try {
      act();
    } catch (error) {
      expect(error).toMatchObject({ name: 'ProxyConnectionBudgetError', needed: 64, available: 54 });
    }
    expect(act).toThrow(
      'Connection budget exceeded (warren:connectionBudget=strict): the functions may open 64 client connections [h0 21 (20 shards + 1 reclaim allowance), h1 21 (20 shards + 1 reclaim allowance), h2 21 (20 shards + 1 reclaim allowance), outbox relay 1] ' +
        'but the proxy may open only 54 database connections (90% of max_connections 60). ' +
        'Lower a handler\'s concurrency, raise warren:maxConnections (after raising max_connections on the database) or warren:maxConnectionsPercent, ' +
        'or drop -c warren:connectionBudget=strict so the proxy multiplexes clients onto fewer database connections.',
    );
  });

  it('pins the stack defaults: max_connections 60, 90 percent for the proxy, one reclaim allowance, multiplexed, 25 handlers per nested stack, alarms', () => {
    expect(WARREN_STACK_DEFAULTS).toEqual({ maxConnections: 60, maxConnectionsPercent: 90, reclaimAllowance: 1, connectionBudget: 'multiplexed', handlersPerStack: 25, handlerStackResourceBudget: 400, borrowLatencyAlarmMicros: 1_000_000, pinnedSessionsAlarmMinutes: 15 });
  });
});

describe('Class: WarrenStack (connection budget)', () => {
  it('fails synth in strict mode from context, with the message naming each share', async () => {
    const { createWarrenApp } = await import('../../lib/app.js');
    await expect(createWarrenApp({ config: tooMany, nag: false, context: { 'warren:maxConnections': '50', 'warren:maxConnectionsPercent': '100', 'warren:connectionBudget': 'strict' } }))
      .rejects.toThrow('the functions may open 56 client connections [orders 41 (40 shards + 1 reclaim allowance), audit 13 (12 shards + 1 reclaim allowance), migrations 1, pruning 1] but the proxy may open only 50 database connections (100% of max_connections 50)');
  });

  it('rejects an unknown budget mode with a ConfigError naming the context key', async () => {
    const { createWarrenApp } = await import('../../lib/app.js');
    await expect(createWarrenApp({ config: tooMany, nag: false, context: { 'warren:connectionBudget': 'lenient' } }))
      .rejects.toThrow('Invalid config at "warren:connectionBudget": expected multiplexed or strict, received "lenient"');
  });

  it('rejects a malformed budget option with a ConfigError naming it and the fix', () => {
    expect(() => new WarrenStack(new App(), 'Bad', { config: tooMany, projectRoot: process.cwd(), maxConnectionsPercent: 120 }))
      .toThrow('Invalid config at "warren:maxConnectionsPercent": expected a whole number from 1 to 100, received 120; set it in cdk.json "context" or with -c warren:maxConnectionsPercent=<n>');
  });
});
