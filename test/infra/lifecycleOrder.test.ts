/**
 * Issue 26, faults 6 and 8, on synthesized templates: what a deploy that lowers a concurrency or removes a handler
 * deletes, and in which order, read from the two templates (before and after) as CloudFormation reads them. Removed
 * resources go in the cleanup phase, each before the resources it depends on in the template it came from.
 * Also the read-permission helpers the broker-user and shard-drain resources share, and the defaults.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createWarrenApp } from '../../lib/app.js';
import { resolveConfig } from '../../config/config.js';
import { exactNames, withRemovedShards } from '../../lib/functions/brokerReadPermission.js';
import { ASYNC_COMPLETION_DEFAULTS } from '../../lib/functions/asyncCompletion.js';
import { SHARD_DRAIN_RESOURCE_DEFAULTS } from '../../lib/functions/shardDrainResource.js';
import { BROKER_USER_DELETE_DEFAULTS } from '../../lib/functions/brokerUserResource.js';
import { deployInvocations, WARREN_CONCURRENCY_DEFAULTS } from '../../lib/WarrenAccountConcurrency.js';
import { lifecycleGeneration } from '../../lib/WarrenShardDrain.js';
import { exactly } from '../../topology/brokerPermissions.js';

/** The example app (a team's project): the stack's `projectRoot`. */
const root = resolve(import.meta.dirname, '../../examples/orders');
const handler = (name: string, concurrency: number, batchSize = 10) => ({ name, entry: 'functions/orders.ts', queue: name, concurrency, batchSize });

