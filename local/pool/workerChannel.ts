/**
 * Pool side of the two worker models (`runner.workerModel`): the link to one worker, a forked process or a
 * `worker_threads` thread, behind one interface, so `WorkerHandle` and the start-up check do not care which. Both run
 * the same worker file (`worker.ts`, `worker.js` when built), one MySQL connection per distinct database each.
 *
 * - `process`: `child_process.fork`, messages JSON-encoded over the IPC pipe. A worker is a process of its own.
 * - `thread`: `new Worker()`, messages structured-cloned over a MessagePort (no pipe, no JSON). Each thread has its own
 *   module graph, event loop and V8 heap (capped by `resourceLimits`), so every module-level singleton of runtime/ is
 *   its own. Node's "Worker threads" page: `process.exit()` in a worker ends that worker (its 'exit' event carries the
 *   code), an uncaught exception emits 'error' and terminates it, `terminate()` stops its JavaScript "as soon as
 *   possible" (also in a synchronous loop; exit code 1), and past `resourceLimits` it ends with
 *   ERR_WORKER_OUT_OF_MEMORY. Its `process.env` starts as a copy of the `env` option (default: the parent's
 *   `process.env`, copied since nodejs/node#26544; shared only with `SHARE_ENV`), so each worker's variables are its own.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ENV } from '../../runtime/env.js';
import { BUILT } from '../typescript.js';
import type { FromWorker, ToWorker } from './protocol.js';

/** Compiled (`npm run build`, the installed package), workers run `worker.js`, on plain Node unless a handler is TypeScript. */
const WORKER_FILE = fileURLToPath(new URL(BUILT ? './worker.js' : './worker.ts', import.meta.url));

/** How the runner runs its workers (`runner.workerModel`). */
export type WorkerModel = 'process' | 'thread';

export interface WorkerChannelOptions {
  /** The worker's environment, over the runner's own. */
  readonly env: Readonly<Record<string, string>>;
  /** The worker's V8 old-generation heap limit (`--max-old-space-size` or `resourceLimits.maxOldGenerationSizeMb`). */
  readonly heapMb: number;
  /**
   * The worker's V8 young generation in MB, 0 for V8's own (`--max-semi-space-size` of a third of it, V8's young
   * generation being two semi-spaces and a large-object space of that size; or `resourceLimits.maxYoungGenerationSizeMb`).
   */
  readonly youngMb: number;
  /** A handler module it imports is TypeScript: the worker loads tsx (local/typescript.ts `handlersNeedTypeScript`). */
  readonly typescript: boolean;
}

/**
 * One running worker. Emits `'message'` (a `FromWorker`), `'exit'` (code, signal, reason) once, and `'error'` (an error
 * of the channel itself, e.g. EPIPE on a process that just died; its 'exit' follows).
 */
export interface WorkerChannel extends EventEmitter {
  readonly model: WorkerModel;
  /** Unique among the runner's workers: `pid 1234` or `thread 3`. */
  readonly key: string;
  /** The worker's own OS process; undefined for a thread (it runs in the runner's process). */
  readonly pid: number | undefined;
  /** The thread's id (`worker.threadId`); undefined for a process. */
  readonly threadId: number | undefined;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** False once it exited. */
  readonly running: boolean;
  /** Whether a message can still be sent. */
  readonly connected: boolean;
  /** Sends one message; throws when the channel is closed. */
  send(message: ToWorker): void;
  /** Ends it at once: SIGKILL for a process, `terminate()` for a thread. */
  kill(): void;
}

/**
 * True when a worker loads tsx: Warren runs from its TypeScript sources (the worker file is `worker.ts`), or a handler
 * module is TypeScript.
 */
function needsTsx(typescript: boolean): boolean {
  return !BUILT || typescript;
}

/**
 * Node options of a worker process: the tsx loader when running from TypeScript sources or when a handler module is
 * TypeScript (`typescript`), plus the runner's export conditions and WARREN_WORKER_EXEC_ARGV.
 */
export function workerExecArgv(typescript: boolean): string[] {
  return needsTsx(typescript) ? ['--import', import.meta.resolve('tsx'), ...extraExecArgv()] : extraExecArgv();
}

/**
 * The runner's own export conditions (`--conditions`/`-C`, e.g. `warren-source` in Warren's repository, where the
 * example app's `import 'warren'` must reach the same sources as the runner), plus WARREN_WORKER_EXEC_ARGV, which adds
 * Node options to workers, e.g. "--cpu-prof --cpu-prof-dir=prof" to profile them.
 */
function extraExecArgv(): string[] {
  const conditions: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--conditions=')) conditions.push(a);
    else if ((a === '--conditions' || a === '-C') && argv[i + 1] !== undefined) conditions.push(`--conditions=${argv[++i]!}`);
  }
  return [...conditions, ...(process.env[ENV.workerExecArgv] ?? '').split(' ').filter((a) => a !== '')];
}

