/** What the child process needs from a contender: start it, count what it has finished, stop it. */
import { readFile } from 'node:fs/promises';
import type { ChildReport, ChildSpec } from '../protocol.js';
import type { Phase } from '../orders.js';

export interface Consumer {
  /** Messages (or transactions) finished so far: acked after commit, or committed for `raw`. */
  processed(): number;
  /** `raw` only: schedule orders itself. */
  generate?(phase: Phase, count: number, rate: number): void;
  /** Reads peak RSS (workers included) before anything is stopped. */
  peakRss(): Promise<{ self: number; workers: number[] }>;
  stop(): Promise<Omit<ChildReport, 'processed' | 'peakRssMb' | 'workerPeakRssMb'>>;
}

export type ConsumerFactory = (spec: ChildSpec) => Promise<Consumer>;

/** Peak resident set (VmHWM) of a process in MB, or 0 when it cannot be read. */
export async function peakRssMb(pid: number | 'self'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  return kb === undefined ? 0 : Math.round((Number(kb) / 1024) * 10) / 10;
}
