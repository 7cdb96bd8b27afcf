/**
 * `Custom::WarrenShardDrain`: one per nested stack of handlers (lib/WarrenShardDrain.ts), served by the topology
 * function (lib/functions/brokerResources.ts) behind a Provider with asynchronous completion (asyncCompletion.ts). It
 * lists its handlers' shards (`Shards`), every trigger of the group depends on it, and its logical id changes whenever
 * that list changes. So when a lower `concurrency` (or a removed handler) takes a trigger away, CloudFormation creates
 * the new drain resource and, in the update's cleanup phase, deletes the removed trigger first and the old drain
 * resource after it (a resource is deleted before the one it depends on: "DependsOn attribute", CloudFormation
 * Template Reference; removed resources go in the cleanup phase, after every update: "Monitor the progress of a stack
 * update", CloudFormation User Guide). By then the topology resource has unbound the surplus shard.
 *
 * Delete (with the OLD list of shards; Create and Update do nothing), spread over `isComplete` calls:
 *   1. For each shard of the list: is it still bound to its handler's exchange (management API)? Then it is not a
 *      surplus shard (the stack is being deleted and the topology stays on the broker, the handler moved to another
 *      nested stack, or only another handler changed): leave it.
 *   2. An unbound shard: wait until the queue has no consumer (CloudFormation may report a trigger deleted before its
 *      poller let go); then take its name out of the application user's read permission (fault 8: only now that its
 *      trigger is gone), move its messages back through the exchange (`moveShardMessages`: routing key and message_id
 *      kept, so the inbox still applies each once; they land on the shard their key maps to now), as many as one
 *      call's budget allows, and delete it when drained.
 *   3. Complete when no unbound shard is left; otherwise ask again at the next `isComplete`.
 * It never fails: a Delete runs in the cleanup phase, a rollback or `cdk destroy`, where a failure helps no one. A
 * broker, secret or network error is logged and tried again at the next call; after `giveUpMs` it completes, logging
 * and reporting in `Left` what stays: `npm run shards -- status` shows such a queue and `npm run shards -- drain`
 * finishes it.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import amqp, { type ChannelModel } from 'amqplib';
import { ENV } from '../../runtime/env.js';
import { ConfigError } from '../../runtime/errors.js';
import { createLogger, errorFields } from '../../runtime/logger.js';
import { deleteIfDrained, moveShardMessages, queueState } from '../../topology/surplusShards.js';
import { readSecretsManagerCredentials, type BrokerCredentials, type SecretReader } from '../../runtime/amqp/brokerSecret.js';
import { ASYNC_COMPLETION_DEFAULTS, callDeadline, isCompleteRequest, physicalIdOf, type AsyncAnswer, type AsyncStart } from './asyncCompletion.js';
import { dropRead } from './brokerReadPermission.js';
import { connectWithRetry } from './brokerConnect.js';

export const SHARD_DRAIN_RESOURCE_TYPE = 'Custom::WarrenShardDrain';
export const SHARD_DRAIN_PHYSICAL_ID = 'warren-shard-drain';

/** One handler's shards in the `Shards` property: `<exchange>.0` .. `<exchange>.<concurrency-1>` on `vhost`. */
export interface DrainedHandler {
  readonly vhost: string;
  /** The handler's consistent-hash exchange, which is also its queue's base name. */
  readonly exchange: string;
  readonly concurrency: number;
}

/** `Data` of a completed Delete: `Moved` and `Deleted` count what the last `isComplete` call did, `Left` what stays. */
export interface ShardDrainData { readonly Moved: string; readonly Deleted: string; readonly Left: string }

/** The defaults of `ShardDrainOptions`. */
export const SHARD_DRAIN_RESOURCE_DEFAULTS = { giveUpMs: 45 * 60_000, callBudgetMs: ASYNC_COMPLETION_DEFAULTS.callBudgetMs } as const;

export interface ShardDrainOptions {
  /** After this long since the Delete began, complete anyway (logging what is left). @default 2_700_000 (45 minutes) */
  readonly giveUpMs?: number;
  /** Longest work of one `isComplete` call. @default 90_000 */
  readonly callBudgetMs?: number;
}

