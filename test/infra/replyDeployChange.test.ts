/**
 * The deploy change of turning replies on for a deployed handler that neither published nor replied: the synthesized
 * templates before and after, compared resource by resource. Only additions (the outbox relay and its parts) and
 * in-place property updates (the function's environment, the broker user's permissions, the account-concurrency
 * count) may appear: nothing removed, no property whose change replaces a resource.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../config/config.js';
import { createWarrenApp } from '../../lib/app.js';

/** The example app (a team's project): the stack's `projectRoot`. */
const root = resolve(import.meta.dirname, '../../examples/orders');

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

async function synth(replies: boolean): Promise<Resources> {
  const config = resolveConfig({
    migrations: ['functions/schema.sql'],
    handlers: [{ name: 'audit', entry: 'functions/orders.ts', queue: 'audit-events', concurrency: 2, replies }],
  });
  const { stack } = await createWarrenApp({ projectRoot: root, config, nag: false, context: { 'aws:cdk:bundling-stacks': [] } });
  const all: Resources = {};
  for (const s of [stack, ...stack.handlerGroups]) {
    for (const [id, r] of Object.entries((Template.fromStack(s).toJSON() as { Resources: Resources }).Resources)) all[`${s.node.path}/${id}`] = r;
  }
  return all;
}

/** Property changes of each resource, as "<Type>.<Property>". */
function changes(before: Resources, after: Resources): { removed: string[]; added: string[]; changed: string[] } {
  const removed = Object.keys(before).filter((id) => after[id] === undefined).map((id) => `${before[id]!.Type} ${id}`);
  const added = Object.keys(after).filter((id) => before[id] === undefined).map((id) => after[id]!.Type);
  const changed = new Set<string>();
  for (const [id, b] of Object.entries(before)) {
    const a = after[id];
    if (a === undefined) continue;
    if (a.Type !== b.Type) changed.add(`${b.Type}.Type`);
    const keys = new Set([...Object.keys(b.Properties ?? {}), ...Object.keys(a.Properties ?? {})]);
    for (const k of keys) if (JSON.stringify(b.Properties?.[k]) !== JSON.stringify(a.Properties?.[k])) changed.add(`${b.Type}.${k}`);
  }
  return { removed, added: [...new Set(added)].sort(), changed: [...changed].sort() };
}

describe('Deploy change: replies: true on a deployed handler', () => {
  it('adds the relay and updates the function environment, the broker user permissions and the concurrency check in place; removes and replaces nothing', async () => {
    const diff = changes(await synth(false), await synth(true));
    expect(diff.removed).toEqual([]);
    // All update in place: Lambda Environment and Code, an alarm's description, a nested stack's template URL and its
    // parameters (the broker endpoint, passed only to a nested stack with a handler that publishes or replies) are
    // "Update requires: No interruption" (CloudFormation resource reference); a custom resource's changed properties
    // are an Update event to its function, which keeps the physical id.
    expect(diff.changed).toEqual([
      'AWS::CloudFormation::Stack.Parameters', 'AWS::CloudFormation::Stack.TemplateURL', 'AWS::CloudWatch::Alarm.AlarmDescription', 'AWS::Lambda::Function.Code', 'AWS::Lambda::Function.Environment',
      'Custom::WarrenAccountConcurrency.Required', 'Custom::WarrenBrokerUser.Permissions', 'Custom::WarrenTopology.Handlers',
    ]);
    expect(diff.added).toEqual(['AWS::Events::Rule', 'AWS::IAM::Policy', 'AWS::IAM::Role', 'AWS::Lambda::EventInvokeConfig', 'AWS::Lambda::Function', 'AWS::Lambda::Permission', 'AWS::Logs::LogGroup']); // the outbox relay
  }, 600_000);
});
