/**
 * Custom resource that declares the shard topology of every handler on the broker, by running
 * `lib/functions/topologyResource.ts` (which calls `declareTopology`, the code the local runner uses). Triggers depend on it,
 * so their queues exist before Lambda starts polling. Deleting the stack leaves the queues on the broker.
 */
import { CustomResource, Duration } from 'aws-cdk-lib';
import { ownFunctionEntry } from './ownFunctions.js';
import { Construct } from 'constructs';
import { brokerAdminFunction, type BrokerAdminFunctionProps } from './brokerAdminFunction.js';
import type { WarrenFunction } from './WarrenFunction.js';
import { warrenProvider } from './warrenProvider.js';
import { SHARD_DRAIN_ENV } from './functions/shardDrainResource.js';

export type WarrenTopologyProps = BrokerAdminFunctionProps;

export class WarrenTopology extends Construct {
  public readonly resource: CustomResource;
  public readonly function: WarrenFunction;
  /** Serves `Custom::WarrenTopology`. */
  public readonly serviceToken: string;
  /**
   * Serves the nested stacks' `Custom::WarrenShardDrain` resources: the same function behind a second Provider, with
   * asynchronous completion (a drain can outlast a function's timeout; lib/functions/asyncCompletion.ts).
   */
  public readonly drainServiceToken: string;

  public constructor(scope: Construct, id: string, props: WarrenTopologyProps) {
    super(scope, id);

    // The onEvent function: in the VPC (the broker is private), reads the broker secret.
    this.function = brokerAdminFunction(this, 'OnEvent', props, {
      entry: ownFunctionEntry('brokerResources'), // topology, and shard drains (lib/functions/shardDrainResource.ts)
      // Connect retries with backoff right after the broker turns RUNNING take up to ~2 minutes (lib/functions/topologyResource.ts).
      timeout: Duration.minutes(5),
      description: 'Declares Warren shard topology on the broker',
    });
    // The shard drain resources live in nested stacks; they read the broker settings from here (lib/functions/shardDrainResource.ts).
    this.function.addEnvironment(SHARD_DRAIN_ENV.BrokerEndpoint, props.broker.amqpsEndpoint);
    this.function.addEnvironment(SHARD_DRAIN_ENV.ConsoleUrl, props.broker.consoleUrl);
    this.function.addEnvironment(SHARD_DRAIN_ENV.SecretArn, props.broker.secret.secretArn);

    const provider = warrenProvider(this, 'Provider', this.function, props.logRetention);
    this.serviceToken = provider.serviceToken;
    this.drainServiceToken = warrenProvider(this, 'DrainProvider', this.function, props.logRetention, true).serviceToken;

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::WarrenTopology',
      properties: {
        BrokerEndpoint: props.broker.amqpsEndpoint,
        // vhosts other than "/" are created through the management API (HTTPS) before their queues are declared.
        ConsoleUrl: props.broker.consoleUrl,
        SecretArn: props.broker.secret.secretArn,
        Handlers: JSON.stringify(props.handlers),
      },
    });
  }
}
