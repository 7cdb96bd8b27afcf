/**
 * One `Custom::WarrenShardDrain` per shard queue (lib/functions/shardDrainResource.ts, served by the topology function), and
 * the shard's trigger depends on it. Lowering `concurrency` removes both from the template; CloudFormation deletes the
 * trigger first and the drain resource after it (a resource is deleted before the one it depends on: "DependsOn
 * attribute", CloudFormation Template Reference), in the update's cleanup phase, after the topology resource unbound the
 * shard. Its Delete then moves what the shard still holds back through the handler's exchange and deletes the queue.
 */
import { CustomResource } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { ResolvedHandlerConfig } from '../config/config.js';
import { SHARD_DRAIN_RESOURCE_TYPE } from './functions/shardDrainResource.js';

/** Adds a drain resource for each of `triggers` (one per shard queue, in shard order) and makes the trigger depend on it. */
export function placeShardDrains(scope: Construct, handler: ResolvedHandlerConfig, serviceToken: string, triggers: readonly lambda.CfnEventSourceMapping[]): CustomResource[] {
  return triggers.map((trigger, i) => {
    const drain = new CustomResource(scope, `Shard${i}Drain`, {
      serviceToken,
      resourceType: SHARD_DRAIN_RESOURCE_TYPE,
      // The broker's endpoint, console URL and secret come from the topology function's environment (WarrenTopology).
      properties: {
        Exchange: handler.queue,
        Queue: `${handler.queue}.${i}`,
        Vhost: handler.vhost,
      },
    });
    trigger.node.addDependency(drain);
    return drain;
  });
}
