/**
 * One `Custom::WarrenShardDrain` per nested stack of handlers (lib/functions/shardDrainResource.ts, served by the
 * topology function behind a Provider with asynchronous completion), listing the group's shards, and every trigger of
 * the group depends on it. Its logical id carries the group's generation (a digest of its handlers and shards), so
 * lowering a `concurrency` or removing a handler creates a new drain resource and removes the old one: CloudFormation
 * deletes the removed trigger first and the old drain resource after it (a resource is deleted before the one it
 * depends on: "DependsOn attribute", CloudFormation Template Reference), in the update's cleanup phase, after the
 * topology resource unbound the shard. Its Delete then moves what each unbound shard still holds back through the
 * handler's exchange, deletes the queue and takes it out of the application user's read permission.
 *
 * Before issue 26 there was one drain resource per shard and one teardown resource per handler: about 400 custom
 * resources created at once for 200 handlers (fault 6). Now there are two per nested stack.
 */
import { CustomResource } from 'aws-cdk-lib';
import { createHash } from 'node:crypto';
import type { Construct, IConstruct } from 'constructs';
import type { ResolvedHandlerConfig } from '../config/config.js';
import { SHARD_DRAIN_RESOURCE_DEFAULTS, SHARD_DRAIN_RESOURCE_TYPE, type DrainedHandler } from './functions/shardDrainResource.js';

/** The group's shards as the drain resource lists them. */
export function drainedHandlers(handlers: readonly Pick<ResolvedHandlerConfig, 'vhost' | 'queue' | 'concurrency'>[]): DrainedHandler[] {
  return handlers.map((h) => ({ vhost: h.vhost, exchange: h.queue, concurrency: h.concurrency }));
}

/**
 * 8 hex digits of SHA-256 over the group's handlers (name, queue, vhost, concurrency), in name order: the suffix of
 * the group's drain and teardown resources' logical ids. It changes when a handler or shard is added or removed, and
 * only then (batch size, timeout or code changes keep it).
 */
export function lifecycleGeneration(handlers: readonly Pick<ResolvedHandlerConfig, 'name' | 'vhost' | 'queue' | 'concurrency'>[]): string {
  const key = [...handlers].sort((a, b) => a.name.localeCompare(b.name)).map((h) => `${h.name}\u0000${h.vhost}\u0000${h.queue}\u0000${h.concurrency}`).join('\n');
  return createHash('sha256').update(key).digest('hex').slice(0, 8).toUpperCase();
}

/** Adds the group's drain resource to `scope` and makes each of `triggers` depend on it. */
export function placeShardDrain(scope: Construct, generation: string, handlers: readonly ResolvedHandlerConfig[], serviceToken: string, appUser: string, triggers: readonly IConstruct[]): CustomResource {
  const drain = new CustomResource(scope, `ShardDrain${generation}`, {
    serviceToken,
    resourceType: SHARD_DRAIN_RESOURCE_TYPE,
    // The broker's endpoint, console URL and secret come from the topology function's environment (WarrenTopology).
    properties: { Shards: JSON.stringify(drainedHandlers(handlers)), AppUser: appUser, GiveUpSeconds: String(SHARD_DRAIN_RESOURCE_DEFAULTS.giveUpMs / 1000) },
  });
  for (const trigger of triggers) trigger.node.addDependency(drain);
  return drain;
}
