/**
 * Custom resource that holds the handler roles back on stack deletion until the Amazon MQ triggers' pollers have
 * released their network interfaces. CloudFormation reports a trigger deleted before Lambda has removed the pollers'
 * network interfaces, and deleting the role right after leaves Lambda unable to remove them (the interfaces stay and
 * the VPC cannot be deleted). `@cdklabs/cdk-amazonmq` works around it the same way (src/mq-esm/event-source-base.ts:
 * a custom resource between the role and the trigger that waits for `AWS Lambda VPC ENI-armq-<account>-<esm id>*`).
 *
 * Wiring (lib/WarrenTriggerTeardown.ts): the resource depends on every handler role (so it is deleted before them) and
 * every trigger depends on it (so it is deleted after them). On Delete it polls DescribeNetworkInterfaces for the
 * pollers' interfaces in the stack's VPC until none is left, up to `WaitSeconds`; then it succeeds anyway (logging the
 * interfaces left) so a stuck interface never blocks the deletion forever. Create and Update do nothing.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { sleep } from './backoff.js';
import { ConfigError } from './errors.js';
import { createLogger } from './logger.js';

export const TRIGGER_TEARDOWN_PHYSICAL_ID = 'warren-trigger-teardown';

/** Lists the IDs of network interfaces whose description starts with `prefix` in `vpcId`; the default asks EC2. */
export type InterfaceLister = (vpcId: string, prefix: string) => Promise<string[]>;

export const listWithEc2: InterfaceLister = async (vpcId, prefix) => {
  const { EC2Client, DescribeNetworkInterfacesCommand } = await import('@aws-sdk/client-ec2');
  const client = new EC2Client({});
  try {
    const out = await client.send(new DescribeNetworkInterfacesCommand({
      Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'description', Values: [`${prefix}*`] }],
    }));
    return (out.NetworkInterfaces ?? []).map((n) => n.NetworkInterfaceId ?? '?');
  } finally {
    client.destroy();
  }
};

const log = createLogger({ component: 'trigger-teardown' });

function property(event: CloudFormationCustomResourceEvent, name: string): string {
  const value: unknown = event.ResourceProperties[name];
  if (typeof value !== 'string' || value === '') throw new ConfigError(name, `missing custom resource property ${name}`);
  return value;
}

export function createTriggerTeardownHandler(list: InterfaceLister = listWithEc2, pollMs = 15_000): (event: CloudFormationCustomResourceEvent) => Promise<{ PhysicalResourceId: string; Data: { Left: string } }> {
  return async (event) => {
    if (event.RequestType !== 'Delete') return { PhysicalResourceId: TRIGGER_TEARDOWN_PHYSICAL_ID, Data: { Left: '' } };
    const vpcId = property(event, 'VpcId');
    const prefix = `AWS Lambda VPC ENI-armq-${property(event, 'AccountId')}-`;
    const waitMs = Number(property(event, 'WaitSeconds')) * 1000;
    const started = Date.now();
    for (;;) {
      const left = await list(vpcId, prefix);
      if (left.length === 0) {
        log.info('trigger pollers released their network interfaces', { vpcId, waitedMs: Date.now() - started });
        return { PhysicalResourceId: event.PhysicalResourceId, Data: { Left: '' } };
      }
      if (Date.now() - started + pollMs > waitMs) {
        log.warn('trigger pollers still hold network interfaces; letting the deletion go on (delete them by hand if they stay)', { vpcId, interfaces: left });
        return { PhysicalResourceId: event.PhysicalResourceId, Data: { Left: left.join(',') } };
      }
      log.info('waiting for trigger pollers to release their network interfaces', { vpcId, interfaces: left.length });
      await sleep(pollMs);
    }
  };
}

export const handler = createTriggerTeardownHandler();
