/**
 * `npm run shards -- status|drain [--handler NAME]...`: the operator's view of each handler's shard queues, over AMQP only
 * (passive declares, like the runner; the management API is not needed).
 *
 *   status  each shard queue with its ready messages and consumers, the surplus shards a lower `concurrency` left (being
 *           drained by a runner, or holding messages nobody consumes), and the dead-letter queue.
 *   drain   declares the topology from the config (which unbinds the surplus shards), then moves the messages of every
 *           surplus shard that has no consumer back through the handler's exchange and deletes it when empty: what a
 *           runner or the AWS drain resource would have done, for a broker where neither will run.
 */
import amqp from 'amqplib';
import type { ResolvedConfig, ResolvedHandlerConfig } from '../../config/config.js';
import { WarrenError } from '../../runtime/errors.js';
import { deleteIfDrained, isWarrenShard, moveShardMessages, queueState, surplusShards, type QueueState } from '../../topology/surplusShards.js';
import { declareTopology, deadLetterQueueName, topologyPlan } from '../../topology/topology.js';
import { urlForVhost } from '../../runtime/amqp/amqpUrl.js';

export interface ShardRow {
  readonly queue: string;
  readonly kind: 'shard' | 'surplus' | 'dead letters';
  /** null: the queue does not exist. */
  readonly state: QueueState | null;
  readonly note: string;
}

function noteFor(kind: ShardRow['kind'], state: QueueState | null, handler: string): string {
  if (state === null) return kind === 'shard' ? 'missing: start the runner (or deploy) to declare it' : '';
  if (kind === 'dead letters') return state.messages > 0 ? `npm run dlq -- list --handler ${handler}` : '';
  if (kind === 'shard') return state.consumers === 0 ? 'no consumer: nothing reads this shard' : 'ok';
  if (state.consumers > 0) return 'surplus: being drained by its consumer, deleted when empty';
  return state.messages > 0 ? `surplus with NO consumer: npm run shards -- drain --handler ${handler}` : 'surplus, empty: drain deletes it';
}

/** The rows `status` prints for one handler. */
export async function shardRows(amqpUrl: string, handler: ResolvedHandlerConfig): Promise<ShardRow[]> {
  const connection = await amqp.connect(urlForVhost(amqpUrl, handler.vhost));
  connection.on('error', () => undefined);
  try {
    const rows: ShardRow[] = [];
    for (const queue of topologyPlan(handler).shards) {
      const state = await queueState(connection, queue);
      rows.push({ queue, kind: 'shard', state, note: noteFor('shard', state, handler.name) });
    }
    for (const state of await surplusShards(connection, handler)) rows.push({ queue: state.queue, kind: 'surplus', state, note: noteFor('surplus', state, handler.name) });
    const dlq = deadLetterQueueName(handler.queue);
    const state = await queueState(connection, dlq);
    rows.push({ queue: dlq, kind: 'dead letters', state, note: noteFor('dead letters', state, handler.name) });
    return rows;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

export interface DrainReport { readonly queue: string; readonly moved: number; readonly deleted: boolean; readonly skipped?: string }

/** Declares `handler`'s topology, then moves and deletes each surplus shard without a consumer. */
export async function drainSurplusShards(amqpUrl: string, handler: ResolvedHandlerConfig): Promise<DrainReport[]> {
  const connection = await amqp.connect(urlForVhost(amqpUrl, handler.vhost));
  connection.on('error', () => undefined);
  try {
    const { orphans } = await declareTopology(connection, handler);
    const out: DrainReport[] = [];
    for (const queue of orphans) {
      if (!(await isWarrenShard(connection, handler, queue))) { out.push({ queue, moved: 0, deleted: false, skipped: 'not a Warren shard queue of this handler (other arguments): left alone' }); continue; }
      const state = await queueState(connection, queue);
      if (state !== null && state.consumers > 0) { out.push({ queue, moved: 0, deleted: false, skipped: `${state.consumers} consumer(s) on it (a runner draining it?): left to them` }); continue; }
      const moved = await moveShardMessages(connection, handler.queue, queue);
      out.push({ queue, moved, deleted: await deleteIfDrained(connection, queue) });
    }
    return out;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

function pick(config: ResolvedConfig, names: readonly string[], configPath: string): ResolvedHandlerConfig[] {
  const unknown = names.filter((n) => !config.handlers.some((h) => h.name === n));
  if (unknown.length > 0) throw new WarrenError(`--handler ${unknown.join(', ')}: no such handler in ${configPath} (have: ${config.handlers.map((h) => h.name).join(', ')})`);
  return names.length === 0 ? [...config.handlers] : config.handlers.filter((h) => names.includes(h.name));
}

/** Runs `shards status` or `shards drain`, writing to `out`; returns the exit code. */
export async function shardsCommand(amqpUrl: string, config: ResolvedConfig, configPath: string, action: string | undefined, names: readonly string[], out: (text: string) => void): Promise<number> {
  const handlers = pick(config, names, configPath);
  if (action === 'status' || action === undefined) {
    let stranded = 0;
    for (const handler of handlers) {
      const rows = await shardRows(amqpUrl, handler);
      out(`${handler.name}: exchange "${handler.queue}", concurrency ${handler.concurrency}, vhost "${handler.vhost}"\n`);
      const width = Math.max(...rows.map((r) => r.queue.length), 5);
      out(`  ${'queue'.padEnd(width)}  ${'ready'.padStart(7)}  ${'consumers'.padStart(9)}  note\n`);
      for (const r of rows) {
        out(`  ${r.queue.padEnd(width)}  ${(r.state === null ? '-' : String(r.state.messages)).padStart(7)}  ${(r.state === null ? '-' : String(r.state.consumers)).padStart(9)}  ${r.note}\n`);
        if (r.kind !== 'dead letters' && r.state !== null && r.state.consumers === 0) stranded += r.state.messages;
      }
    }
    out(stranded > 0 ? `${stranded} ready message(s) in shard queues without a consumer\n` : 'every shard queue holding messages has a consumer\n');
    out('(ready = messages waiting; messages a consumer holds unacked are not counted)\n');
    return 0;
  }
  if (action === 'drain') {
    for (const handler of handlers) {
      const reports = await drainSurplusShards(amqpUrl, handler);
      if (reports.length === 0) out(`${handler.name}: no surplus shard\n`);
      for (const r of reports) {
        out(r.skipped !== undefined ? `${r.queue}: skipped, ${r.skipped}\n` : `${r.queue}: moved ${r.moved} message(s) back through exchange "${handler.queue}"${r.deleted ? ', deleted' : ', not deleted (not empty yet: run drain again)'}\n`);
      }
    }
    return 0;
  }
  throw new WarrenError(`shards expects "status" or "drain", received ${JSON.stringify(action)}`);
}