/** Starts a worker of `model` running the worker file. */
export function startWorkerChannel(model: WorkerModel, options: WorkerChannelOptions): WorkerChannel {
  return model === 'thread' ? new ThreadChannel(options) : new ProcessChannel(forkWorker(options.env, options.typescript, { heapMb: options.heapMb, youngMb: options.youngMb }));
}

/** Forks a worker process (pool worker or start-up check); `typescript`: a handler module is TypeScript. */
export function forkWorker(env: Readonly<Record<string, string>>, typescript: boolean, heap: { readonly heapMb?: number; readonly youngMb?: number } = {}): ChildProcess {
  const { heapMb, youngMb } = heap;
  return fork(WORKER_FILE, [], {
    execArgv: [
      ...workerExecArgv(typescript),
      ...(heapMb === undefined ? [] : [`--max-old-space-size=${heapMb}`]),
      ...(youngMb === undefined || youngMb === 0 ? [] : [`--max-semi-space-size=${Math.max(1, Math.round(youngMb / 3))}`]),
    ],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // A session of its own: the terminal's Ctrl-C (SIGINT to the foreground process group) and SIGHUP never reach a
    // worker, not even while tsx loads; it stops when the runner says so over IPC, or exits when the runner is gone.
    detached: true,
    // JSON: the batch event is JSON-shaped (bodies are base64 strings). Measured with a 50-message batch (22 KB) on
    // the 2-core machine, a round trip took 0.5-1.2 ms with 'json' and 0.9-2.0 ms with 'advanced' (docs/local-runner.md, "IPC").
    serialization: 'json',
  });
}

class ProcessChannel extends EventEmitter implements WorkerChannel {
  public readonly model = 'process' as const;
  public readonly key: string;
  public readonly threadId = undefined;

  public constructor(private readonly child: ChildProcess) {
    super();
    this.key = `pid ${child.pid ?? '?'}`;
    child.on('message', (message: FromWorker) => this.emit('message', message));
    child.on('error', (error) => this.emit('error', error));
    child.once('exit', (code, signal) => this.emit('exit', code, signal, undefined));
  }

  public get pid(): number | undefined { return this.child.pid; }
  public get stdout(): Readable | null { return this.child.stdout; }
  public get stderr(): Readable | null { return this.child.stderr; }
  public get running(): boolean { return this.child.exitCode === null && this.child.signalCode === null; }
  public get connected(): boolean { return this.child.connected; }
  public send(message: ToWorker): void { this.child.send(message); }
  public kill(): void { this.child.kill('SIGKILL'); }
}

/**
 * A thread cannot take `--import tsx` (Node 20 loads a worker's entry before its `--import` hooks), so when it needs tsx
 * (TypeScript sources, or a TypeScript handler) its entry is a line of code that registers tsx in the thread, then
 * imports the worker file.
 */
function threadEntry(typescript: boolean): { readonly entry: string | URL; readonly eval: boolean } {
  if (!needsTsx(typescript)) return { entry: WORKER_FILE, eval: false };
  const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const file = JSON.stringify(pathToFileURL(WORKER_FILE).href);
  return { entry: `import(${api}).then(({ register }) => { register(); return import(${file}); })`, eval: true };
}

class ThreadChannel extends EventEmitter implements WorkerChannel {
  public readonly model = 'thread' as const;
  public readonly key: string;
  public readonly pid = undefined;
  private readonly worker: Worker;
  private exited = false;
  /** Why the thread ended, when Node said (an uncaught exception, ERR_WORKER_OUT_OF_MEMORY). */
  private reason: string | undefined;

  public constructor(options: WorkerChannelOptions) {
    super();
    const { entry, eval: isCode } = threadEntry(options.typescript);
    this.worker = new Worker(entry, {
      eval: isCode,
      env: { ...process.env, ...options.env },
      execArgv: extraExecArgv(),
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: options.heapMb, ...(options.youngMb === 0 ? {} : { maxYoungGenerationSizeMb: options.youngMb }) },
    });
    this.key = `thread ${this.worker.threadId}`;
    this.worker.on('message', (message: FromWorker) => this.emit('message', message));
    // An uncaught exception or an exhausted heap: 'error' comes first, then 'exit'.
    this.worker.on('error', (error: Error & { code?: string }) => { this.reason = `${error.code ?? error.name}: ${error.message}`; });
    this.worker.once('exit', (code) => {
      this.exited = true;
      this.emit('exit', code, null, this.reason);
    });
  }

  public get threadId(): number { return this.worker.threadId; }
  public get stdout(): Readable { return this.worker.stdout; }
  public get stderr(): Readable { return this.worker.stderr; }
  public get running(): boolean { return !this.exited; }
  public get connected(): boolean { return !this.exited; }
  public send(message: ToWorker): void {
    if (this.exited) throw new Error(`${this.key} has exited`);
    this.worker.postMessage(message);
  }
  public kill(): void { void this.worker.terminate(); }
}
