/**
 * Samples, while a contender runs, what a single reading at the end cannot show: the resident memory of its whole
 * process tree (the contender's process and every process it forked, summed per sample), and the MariaDB server
 * threads connected to the contender's own database (`information_schema.PROCESSLIST`, so other people's
 * connections, which use other databases, are not counted).
 */
import { readdir, readFile } from 'node:fs/promises';
import type { BenchDatabase } from './BenchDatabase.js';

export interface TreeSample {
  /** Sum of VmRSS over the process tree: highest and mean over the samples, in MB. */
  readonly rssPeakMb: number;
  readonly rssMeanMb: number;
  /** Most processes seen in the tree at once. */
  readonly processesPeak: number;
  /** Distinct server threads (connections) seen on the contender's database, and the most at once. */
  readonly dbThreadsSeen: number;
  readonly dbThreadsPeak: number;
  readonly samples: number;
}

/** The pids of `root` and all its descendants, from the parent pid in every `/proc/<pid>/stat`. */
export async function processTree(root: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (Number.isInteger(ppid)) children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** Current resident set (VmRSS) of a process in MB, 0 when it is gone. */
async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb === undefined ? 0 : Number(kb) / 1024;
}

export class TreeSampler {
  private readonly rss: number[] = [];
  private readonly threads = new Set<number>();
  private threadsPeak = 0;
  private processesPeak = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  public constructor(
    private readonly root: number,
    private readonly db: BenchDatabase,
    private readonly database: string,
    private readonly intervalMs = 500,
  ) {}

  public start(): void {
    const tick = () => {
      this.running = this.sample().finally(() => { if (this.timer !== undefined) this.timer = setTimeout(tick, this.intervalMs); });
    };
    this.timer = setTimeout(tick, 0);
  }

  private async sample(): Promise<void> {
    const pids = await processTree(this.root);
    const sizes = await Promise.all(pids.map(rssMb));
    this.rss.push(sizes.reduce((a, b) => a + b, 0));
    this.processesPeak = Math.max(this.processesPeak, pids.length);
    const ids = await this.db.threadsOn(this.database);
    for (const id of ids) this.threads.add(id);
    this.threadsPeak = Math.max(this.threadsPeak, ids.length);
  }

  /** Stops sampling (after one last sample) and returns the figures. */
  public async stop(): Promise<TreeSample> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await this.sample();
    const round = (mb: number) => Math.round(mb * 10) / 10;
    return {
      rssPeakMb: round(Math.max(0, ...this.rss)),
      rssMeanMb: round(this.rss.reduce((a, b) => a + b, 0) / Math.max(1, this.rss.length)),
      processesPeak: this.processesPeak,
      dbThreadsSeen: this.threads.size,
      dbThreadsPeak: this.threadsPeak,
      samples: this.rss.length,
    };
  }
}