const log = createLogger({ component: 'shard-drain-resource' });

/**
 * Where the broker settings come from when the resource leaves them out: the topology function's environment, set in the
 * parent stack (a nested stack gets the broker's endpoint list as a String parameter, on which Fn::Select fails: cfn-lint E1020).
 */
export const SHARD_DRAIN_ENV = { BrokerEndpoint: ENV.brokerEndpoint, ConsoleUrl: ENV.brokerConsoleUrl, SecretArn: ENV.brokerSecretArn } as const;

function property(event: CloudFormationCustomResourceEvent, name: string): string {
  const value: unknown = event.ResourceProperties[name] ?? (name in SHARD_DRAIN_ENV ? process.env[SHARD_DRAIN_ENV[name as keyof typeof SHARD_DRAIN_ENV]] : undefined);
  if (typeof value !== 'string' || value === '') throw new ConfigError(name, `missing custom resource property ${name}`);
  return value;
}

/** The shard queues the `Shards` property lists, per vhost. */
export function listedShards(raw: unknown): { vhost: string; exchange: string; queue: string }[] {
  let value: unknown;
  try { value = JSON.parse(typeof raw === 'string' ? raw : ''); } catch { value = undefined; }
  const ok = Array.isArray(value) && value.every((h) => typeof h === 'object' && h !== null && typeof (h as DrainedHandler).vhost === 'string'
    && typeof (h as DrainedHandler).exchange === 'string' && Number.isInteger((h as DrainedHandler).concurrency));
  if (!ok) throw new ConfigError('Shards', `expected a JSON array of {"vhost", "exchange", "concurrency"}, received ${JSON.stringify(raw)}`);
  return (value as DrainedHandler[]).flatMap((h) => Array.from({ length: h.concurrency }, (_, i) => ({ vhost: h.vhost, exchange: h.exchange, queue: `${h.exchange}.${i}` })));
}

/** True when `queue` has a binding from `exchange` (management API, `GET /api/bindings/<vhost>/e/<exchange>/q/<queue>`). */
export async function isBound(consoleUrl: string, credentials: BrokerCredentials, vhost: string, exchange: string, queue: string): Promise<boolean> {
  const auth = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  const path = `/api/bindings/${encodeURIComponent(vhost)}/e/${encodeURIComponent(exchange)}/q/${encodeURIComponent(queue)}`;
  const response = await fetch(`${consoleUrl.replace(/\/$/, '')}${path}`, { headers: { authorization: auth }, signal: AbortSignal.timeout(10_000) });
  if (response.status === 404) return false; // the exchange or the queue is gone
  if (!response.ok) throw new Error(`management API answered HTTP ${response.status} to GET ${path}`);
  return ((await response.json()) as unknown[]).length > 0;
}

interface Progress { moved: number; deleted: number; left: string[]; worked: boolean }

