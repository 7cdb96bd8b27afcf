/** What the child process needs from a contender: start it, count what it has finished, stop it. */
import { readFile } from 'node:fs/promises';
import type { ChildReport, ChildSpec } from '../protocol.js';
import type { Phase } from '../orders.js';

export interface Consumer {
  /** Messages (or transactions) finished so far: acked after commit, or committed for `raw`. */
  processed(): number;
  /** `raw` only: schedule orders itself. */
  generate?(phase: Phase, count: number, rate: number): void;
  /** Processes the contender started (the runner's workers), measured before `stop`. */
  workerPids(): number[];
  stop(): Promise<Pick<ChildReport, 'clientConnects' | 'retries' | 'problems' | 'latenciesMs'>>;
}

export type ConsumerFactory = (spec: ChildSpec) => Promise<Consumer>;

/** Peak resident set (VmHWM) of a process in MB, or 0 when it cannot be read. */
export async function peakRssMb(pid: number | 'self'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  return kb === undefined ? 0 : Math.round((Number(kb) / 1024) * 10) / 10;
}

/** CPU time (user + system) a process has used so far, in ms, or 0 when it cannot be read. Assumes 100 ticks/s. */
export async function cpuMs(pid: number | 'self'): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ", field 3 is the state; utime and stime are fields 14 and 15 of the full line.
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) * 10;
}
