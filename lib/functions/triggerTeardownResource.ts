/**
 * Custom resource that holds a handler's role back until the Amazon MQ triggers' pollers have released their network
 * interfaces. CloudFormation reports a trigger deleted before Lambda has removed the pollers' network interfaces, and
 * deleting the role right after leaves Lambda unable to remove them (the interfaces stay and the VPC cannot be
 * deleted). `@cdklabs/cdk-amazonmq` works around it the same way (src/mq-esm/event-source-base.ts: a custom resource
 * between the role and the trigger that waits for `AWS Lambda VPC ENI-armq-<account>-<esm id>*`).
 *
 * Wiring (lib/WarrenTriggerTeardown.ts): one resource per handler, which depends on the handler's role (so it is deleted
 * before it), and the handler's triggers depend on it (so it is deleted after them). So it runs whenever that handler's
 * triggers go: the whole stack deleted, or this one handler removed in an update.
 *
 * On Delete it polls until no poller interface in the VPC belongs to a trigger that no longer exists: an interface's
 * description ends in its trigger's UUID, and the live triggers are the broker's event source mappings (Lambda
 * ListEventSourceMappings), so the other handlers' pollers, which stay, are not waited for. Up to `WaitSeconds`; then
 * it succeeds anyway (logging the interfaces left) so a stuck interface never blocks the deletion forever. Create and
 * Update do nothing.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { sleep } from '../../runtime/backoff.js';
import { ConfigError } from '../../runtime/errors.js';
import { createLogger } from '../../runtime/logger.js';

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

export function createTriggerTeardownHandler(list: InterfaceLister = listWithEc2, pollMs = 15_000, mappings: MappingLister = listWithLambda): (event: CloudFormationCustomResourceEvent) => Promise<{ PhysicalResourceId: string; Data: { Left: string } }> {
  return async (event) => {
    if (event.RequestType !== 'Delete') return { PhysicalResourceId: TRIGGER_TEARDOWN_PHYSICAL_ID, Data: { Left: '' } };
    const vpcId = property(event, 'VpcId');
    const brokerArn = property(event, 'BrokerArn');
    const prefix = `AWS Lambda VPC ENI-armq-${property(event, 'AccountId')}-`;
    const waitMs = Number(property(event, 'WaitSeconds')) * 1000;
    const started = Date.now();
    for (;;) {
      const live = await mappings(brokerArn);
      const left = orphanedInterfaces(await list(vpcId, prefix), live).map((i) => i.id);
      if (left.length === 0) {
        log.info('trigger pollers released their network interfaces', { vpcId, waitedMs: Date.now() - started });
        return { PhysicalResourceId: event.PhysicalResourceId, Data: { Left: '' } };
      }
      if (Date.now() - started + pollMs > waitMs) {
        log.warn('trigger pollers still hold network interfaces; letting the deletion go on (delete them by hand if they stay)', { vpcId, interfaces: left });
        // Bounded: CloudFormation caps a custom resource's response at 4,096 bytes; the log has every interface.
        return { PhysicalResourceId: event.PhysicalResourceId, Data: { Left: `${left.length}: ${left.slice(0, 5).join(',')}${left.length > 5 ? ',...' : ''}` } };
      }
      log.info('waiting for trigger pollers to release their network interfaces', { vpcId, interfaces: left.length });
      await sleep(pollMs);
    }
  };
}

export const handler = createTriggerTeardownHandler();
