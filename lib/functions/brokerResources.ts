/**
 * The entry point of the topology function (lib/WarrenTopology.ts): it serves two custom resource types, both of which
 * need the broker from inside the VPC with the broker secret.
 *   Custom::WarrenTopology    declares every handler's topology (lib/functions/topologyResource.ts)
 *   Custom::WarrenShardDrain  drains a shard queue that a lower `concurrency` removed (lib/functions/shardDrainResource.ts)
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { createShardDrainHandler, SHARD_DRAIN_RESOURCE_TYPE } from './shardDrainResource.js';
import { createTopologyHandler } from './topologyResource.js';

const topology = createTopologyHandler();
const shardDrain = createShardDrainHandler();

export const handler = (event: CloudFormationCustomResourceEvent): Promise<unknown> =>
  event.ResourceType === SHARD_DRAIN_RESOURCE_TYPE ? shardDrain(event) : topology(event);
