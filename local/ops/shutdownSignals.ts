/**
 * How `warren start` reads stop signals. Ctrl-C in a terminal sends one SIGINT to the whole foreground process group
 * (npm, sh, node, ...), and npm relays the SIGINT it got to its child as well: one keypress reaches the runner two or
 * more times, milliseconds apart. So every stop signal within `sameKeypressMs` of the first counts as that keypress;
 * a stop signal after that (a person pressing Ctrl-C again) exits at once. SIGHUP (the terminal closed) drains like
 * SIGTERM. Workers never see these signals: a worker thread (the default) gets none (Node delivers signals to the main
 * thread only), and a worker process runs in a session of its own (`forkWorker`); both stop when the runner tells
 * them to.
 */
import type { Logger } from '../../runtime/logger.js';

/** The signals that stop the runner. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

export const SHUTDOWN_SIGNAL_DEFAULTS = {
  /**
   * Stop signals this soon after the first are copies of it (the process group's delivery and npm's relay arrive within
   * a few milliseconds of each other; a person's second Ctrl-C comes later).
   */
  sameKeypressMs: 1_000,
} as const;

export interface ShutdownSignalOptions {
  readonly log: Logger;
  /** Called with the first stop signal. */
  readonly onFirst: (signal: StopSignal) => void;
  /** Called with a stop signal that came at least `sameKeypressMs` after the first. */
  readonly onSecond: (signal: StopSignal) => void;
  /** @default 1_000 */
  readonly sameKeypressMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Installs the handlers; returns a function that removes them. */
export function onShutdownSignals(options: ShutdownSignalOptions): () => void {
  const sameKeypressMs = options.sameKeypressMs ?? SHUTDOWN_SIGNAL_DEFAULTS.sameKeypressMs;
  const now = options.now ?? Date.now;
  let firstAt: number | undefined;
  const handle = (signal: StopSignal): void => {
    const at = now();
    if (firstAt === undefined) {
      firstAt = at;
      options.onFirst(signal);
    } else if (at - firstAt < sameKeypressMs) {
      options.log.debug('stop signal taken as a copy of the first (same keypress)', { signal, msAfterFirst: at - firstAt });
    } else {
      options.onSecond(signal);
    }
  };
  for (const signal of STOP_SIGNALS) process.on(signal, handle);
  return () => { for (const signal of STOP_SIGNALS) process.off(signal, handle); };
}
