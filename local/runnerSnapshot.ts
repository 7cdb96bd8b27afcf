/** What the runner counts, as `Runner.snapshot()` returns it: read by the console, the metrics and the status page (local/ops/). */
export interface RunnerSnapshot {
  readonly received: number;
  readonly acked: number;
  /** Messages whose handler committed. */
  readonly committed: number;
  /** Messages found in the inbox already (a redelivery or duplicate publish): acked without running the handler. */
  readonly deduplicated: number;
  readonly deadLettered: number;
  readonly failedBatches: number;
  readonly requeued: number;
  readonly inFlight: number;
  readonly buffered: number;
  /** Workers, threads or processes (shared pool plus dedicated). */
  readonly workers: number;
  readonly workersAlive: number;
  /** Workers running a batch now. */
  readonly workersBusy: number;
  readonly workerRestarts: number;
  /** Open DB connections, as the workers report them. */
  readonly dbConnections: number;
  /** DB connections opened over the run, across all workers (replaced ones included). */
  readonly dbConnects: number;
  readonly brokerConnected: boolean;
  readonly brokerReconnects: number;
}

export interface RunnerSummary extends RunnerSnapshot {
  readonly uptimeMs: number;
  readonly shutdownTimedOut: boolean;
}
