/**
 * Custom resource that holds a handler's role back until the Amazon MQ triggers' pollers have released their network
 * interfaces. CloudFormation reports a trigger deleted before Lambda has removed the pollers' network interfaces, and
 * deleting the role right after leaves Lambda unable to remove them (the interfaces stay and the VPC cannot be
 * deleted). `@cdklabs/cdk-amazonmq` works around it the same way (src/mq-esm/event-source-base.ts: a custom resource
 * between the role and the trigger that waits for `AWS Lambda VPC ENI-armq-<account>-<esm id>*`).
 *
 * Wiring (lib/WarrenTriggerTeardown.ts): one resource per nested stack of handlers, which depends on every role of the
 * group (so it is deleted before them), and every trigger of the group depends on it (so it is deleted after them).
 * Its logical id changes whenever the group's handlers or shards change, so a removed handler's trigger is deleted,
 * then the old teardown resource (which waits), then the removed role, in the update's cleanup phase; deleting the
 * stack waits the same way.
 *
 * On Delete it waits until no poller interface in the VPC belongs to a trigger that no longer exists: an interface's
 * description ends in its trigger's UUID, and the live triggers are the broker's event source mappings (Lambda
 * ListEventSourceMappings), so the other handlers' pollers, which stay, are not waited for. The waiting is the
 * Provider framework's asynchronous completion (asyncCompletion.ts): `onEvent` returns at once and each `isComplete`
 * call looks once. Up to `WaitSeconds`; then it completes anyway (logging the interfaces left) so a stuck interface
 * never blocks the deletion. An EC2 or Lambda error is logged and the next call looks again; it never fails. Create and
 * Update do nothing.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ConfigError } from '../../runtime/errors.js';
import { createLogger, errorFields } from '../../runtime/logger.js';
import { isCompleteRequest, physicalIdOf, type AsyncAnswer, type AsyncStart } from './asyncCompletion.js';

export const TRIGGER_TEARDOWN_PHYSICAL_ID = 'warren-trigger-teardown';

export interface PollerInterface {
  readonly id: string;
  readonly description: string;
}

/** Lists the network interfaces whose description starts with `prefix` in `vpcId`; the default asks EC2. */
export type InterfaceLister = (vpcId: string, prefix: string) => Promise<PollerInterface[]>;

/** Lists the UUIDs of the event source mappings (triggers) that still exist on `brokerArn`; the default asks Lambda. */
export type MappingLister = (brokerArn: string) => Promise<string[]>;

export const listWithEc2: InterfaceLister = async (vpcId, prefix) => {
  const { EC2Client, DescribeNetworkInterfacesCommand } = await import('@aws-sdk/client-ec2');
  const client = new EC2Client({});
  try {
    const out = await client.send(new DescribeNetworkInterfacesCommand({
      Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'description', Values: [`${prefix}*`] }],
    }));
    return (out.NetworkInterfaces ?? []).map((n) => ({ id: n.NetworkInterfaceId ?? '?', description: n.Description ?? '' }));
  } finally {
    client.destroy();
  }
};

/** Honours AWS_ENDPOINT_URL_LAMBDA (the AWS SDK's own variable), as the tests' Lambda API emulator uses. */
export const listWithLambda: MappingLister = async (brokerArn) => {
  const { LambdaClient, paginateListEventSourceMappings } = await import('@aws-sdk/client-lambda');
  const client = new LambdaClient({});
  try {
    const uuids: string[] = [];
    for await (const page of paginateListEventSourceMappings({ client }, { EventSourceArn: brokerArn })) {
      for (const mapping of page.EventSourceMappings ?? []) if (mapping.UUID !== undefined) uuids.push(mapping.UUID);
    }
    return uuids;
  } finally {
    client.destroy();
  }
};

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** The interfaces whose trigger is gone (or whose description names none: waited for, to be safe). */
export function orphanedInterfaces(interfaces: readonly PollerInterface[], liveTriggers: readonly string[]): PollerInterface[] {
  const live = new Set(liveTriggers.map((u) => u.toLowerCase()));
  return interfaces.filter((i) => {
    const uuid = UUID.exec(i.description)?.[0]?.toLowerCase();
    return uuid === undefined || !live.has(uuid);
  });
}

const log = createLogger({ component: 'trigger-teardown' });

function property(event: CloudFormationCustomResourceEvent, name: string): string {
  const value: unknown = event.ResourceProperties[name];
  if (typeof value !== 'string' || value === '') throw new ConfigError(name, `missing custom resource property ${name}`);
  return value;
}

export function createTriggerTeardownHandler(list: InterfaceLister = listWithEc2, mappings: MappingLister = listWithLambda): (event: CloudFormationCustomResourceEvent) => Promise<AsyncStart | AsyncAnswer> {
  return async (event) => {
    if (!isCompleteRequest(event)) return { PhysicalResourceId: physicalIdOf(event, TRIGGER_TEARDOWN_PHYSICAL_ID), StartedAt: Date.now() };
    if (event.RequestType !== 'Delete') return { IsComplete: true, Data: { Left: '' } };
    const waitedMs = Date.now() - event.StartedAt;
    let left: string[] | undefined;
    let vpcId = '';
    try {
      vpcId = property(event, 'VpcId');
      const brokerArn = property(event, 'BrokerArn');
      const prefix = `AWS Lambda VPC ENI-armq-${property(event, 'AccountId')}-`;
      const live = await mappings(brokerArn);
      left = orphanedInterfaces(await list(vpcId, prefix), live).map((i) => i.id);
    } catch (error) {
      log.warn('could not list the pollers\' network interfaces this time; looking again at the next call', errorFields(error));
    }
    if (left !== undefined && left.length === 0) {
      log.info('trigger pollers released their network interfaces', { vpcId, waitedMs });
      return { IsComplete: true, Data: { Left: '' } };
    }
    const waitSeconds = Number(event.ResourceProperties.WaitSeconds);
    if (waitedMs >= (Number.isFinite(waitSeconds) ? waitSeconds : 600) * 1000) {
      log.warn('trigger pollers still hold network interfaces; letting the deletion go on (delete them by hand if they stay)', { vpcId, interfaces: left ?? 'unknown' });
      // Bounded: CloudFormation caps a custom resource's response at 4,096 bytes; the log has every interface.
      return { IsComplete: true, Data: { Left: left === undefined ? 'unknown' : `${left.length}: ${left.slice(0, 5).join(',')}${left.length > 5 ? ',...' : ''}` } };
    }
    log.info('waiting for trigger pollers to release their network interfaces', { vpcId, interfaces: left?.length ?? 'unknown' });
    return { IsComplete: false };
  };
}

export const handler = createTriggerTeardownHandler();