/** One call's work on the unbound shards of one vhost: returns the shards still to do. */
async function drainVhost(event: CloudFormationCustomResourceEvent, credentials: BrokerCredentials, vhost: string, shards: readonly { exchange: string; queue: string }[], deadline: number, progress: Progress): Promise<void> {
  const consoleUrl = property(event, 'ConsoleUrl');
  const surplus: { exchange: string; queue: string }[] = [];
  for (const shard of shards) {
    if (!(await isBound(consoleUrl, credentials, vhost, shard.exchange, shard.queue))) surplus.push(shard);
  }
  if (surplus.length === 0) return;
  const endpoint = new URL(property(event, 'BrokerEndpoint'));
  const protocol = endpoint.protocol.replace(/:$/, '');
  const port = endpoint.port === '' ? (protocol === 'amqps' ? 5671 : 5672) : Number(endpoint.port);
  const retryForMs = Math.max(1_000, Math.min(60_000, deadline - Date.now()));
  const connection: ChannelModel = await connectWithRetry((timeoutMs) => amqp.connect({ protocol, hostname: endpoint.hostname, port, username: credentials.username, password: credentials.password, vhost }, { timeout: timeoutMs }), `${protocol}://${endpoint.hostname}:${port}`, { retryForMs });
  connection.on('error', () => undefined);
  const appUser = typeof event.ResourceProperties.AppUser === 'string' ? event.ResourceProperties.AppUser : '';
  try {
    for (const { exchange, queue } of surplus) {
      // Past this call's budget, the rest waits for the next call; the first shard of a call always gets a round.
      if (progress.worked && Date.now() > deadline) { progress.left.push(queue); continue; }
      progress.worked = true;
      const state = await queueState(connection, queue);
      if (state !== null && state.consumers > 0) {
        log.info('surplus shard still has a consumer (its trigger\'s poller has not let go yet); asking again', { queue, consumers: state.consumers });
        progress.left.push(queue);
        continue;
      }
      // Its trigger is gone and nothing consumes it: now its read permission may go (fault 8).
      if (appUser !== '') log.info('read permission of the surplus shard', { queue, user: appUser, result: await dropRead({ consoleUrl, admin: credentials }, vhost, appUser, [queue]) });
      if (state === null) continue;
      const moved = await moveShardMessages(connection, exchange, queue, { deadline });
      progress.moved += moved;
      if (await deleteIfDrained(connection, queue)) {
        progress.deleted += 1;
        log.info('surplus shard drained and deleted', { queue, moved });
      } else {
        progress.left.push(queue);
      }
    }
  } finally {
    await connection.close().catch(() => undefined);
  }
}

export function createShardDrainHandler(readSecret: SecretReader = readSecretsManagerCredentials, options: ShardDrainOptions = {}): (event: CloudFormationCustomResourceEvent, context?: { getRemainingTimeInMillis?: () => number }) => Promise<AsyncStart | AsyncAnswer> {
  return async (event, context) => {
    // The `GiveUpSeconds` property (set by the stack) wins over the option: the option is the tests' knob.
    const giveUpSeconds = Number(event.ResourceProperties.GiveUpSeconds);
    const giveUpMs = Number.isFinite(giveUpSeconds) && giveUpSeconds > 0 ? giveUpSeconds * 1000 : options.giveUpMs ?? SHARD_DRAIN_RESOURCE_DEFAULTS.giveUpMs;
    // onEvent: nothing that can fail or take long.
    if (!isCompleteRequest(event)) return { PhysicalResourceId: physicalIdOf(event, SHARD_DRAIN_PHYSICAL_ID), StartedAt: Date.now() };
    if (event.RequestType !== 'Delete') return { IsComplete: true, Data: { Moved: '0', Deleted: '0', Left: '' } };
    const deadline = callDeadline(context, options.callBudgetMs ?? SHARD_DRAIN_RESOURCE_DEFAULTS.callBudgetMs);
    const progress: Progress = { moved: 0, deleted: 0, left: [], worked: false };
    let failure: unknown;
    try {
      const shards = listedShards(event.ResourceProperties.Shards);
      const credentials = await readSecret(property(event, 'SecretArn'));
      for (const vhost of [...new Set(shards.map((s) => s.vhost))]) {
        await drainVhost(event, credentials, vhost, shards.filter((s) => s.vhost === vhost), deadline, progress);
      }
    } catch (error) {
      failure = error;
      log.warn('draining surplus shards failed this time; asking again at the next call', errorFields(error));
    }
    const done = (left: string): AsyncAnswer => ({ IsComplete: true, Data: { Moved: String(progress.moved), Deleted: String(progress.deleted), Left: left } });
    if (failure === undefined && progress.left.length === 0) return done('');
    if (Date.now() - event.StartedAt >= giveUpMs) {
      log.error('giving up on the surplus shards; their messages stay on the broker (npm run shards -- drain moves them)', { left: progress.left, ...(failure === undefined ? {} : errorFields(failure)) });
      // Bounded: CloudFormation caps a custom resource's response at 4,096 bytes; the log has every queue.
      return done(failure !== undefined ? 'error' : `${progress.left.length}: ${progress.left.slice(0, 3).join(',')}${progress.left.length > 3 ? ',...' : ''}`.slice(0, 500));
    }
    return { IsComplete: false };
  };
}
