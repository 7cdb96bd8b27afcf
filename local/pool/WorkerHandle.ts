/**
 * Pool side of one worker: starts it (a process or a thread, `runner.workerModel`: see workerChannel.ts), sends it the
 * handler table once, hands it one batch at a time (of any handler in the table), ends it when a batch outlives its
 * handler's `timeoutSeconds` (as Lambda ends a function that times out), and replaces it when it dies.
 */
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import { RUNNER_DEFAULTS } from '../../config/config.js';
import type { ConnectionStats } from '../../runtime/db/ConnectionManager.js';
import type { RmqEvent } from '../../runtime/event.js';
import type { Logger } from '../../runtime/logger.js';
import { WorkerExitedError, WorkerStartError } from '../errors.js';
import { NO_DB, type FromWorker, type HandlerTable, type Pong, type SerializedError, type ToWorker } from './protocol.js';
import type { BatchSummary } from '../../runtime/defineHandler.js';
import { ENV } from '../../runtime/env.js';
import { SENT_MARKS_DEFAULTS } from '../../runtime/outbox/SentMarks.js';
import { runnerMarkHandover, type MarkHandover } from './MarkHandover.js';
import { handlersNeedTypeScript } from '../typescript.js';
import { startWorkerChannel, type WorkerChannel, type WorkerModel } from './workerChannel.js';


export interface WorkerSpec {
  /** e.g. `w3` (shared pool) or `resize.w0` (dedicated to `resize`). */
  readonly id: string;
  /** The handlers this worker may run, with their modules and variables. */
  readonly handlers: HandlerTable;
  /** Process environment (the runner's extra worker variables). */
  readonly env: Readonly<Record<string, string>>;
  /** @default RUNNER_DEFAULTS.workerModel ('thread') */
  readonly model?: WorkerModel;
  /** The worker's V8 heap limit in MB: past it the worker ends (and only it). @default RUNNER_DEFAULTS.workerHeapMb (1024) */
  readonly heapMb?: number;
  /** The worker's V8 young generation in MB (0: V8's own). @default RUNNER_DEFAULTS.workerYoungGenerationMb (192) */
  readonly youngMb?: number;
  /** @default 30_000 */
  readonly startTimeoutMs?: number;
  /** Where a shard's unmarked outbox rows wait for its next batch (`MarkHandover`). @default the runner's one */
  readonly handover?: MarkHandover;
}

/** The batch a worker is running now. */
export interface CurrentBatch {
  readonly handler: string;
  readonly queue: string;
  readonly messages: number;
}

export type BatchOutcome =
  | { readonly ok: true; readonly summary: BatchSummary; readonly ms: number }
  | { readonly ok: false; readonly error: SerializedError; readonly ms: number };

/** Emitted as `'batch'` after every batch the worker was handed, whatever its outcome. */
export interface BatchReport {
  readonly handler: string;
  readonly queue: string;
  readonly messages: number;
  readonly ok: boolean;
  /** The worker's own timing of the invocation, or the time until the process died. */
  readonly ms: number;
  readonly summary?: BatchSummary;
}

interface Pending {
  readonly id: number;
  readonly queue: string;
  resolve(outcome: BatchOutcome): void;
  reject(error: Error): void;
}


export class WorkerHandle extends EventEmitter {
  private child: WorkerChannel | undefined;
  private pending: Pending | undefined;
  private nextId = 1;
  private closing = false;
  private ready = false;
  private crashStreak = 0;
  /** The running batch outlived its handler's timeout and the worker is being ended. */
  private timedOut = false;
  /** Handlers the running worker has imported (their batches' timeouts start at dispatch). */
  private loaded = new Set<string>();
  /** Starts the running batch's timeout once its handler is loaded. */
  private armOnLoad: (() => void) | undefined;
  private readonly pings = new Map<number, { resolve(pong: Pong): void; reject(error: Error): void }>();
  /** Connections opened by earlier processes of this worker (replaced ones). */
  private priorConnects = 0;
  public db: ConnectionStats = NO_DB;
  /** Open MySQL connections of the process (one per distinct database it has served). */
  public openConnections = 0;
  public restarts = 0;
  /** Batches this worker slot has finished (any outcome), across replaced processes. */
  public batchesServed = 0;
  /** The batch running now, if any. */
  public current: CurrentBatch | undefined;
  /** The handler of the last batch this worker ran. */
  public lastHandler: string | undefined;

  public constructor(
    public readonly spec: WorkerSpec,
    private readonly log: Logger,
    private readonly onOutput: (line: string, worker: string) => void,
  ) {
    super();
  }

  /** The worker's own process; undefined for a thread (it runs in the runner's process: see `threadId`). */
  public get pid(): number | undefined { return this.child?.pid; }
  /** The worker's thread, when `model` is `thread`. */
  public get threadId(): number | undefined { return this.child?.threadId; }
  public get model(): WorkerModel { return this.spec.model ?? RUNNER_DEFAULTS.workerModel; }
  /** The running worker, unique in the runner (`pid 1234`, `thread 3`); a replacement has another. */
  public get key(): string | undefined { return this.child?.key; }
  public get isReady(): boolean { return this.ready && this.pending === undefined && !this.closing; }
  public get alive(): boolean { return this.ready; }
  /** Connections this worker slot has opened over its life, across replaced processes. */
  public get totalConnects(): number { return this.priorConnects + this.db.connects; }

