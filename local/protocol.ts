/** Messages between the runner (pool side) and a worker process (worker side), over the fork IPC channel. */
import type { ConnectionStats } from '../runtime/ConnectionManager.js';
import type { BatchSummary } from '../runtime/defineHandler.js';
import type { RmqEvent } from '../runtime/event.js';

/** A worker's connection stats before it opened (or after it lost) its connection. */
export const NO_DB: ConnectionStats = { connects: 0, connected: false, threadId: null, served: 0, connectedAt: null };

export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
}

export type ToWorker =
  | { readonly type: 'batch'; readonly id: number; readonly event: RmqEvent }
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

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'fatal'; readonly error: SerializedError }
  | { readonly type: 'result'; readonly id: number; readonly ok: true; readonly summary: BatchSummary; readonly db: ConnectionStats; readonly ms: number }
  | { readonly type: 'result'; readonly id: number; readonly ok: false; readonly error: SerializedError; readonly db: ConnectionStats; readonly ms: number }
  | { readonly type: 'closed'; readonly db: ConnectionStats }
  | Pong;

export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
}