interface Resources { [id: string]: { Type: string; DependsOn?: string[]; Properties?: Record<string, unknown> } }
async function nestedResources(handlers: ReturnType<typeof handler>[]): Promise<Resources> {
  const { stack } = await createWarrenApp({ projectRoot: root, config: resolveConfig({ handlers }), nag: false, context: { 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(stack.handlerGroups[0]!).toJSON().Resources as Resources;
}
const ofType = (r: Resources, type: string) => Object.keys(r).filter((id) => r[id]!.Type === type);

let before: Resources;
let lowered: Resources;
let removed: Resources;
let retuned: Resources;
beforeAll(async () => {
  [before, lowered, removed, retuned] = await Promise.all([
    nestedResources([handler('orders', 4), handler('audit', 1)]),
    nestedResources([handler('orders', 2), handler('audit', 1)]),
    nestedResources([handler('orders', 4)]),
    nestedResources([handler('orders', 4, 50), handler('audit', 1)]),
  ]);
}, 300_000);

describe('Synthesized order: lowering concurrency 4 -> 2 (fault 8: the shard\'s permission goes only after its trigger)', () => {
  it('removes the surplus triggers and the old drain and teardown resources, which the removed triggers depended on, so they are deleted after them', () => {
    const gone = Object.keys(before).filter((id) => !(id in lowered));
    const oldDrain = ofType(before, 'Custom::WarrenShardDrain')[0]!;
    const oldTeardown = ofType(before, 'Custom::WarrenTriggerTeardown')[0]!;
    const surplus = ofType(before, 'AWS::Lambda::EventSourceMapping').filter((id) => /Shard[23][0-9A-F]{8}$/.test(id));
    expect(surplus).toHaveLength(2);
    expect(gone.sort()).toEqual([...surplus, oldDrain, oldTeardown].sort());
    for (const trigger of surplus) expect(before[trigger]!.DependsOn).toEqual(expect.arrayContaining([oldDrain, oldTeardown]));
    // the new drain resource lists the lowered shards; every kept trigger depends on it (and not on the old one)
    const newDrain = ofType(lowered, 'Custom::WarrenShardDrain')[0]!;
    expect(newDrain).not.toBe(oldDrain);
    expect(JSON.parse(lowered[newDrain]!.Properties!.Shards as string)).toEqual([{ vhost: '/', exchange: 'orders', concurrency: 2 }, { vhost: '/', exchange: 'audit', concurrency: 1 }]);
    for (const trigger of ofType(lowered, 'AWS::Lambda::EventSourceMapping')) expect(lowered[trigger]!.DependsOn).toContain(newDrain);
    // the old drain resource's Delete gets the OLD list: shards 2 and 3 are in it
    expect(JSON.parse(before[oldDrain]!.Properties!.Shards as string)).toEqual([{ vhost: '/', exchange: 'orders', concurrency: 4 }, { vhost: '/', exchange: 'audit', concurrency: 1 }]);
  });

  it('removing a handler deletes its triggers, then the old teardown resource (which waits for its pollers), then its role', () => {
    const gone = Object.keys(before).filter((id) => !(id in removed));
    const oldTeardown = ofType(before, 'Custom::WarrenTriggerTeardown')[0]!;
    expect(gone).toContain(oldTeardown);
    const auditRole = gone.find((id) => /^HandlerauditFunctionRole[0-9A-F]{8}$/.test(id))!;
    expect(before[oldTeardown]!.DependsOn).toContain(auditRole);
    const auditTrigger = gone.find((id) => before[id]!.Type === 'AWS::Lambda::EventSourceMapping')!;
    expect(before[auditTrigger]!.DependsOn).toContain(oldTeardown);
  });

  it('keeps both resources when only a batch size changes (nothing goes away)', () => {
    expect(Object.keys(before).filter((id) => !(id in retuned))).toEqual([]);
  });
});

describe('Function: lifecycleGeneration()', () => {
  it('changes with a handler\'s concurrency, queue, vhost or name and not with the order of the handlers', () => {
    const a = { name: 'a', vhost: '/', queue: 'a', concurrency: 2 };
    const b = { name: 'b', vhost: '/', queue: 'b', concurrency: 1 };
    expect(lifecycleGeneration([a, b])).toBe(lifecycleGeneration([b, a]));
    expect(lifecycleGeneration([a, b])).toMatch(/^[0-9A-F]{8}$/);
    for (const changed of [{ ...a, concurrency: 1 }, { ...a, queue: 'x' }, { ...a, vhost: 'v' }, { ...a, name: 'c' }]) expect(lifecycleGeneration([changed, b])).not.toBe(lifecycleGeneration([a, b]));
  });
});

describe('Function: withRemovedShards() and exactNames()', () => {
  it('joins the read names of the old permissions to the new ones, per vhost, and leaves other fields as wanted', () => {
    const wanted = [{ vhost: '/', configure: '^$', write: '^(?:events)$', read: exactly(['orders.0', 'orders.1']) }];
    const previous = [{ vhost: '/', configure: '^$', write: '^$', read: exactly(['orders.0', 'orders.1', 'orders.2']) }];
    expect(withRemovedShards(wanted, previous)).toEqual([{ vhost: '/', configure: '^$', write: '^(?:events)$', read: '^(?:orders\\.0|orders\\.1|orders\\.2)$' }]);
    expect(withRemovedShards(wanted, [])).toEqual(wanted);
    expect(withRemovedShards(wanted, [{ ...previous[0]!, read: '^orders\\..*$' }])[0]!.read).toBe('^(?:orders\\.0|orders\\.1)$|^orders\\..*$');
  });

  it('keeps read, and only read, on a vhost whose last handler the update removes, until the drain takes its shards out', () => {
    const wanted = [{ vhost: '/', configure: '^$', write: '^$', read: exactly(['orders.0']) }];
    const previous = [
      { vhost: '/', configure: '^$', write: '^$', read: exactly(['orders.0']) },
      { vhost: 'billing', configure: '^$', write: '^(?:invoices)$', read: exactly(['bills.0', 'bills.1']) },
      { vhost: 'empty', configure: '^$', write: '^$', read: '^$' },
    ];
    expect(withRemovedShards(wanted, previous)).toEqual([
      { vhost: '/', configure: '^$', write: '^$', read: '^(?:orders\\.0)$' },
      { vhost: 'billing', configure: '^$', write: '^$', read: '^(?:bills\\.0|bills\\.1)$' },
    ]);
  });

  it('reads the names back from an exactly() regex, and refuses any other regex', () => {
    expect(exactNames(exactly(['a-b.0', 'c:d.1']))).toEqual(['a-b.0', 'c:d.1']);
    expect(exactNames('^$')).toEqual([]);
    expect(exactNames('^orders\\..*$')).toBeUndefined();
    expect(exactNames('^(?:a|b.*)$')).toBeUndefined();
  });
});

describe('Defaults of the lifecycle resources', () => {
  it('pins every default', () => {
    expect(WARREN_CONCURRENCY_DEFAULTS).toEqual({ headroom: 2, invocationsPerCustomResource: 2, parentInvocationsAtOnce: 8, customResourcesPerGroup: 2 });
    expect(ASYNC_COMPLETION_DEFAULTS).toEqual({ queryIntervalSeconds: 15, totalTimeoutMinutes: 60, callBudgetMs: 90_000 });
    expect(SHARD_DRAIN_RESOURCE_DEFAULTS).toEqual({ giveUpMs: 2_700_000, callBudgetMs: 90_000 });
    expect(BROKER_USER_DELETE_DEFAULTS).toEqual({ deleteRetryMs: 240_000 });
    expect([1, 2, 8, 50].map(deployInvocations)).toEqual([8, 8, 32, 200]);
  });
});