  /** Starts the worker, waits for it and sends it the handler table (modules are imported with their first batch). */
  public async start(): Promise<void> {
    // Workers defer the outbox's "sent" marks (`SentMarks`): the runner's relay leaves rows younger than 2 s alone.
    const env = { [ENV.outboxMarkDelayMs]: String(SENT_MARKS_DEFAULTS.localDelayMs), ...this.spec.env, [ENV.worker]: this.spec.id };
    const child = startWorkerChannel(this.model, { env, heapMb: this.spec.heapMb ?? RUNNER_DEFAULTS.workerHeapMb, youngMb: this.spec.youngMb ?? RUNNER_DEFAULTS.workerYoungGenerationMb, typescript: handlersNeedTypeScript(this.spec.handlers) });
    this.child = child;
    this.loaded = new Set();
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => this.onOutput(line, this.spec.id));
    }
    child.on('message', (message: FromWorker) => this.onMessage(message));
    // A send to a process that just died fails with EPIPE: its 'exit' handler requeues the batch and replaces it.
    child.on('error', (error: Error) => this.log.warn(`worker ${child.model} error`, { worker: this.spec.id, pid: child.pid, thread: child.threadId, error: error.message }));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill();
        reject(new WorkerStartError(this.spec.id, `no "ready" within ${this.spec.startTimeoutMs ?? 30_000} ms`));
      }, this.spec.startTimeoutMs ?? 30_000);
      const onMessage = (message: FromWorker) => {
        if (message.type === 'ready') {
          cleanup();
          child.send({ type: 'init', handlers: this.spec.handlers } satisfies ToWorker);
          this.ready = true;
          resolve();
        }
        if (message.type === 'fatal') { cleanup(); reject(new WorkerStartError(this.spec.id, message.error.message)); }
      };
      const onExit = (code: number | null, signal: string | null, reason: string | undefined) => {
        cleanup();
        reject(new WorkerStartError(this.spec.id, `${this.model} exited during start (code ${code ?? '-'}, signal ${signal ?? '-'}${reason === undefined ? '' : `, ${reason}`})`));
      };
      const cleanup = () => { clearTimeout(timer); child.off('message', onMessage); child.off('exit', onExit); };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
    child.once('exit', (code: number | null, signal: string | null, reason: string | undefined) => this.onExit(child, code, signal, reason));
    this.crashStreak = 0;
    this.emit('ready');
  }

  /**
   * Runs one batch of `handler` from shard `queue`; rejects with `WorkerExitedError` if the worker dies first. A batch
   * that outlives the handler's `timeoutSeconds` ends its worker (a loop that never yields can be stopped no other
   * way), and so it is requeued like any batch of a worker that died.
   */
  public run(handler: string, queue: string, event: RmqEvent): Promise<BatchOutcome> {
    const child = this.child;
    if (!this.isReady || child === undefined) return Promise.reject(new Error(`worker ${this.spec.id} is not ready`));
    const messages = Object.values(event.rmqMessagesByQueue).reduce((n, list) => n + list.length, 0);
    const started = performance.now();
    const current = { handler, queue, messages };
    this.current = current;
    this.lastHandler = handler;
    const outcome = new Promise<BatchOutcome>((resolve, reject) => {
      const id = this.nextId++;
      this.pending = { id, resolve, reject, queue };
      const marks = (this.spec.handover ?? runnerMarkHandover).forBatch(queue, child.key);
      const message: ToWorker = { type: 'batch', id, handler, queue, event, ...(marks === undefined ? {} : { marks }) };
      child.send(message);
    });
    const timeoutSeconds = this.spec.handlers[handler]?.timeoutSeconds;
    if (timeoutSeconds !== undefined) {
      // As on Lambda, where a module's import (init) is outside the handler's timeout: the clock starts once the worker
      // has the handler loaded (at once when an earlier batch loaded it, else at its 'loaded').
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        timer = setTimeout(() => {
          if (this.child !== child || this.current !== current) return;
          this.log.error('batch outlived its handler\'s timeoutSeconds; ending its worker (as Lambda ends a function that times out)', { worker: this.spec.id, handler, queue, messages, timeoutSeconds });
          this.timedOut = true;
          child.kill();
        }, timeoutSeconds * 1000);
      };
      if (this.loaded.has(handler)) arm();
      else this.armOnLoad = arm;
      const clear = () => { clearTimeout(timer); this.armOnLoad = undefined; };
      outcome.then(clear, clear);
    }
    const report = (ok: boolean, ms: number, summary?: BatchSummary) => {
      if (this.current === current) this.current = undefined; // 'idle' may have handed it the next batch already
      this.batchesServed += 1;
      this.emit('batch', { handler, queue, messages, ok, ms, ...(summary === undefined ? {} : { summary }) } satisfies BatchReport);
    };
    outcome.then((o) => report(o.ok, o.ms, o.ok ? o.summary : undefined), () => report(false, performance.now() - started));
    return outcome;
  }

  /**
   * Readiness probe over IPC (see `Pong`): the worker runs `SELECT 1` through its connection manager unless a batch is
   * using the connection or none was opened yet. Rejects when the worker is not running or does not answer in time.
   */
  public ping(timeoutMs = 2_000): Promise<Pong> {
    const child = this.child;
    if (!this.ready || child?.connected !== true) return Promise.reject(new Error(`worker ${this.spec.id} is not running`));
    return new Promise<Pong>((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => { this.pings.delete(id); reject(new Error(`worker ${this.spec.id} did not answer a ping within ${timeoutMs} ms`)); }, timeoutMs);
      this.pings.set(id, {
        resolve: (pong) => { clearTimeout(timer); resolve(pong); },
        reject: (error) => { clearTimeout(timer); reject(error); },
      });
      try {
        child.send({ type: 'ping', id } satisfies ToWorker);
      } catch (error) {
        clearTimeout(timer);
        this.pings.delete(id);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /** Asks the worker to close its DB connection and exit; kills it after `timeoutMs`. Safe to call twice. */
  public async close(timeoutMs = 5_000): Promise<void> {
    this.closing = true;
    const child = this.child;
    if (child?.running !== true) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      if (child.connected) child.send({ type: 'close' } satisfies ToWorker);
    } catch {
      // channel already closed
    }
    const timer = setTimeout(() => {
      this.log.warn('worker did not exit in time; killing it', { worker: this.spec.id, pid: child.pid, thread: child.threadId });
      child.kill();
    }, timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  /** Ends the worker at once, SIGKILL or `terminate()` (the in-flight batch, if any, is rejected and requeued by the caller). */
  public kill(): void {
    this.child?.kill();
  }

  private onMessage(message: FromWorker): void {
    if (message.type === 'loaded') {
      if (this.pending?.id !== message.id || this.current === undefined) return;
      this.loaded.add(this.current.handler);
      const arm = this.armOnLoad;
      this.armOnLoad = undefined;
      arm?.();
    } else if (message.type === 'result') {
      this.db = message.db;
      this.openConnections = message.open;
      const pending = this.pending;
      if (pending?.id !== message.id) return;
      this.pending = undefined;
      // The shard's rows this worker published but has not marked yet go with the shard's next batch elsewhere.
      (this.spec.handover ?? runnerMarkHandover).afterBatch(pending.queue, this.child?.key, message.unmarked);
      pending.resolve(message.ok ? { ok: true, summary: message.summary, ms: message.ms } : { ok: false, error: message.error, ms: message.ms });
      this.emit('idle');
    } else if (message.type === 'closed') {
      this.db = message.db;
      this.openConnections = 0;
    } else if (message.type === 'pong') {
      this.db = message.stats;
      this.pings.get(message.id)?.resolve(message);
      this.pings.delete(message.id);
    }
  }

  private onExit(child: WorkerChannel, code: number | null, signal: string | null, reason: string | undefined): void {
    if (this.child !== child) return;
    this.ready = false;
    for (const ping of this.pings.values()) ping.reject(new Error(`worker ${this.spec.id} is not running`));
    this.pings.clear();
    this.priorConnects += this.db.connects;
    this.db = NO_DB;
    this.openConnections = 0;
    const pending = this.pending;
    this.pending = undefined;
    if (this.closing) {
      pending?.reject(new WorkerExitedError(this.spec.id, code, signal));
      return;
    }
    const batch = this.current;
    const timedOut = this.timedOut;
    this.timedOut = false;
    this.log.error(`worker ${child.model} died; its batch is requeued and a replacement is starting`, {
      worker: this.spec.id, ...(child.pid === undefined ? { threadId: child.threadId } : { pid: child.pid }), code, signal, batchInFlight: pending !== undefined,
      ...(reason === undefined ? {} : { reason }), ...(timedOut ? { timedOut } : {}), ...(batch === undefined ? {} : { handler: batch.handler, queue: batch.queue }),
    });
    pending?.reject(new WorkerExitedError(this.spec.id, code, signal));
    this.restarts += 1;
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    this.crashStreak += 1;
    const delay = Math.min(30_000, 250 * 2 ** (this.crashStreak - 1));
    setTimeout(() => {
      if (this.closing) return;
      this.start()
        .then(() => this.log.info('replacement worker ready', { worker: this.spec.id, pid: this.pid, thread: this.threadId, restarts: this.restarts }))
        .catch((error: unknown) => {
          this.log.error('replacement worker failed to start; trying again', { worker: this.spec.id, error: (error as Error).message });
          this.scheduleRestart();
        });
    }, delay);
  }
}
