/**
 * The runner's workers (processes or threads, `runner.workerModel`): the shared pool (`runner.workers`) that runs every handler's batches, and a group of
 * its own for each handler in `runner.dedicated` (the shared pool never runs those). Each group has a `Dispatcher`
 * that hands ready shard batches to its free workers in fair order. A worker that dies is replaced by its
 * `WorkerHandle`; the dispatcher is pumped again when it is back.
 */
import type { Logger } from '../../runtime/logger.js';
import { errorFields } from '../../runtime/logger.js';
import { Dispatcher } from './Dispatcher.js';
import type { HandlerTable } from './protocol.js';
import { WorkerHandle } from './WorkerHandle.js';
import type { WorkerModel } from './workerChannel.js';

export interface PoolGroup {
  /** `shared`, or the dedicated handler's name. */
  readonly name: string;
  readonly size: number;
  /** Handlers this group's workers run. */
  readonly handlers: HandlerTable;
}

export interface WorkerPoolOptions {
  readonly groups: readonly PoolGroup[];
  /** Process environment of every worker. */
  readonly env: Readonly<Record<string, string>>;
  /** Processes or threads (`runner.workerModel`). @default RUNNER_DEFAULTS.workerModel ('thread') */
  readonly model?: WorkerModel;
  /** Each worker's V8 heap limit in MB (`runner.workerHeapMb`). @default 1024 */
  readonly heapMb?: number;
  /** Each worker's V8 young generation in MB (`runner.workerYoungGenerationMb`; 0: V8's own). @default 192 */
  readonly youngMb?: number;
  readonly log: Logger;
  readonly onOutput: (line: string, worker: string) => void;
}

export class WorkerPool {
  public readonly workers: readonly WorkerHandle[];
  private readonly dispatchers = new Map<string, Dispatcher<WorkerHandle>>();
  /** handler name -> its group's dispatcher */
  private readonly byHandler = new Map<string, Dispatcher<WorkerHandle>>();

  public constructor(private readonly options: WorkerPoolOptions) {
    const all: WorkerHandle[] = [];
    for (const group of options.groups) {
      const workers = Array.from({ length: group.size }, (_, i) => new WorkerHandle({
        id: group.name === 'shared' ? `w${i}` : `${group.name}.w${i}`,
        handlers: group.handlers,
        env: options.env,
        ...(options.model === undefined ? {} : { model: options.model }),
        ...(options.heapMb === undefined ? {} : { heapMb: options.heapMb }),
        ...(options.youngMb === undefined ? {} : { youngMb: options.youngMb }),
      }, options.log, options.onOutput));
      const dispatcher = new Dispatcher(workers);
      for (const worker of workers) {
        worker.on('ready', () => dispatcher.pump());
        worker.on('idle', () => dispatcher.pump());
      }
      this.dispatchers.set(group.name, dispatcher);
      for (const handler of Object.keys(group.handlers)) this.byHandler.set(handler, dispatcher);
      all.push(...workers);
    }
    this.workers = all;
  }

  /** The dispatcher of the group that runs `handler`. */
  public dispatcherFor(handler: string): Dispatcher<WorkerHandle> {
    const dispatcher = this.byHandler.get(handler);
    if (dispatcher === undefined) throw new Error(`no worker group runs handler "${handler}"`);
    return dispatcher;
  }

  /** Starts every worker in parallel. */
  public async start(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.start()));
  }

  /** Asks every worker to close its connections and exit (killed after `timeoutMs`). Safe to call twice. */
  public async close(timeoutMs: number): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close(timeoutMs).catch((error: unknown) => this.options.log.warn('worker close failed', { worker: w.spec.id, ...errorFields(error) }))));
  }
}
