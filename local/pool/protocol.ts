/** Messages between the runner (pool side) and a worker (worker side): over the fork IPC channel, or a thread's MessagePort. */
import type { ConnectionStats } from '../../runtime/db/ConnectionManager.js';
import type { BatchSummary } from '../../runtime/defineHandler.js';
import type { RmqEvent } from '../../runtime/event.js';
import type { UnmarkedRows } from '../../runtime/outbox/SentMarks.js';

/** A worker's connection stats before it opened (or after it lost) its connection. */
export const NO_DB: ConnectionStats = { connects: 0, connected: false, threadId: null, served: 0, connectedAt: null };

export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
}

/** What a worker needs to run one handler: its module and the variables its invocations see (`runSerialInHandlerScope`). */
export interface HandlerEntry {
  /** Absolute path of the handler module (a `.js` file in a built runner). */
  readonly entry: string;
  readonly exportName: string;
  /** WARREN_HANDLER, DATABASE_URL, WARREN_DLQ_*, WARREN_PUBLISH_AMQP_URL and the runner's extra worker variables. */
  readonly env: Readonly<Record<string, string>>;
  /** The handler's `timeoutSeconds`: the pool ends a worker whose batch outlives it. None: no limit. */
  readonly timeoutSeconds?: number;
}

/** The handler table: sent once to every worker (`init`), so a batch names only its handler. */
export type HandlerTable = Readonly<Record<string, HandlerEntry>>;

/** One handler that failed the start-up import check. */
export interface ImportFailure {
  readonly handler: string;
  readonly entry: string;
  readonly error: SerializedError;
}

export type ToWorker =
  | { readonly type: 'init'; readonly handlers: HandlerTable }
  /**
   * `marks`: outbox rows of this shard that another worker published and had not marked sent yet (`SentMarks`); this
   * worker marks them before it looks for rows left behind, so it does not publish them again.
   */
  | { readonly type: 'batch'; readonly id: number; readonly handler: string; readonly queue: string; readonly event: RmqEvent; readonly marks?: readonly UnmarkedRows[] }
  /** Start-up check: import every distinct module of the table once, answer `checked`, then exit. */
  | { readonly type: 'check' }
  | { readonly type: 'close' }
  /** Readiness probe: answered at once, outside the batch queue (see `Pong`). */
  | { readonly type: 'ping'; readonly id: number };

/**
 * A worker's answer to a ping. `db`: `ok` after `SELECT 1` succeeded through its connection manager; `busy` when a batch
 * is using the connection (not queried, judged by `stats.connected`); `lazy` when no batch has opened it yet; `down`
 * when `SELECT 1` failed (`error` says why).
 */
export interface Pong {
  readonly type: 'pong';
  readonly id: number;
  readonly db: 'ok' | 'busy' | 'lazy' | 'down';
  readonly stats: ConnectionStats;
  readonly error?: SerializedError;
}

/** `db`: the worker's connections summed (connects, served), `connected` when any is open; `open`: how many are. */
export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'fatal'; readonly error: SerializedError }
  | { readonly type: 'checked'; readonly failures: readonly ImportFailure[]; readonly modules: number; readonly ms: number }
  /** Batch `id` imported its handler's module first (once per handler and worker): its timeout counts from here. */
  | { readonly type: 'loaded'; readonly id: number }
  /** `unmarked`: the batch's shard's rows this worker published and has not marked sent yet (handed to the next worker). */
  | { readonly type: 'result'; readonly id: number; readonly ok: true; readonly summary: BatchSummary; readonly db: ConnectionStats; readonly open: number; readonly ms: number; readonly unmarked?: readonly UnmarkedRows[] }
  | { readonly type: 'result'; readonly id: number; readonly ok: false; readonly error: SerializedError; readonly db: ConnectionStats; readonly open: number; readonly ms: number; readonly unmarked?: readonly UnmarkedRows[] }
  | { readonly type: 'closed'; readonly db: ConnectionStats }
  | Pong;

export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
}
