import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { checkConnectionBudget, ConnectionBudgetError, connectionBudget } from '../../lib/connectionBudget.js';
import { WarrenStack, WARREN_STACK_DEFAULTS } from '../../lib/WarrenStack.js';
import { resolveConfig } from '../../runtime/config.js';

const tooMany = resolveConfig({
  handlers: [
    { name: 'orders', entry: 'functions/orders.ts', concurrency: 40 },
    { name: 'audit', entry: 'functions/orders.ts', concurrency: 12 },
  ],
});

describe('Function: connectionBudget()', () => {
  it('counts shards plus the reclaim allowance per handler against the proxy share of max_connections', () => {
    const budget = connectionBudget(tooMany.handlers, { maxConnections: 60, maxConnectionsPercent: 90, reclaimAllowance: 1 });
    expect(budget).toEqual({
      shares: [
        { handler: 'orders', shards: 40, allowance: 1, connections: 41 },
        { handler: 'audit', shards: 12, allowance: 1, connections: 13 },
      ],
      needed: 54,
      limit: 54,
    });
    expect(() => checkConnectionBudget(tooMany.handlers, { maxConnections: 60, maxConnectionsPercent: 90, reclaimAllowance: 1 })).not.toThrow();
  });

  it('counts the outbox relay as one more connection, named in the message', () => {
    const withRelay = resolveConfig({ handlers: [{ name: 'orders', entry: 'functions/orders.ts', concurrency: 53, publishes: [{ exchange: 'orders.events' }] }] });
    const act = () => new WarrenStack(new App(), 'Relay', { config: withRelay, projectRoot: process.cwd() });
    expect(act).toThrow('the handlers need 55 connections [orders 54 (53 shards + 1 reclaim allowance), outbox relay 1] but the proxy may open only 54');
    expect(connectionBudget(withRelay.handlers, { maxConnections: 60, maxConnectionsPercent: 90, reclaimAllowance: 1, extra: [{ name: 'outbox relay', connections: 1 }] }).needed).toBe(55);
  });

  it('pins the stack defaults: max_connections 60, 90 percent for the proxy, one reclaim allowance per handler', () => {
    expect(WARREN_STACK_DEFAULTS).toEqual({ maxConnections: 60, maxConnectionsPercent: 90, reclaimAllowance: 1, clientConnectionsAlarmRatio: 0.8 });
  });
});

describe('Class: WarrenStack (connection budget)', () => {
  it('fails synth with a message naming each handler share and the limit when the config asks for too many shards', () => {
    const act = () => new WarrenStack(new App(), 'TooMany', { config: tooMany, projectRoot: process.cwd(), reclaimAllowance: 2 });
    expect(act).toThrow(ConnectionBudgetError);
    expect(act).toThrow(
      'Connection budget exceeded: the handlers need 56 connections [orders 42 (40 shards + 2 reclaim allowance), audit 14 (12 shards + 2 reclaim allowance)] ' +
        'but the proxy may open only 54 (90% of max_connections 60). ' +
        'Lower a handler\'s concurrency, or raise warren:maxConnections (after raising max_connections on the database) or warren:maxConnectionsPercent.',
    );
  });

  it('reads the budget from context through the app, so -c warren:maxConnections=... fixes it', async () => {
    const { createWarrenApp } = await import('../../lib/app.js');
    await expect(createWarrenApp({ config: tooMany, nag: false, context: { 'warren:maxConnections': '50', 'warren:maxConnectionsPercent': '100' } }))
      .rejects.toThrow('the handlers need 54 connections [orders 41 (40 shards + 1 reclaim allowance), audit 13 (12 shards + 1 reclaim allowance)] but the proxy may open only 50 (100% of max_connections 50)');
  });

  it('rejects a malformed budget option with a message naming it', () => {
    expect(() => new WarrenStack(new App(), 'Bad', { config: tooMany, projectRoot: process.cwd(), maxConnectionsPercent: 120 }))
      .toThrow('WarrenStack: maxConnectionsPercent must be a whole number from 1 to 100, received 120');
  });
});
