/**
 * The broker-user custom resource's Update and Delete as CloudFormation sends them outside a clean deploy, against the
 * real management API on :15672 (a user of this test's own; the shared broker is never stopped: an unreachable or
 * rebooting broker is a closed port or a paused TCP proxy in front of the management API, test/helpers/tcpProxy.ts).
 *   - Fault 8: an Update that lowers a concurrency keeps read on the removed shard (its trigger is deleted later, in the
 *     cleanup phase); the next Update writes the config's permissions alone.
 *   - Fault 9: a Delete never fails: a broker that comes back within the retry has the user deleted; one that does not
 *     (deleted with the stack, or down) lets the Delete succeed, with a log line naming the user.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../config/config.js';
import { brokerUserPhysicalId, createBrokerUserHandler } from '../../lib/functions/brokerUserResource.js';
import type { SecretReader } from '../../runtime/amqp/brokerSecret.js';
import { brokerAppPermissions } from '../../topology/brokerPermissions.js';
import { startTcpProxy } from '../helpers/tcpProxy.js';

const CONSOLE_URL = process.env.WARREN_TEST_MANAGEMENT_URL ?? 'http://127.0.0.1:15672';
const AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
const suffix = randomBytes(4).toString('hex');
const appUser = { username: `warren-user-test-${suffix}`, password: `pw-${randomBytes(8).toString('hex')}` };
const queue = `user-test-${suffix}`;
const secrets: SecretReader = async (arn) => (arn === 'app' ? appUser : { username: 'guest', password: 'guest' });
const permissions = (concurrency: number) => JSON.stringify(brokerAppPermissions(resolveConfig({ handlers: [{ name: 'orders', entry: 'functions/orders.ts', queue, concurrency }] }).handlers));
const properties = (concurrency: number, consoleUrl = CONSOLE_URL) => ({ ServiceToken: 'x', ConsoleUrl: consoleUrl, AdminSecretArn: 'admin', AppSecretArn: 'app', Permissions: permissions(concurrency) });
const base = { ServiceToken: 'x', ResponseURL: 'https://example.invalid', StackId: 'arn:aws:cloudformation:eu-west-1:111122223333:stack/Warren/1', RequestId: 'r', LogicalResourceId: 'BrokerUserResource', ResourceType: 'Custom::WarrenBrokerUser' };

async function management(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${CONSOLE_URL}${path}`, { method, headers: { authorization: AUTH, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) as unknown };
}
const userPath = `/api/users/${encodeURIComponent(appUser.username)}`;
const readOf = async () => ((await management('GET', `/api/permissions/%2F/${encodeURIComponent(appUser.username)}`)).body as { read: string }).read;
const shards = (n: number) => `^(?:${Array.from({ length: n }, (_, i) => `user\\-test\\-${suffix}\\.${i}`).join('|')})$`;

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

afterAll(async () => { await management('DELETE', userPath); });

describe('Function: createBrokerUserHandler(), lowering a concurrency (fault 8)', () => {
  it('keeps read on the removed shard through the Update, and the next Update writes the config\'s permissions alone', async () => {
    const onEvent = createBrokerUserHandler(secrets);
    await onEvent({ ...base, RequestType: 'Create', ResourceProperties: properties(3) } as CloudFormationCustomResourceEvent);
    expect(await readOf()).toBe(shards(3));
    const physical = brokerUserPhysicalId(appUser.username);
    await onEvent({ ...base, RequestType: 'Update', PhysicalResourceId: physical, ResourceProperties: properties(2), OldResourceProperties: properties(3) } as CloudFormationCustomResourceEvent);
    expect(await readOf()).toBe(shards(3)); // shard 2's trigger still exists until the cleanup phase
    await onEvent({ ...base, RequestType: 'Update', PhysicalResourceId: physical, ResourceProperties: { ...properties(2), ConsoleUrl: `${CONSOLE_URL}/` }, OldResourceProperties: properties(2) } as CloudFormationCustomResourceEvent);
    expect(await readOf()).toBe(shards(2));
  });
});

describe('Function: createBrokerUserHandler(), Delete when the broker cannot be reached (fault 9)', () => {
  const deleteEvent = (consoleUrl: string): CloudFormationCustomResourceEvent => ({ ...base, RequestType: 'Delete', PhysicalResourceId: brokerUserPhysicalId(appUser.username), ResourceProperties: properties(2, consoleUrl) });

  it('succeeds after its bounded retry when nothing answers (the broker going away with the stack), leaving the user', async () => {
    await management('PUT', userPath, { password: appUser.password, tags: '' });
    const onEvent = createBrokerUserHandler(secrets, { connectTimeoutMs: 200, baseDelayMs: 50, maxDelayMs: 100 }, { deleteRetryMs: 1_500 });
    const started = Date.now();
    await expect(onEvent(deleteEvent(`http://127.0.0.1:${await closedPort()}`))).resolves.toEqual({ PhysicalResourceId: brokerUserPhysicalId(appUser.username), Data: { Username: appUser.username } });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await management('GET', userPath)).status).toBe(200);
  });

  it('deletes the user when the broker comes back within the retry (a reboot)', async () => {
    const proxy = await startTcpProxy(Number(new URL(CONSOLE_URL).port || 80), new URL(CONSOLE_URL).hostname);
    try {
      proxy.pause();
      setTimeout(() => proxy.resume(), 1_000);
      const onEvent = createBrokerUserHandler(secrets, { connectTimeoutMs: 300, baseDelayMs: 50, maxDelayMs: 200 }, { deleteRetryMs: 20_000 });
      await expect(onEvent(deleteEvent(`http://127.0.0.1:${proxy.port}`))).resolves.toMatchObject({ PhysicalResourceId: brokerUserPhysicalId(appUser.username) });
      expect((await management('GET', userPath)).status).toBe(404);
    } finally {
      await proxy.close();
    }
  });

  it('succeeds when the administrator\'s secret cannot be read', async () => {
    const onEvent = createBrokerUserHandler(async () => { throw new Error('AccessDeniedException: secret scheduled for deletion'); }, {}, { deleteRetryMs: 300 });
    await expect(onEvent(deleteEvent(CONSOLE_URL))).resolves.toMatchObject({ PhysicalResourceId: brokerUserPhysicalId(appUser.username) });
  });
});
