/**
 * On Lambda, one CloudWatch embedded-metric-format (EMF) log line per invocation: the figures the local runner exports
 * to Prometheus, plus the cold-start flag and how many invocations the current DB connection has served. CloudWatch
 * turns the line into metrics in namespace `WARREN_METRICS_NAMESPACE` (default `Warren`), dimensions Handler and Queue;
 * no agent, no API call, nothing on the invocation's critical path but one `write`.
 *
 * ```ts
 * // what defineHandler() does; any RmqHandler can be wrapped the same way
 * import { withInvocationMetrics } from './emf.js';
 * export const handler = withInvocationMetrics('orders', async (event) => ({ messages: 0, committed: 0, deduplicated: 0, deadLettered: 0, retries: 0, unkeyed: 0 }));
 * ```
 */
import { ENV, envValue } from './env.js';
import type { BatchSummary, RmqHandler } from './handlerOptions.js';
import type { RmqEvent } from './event.js';
import type { LogSink } from './logger.js';
import { peekProcessConnection } from './db/processConnection.js';

export const EMF_DEFAULTS = { namespace: 'Warren' } as const;

/** EMF metric names and their units, in the order they appear in the line. */
export const EMF_METRICS = {
  Messages: 'Count',
  Acked: 'Count',
  Failed: 'Count',
  Committed: 'Count',
  Deduplicated: 'Count',
  DeadLettered: 'Count',
  Retries: 'Count',
  Unkeyed: 'Count',
  ProcessDuration: 'Milliseconds',
  ColdStart: 'Count',
  DbConnects: 'Count',
  DbReconnects: 'Count',
  DbConnectionOpen: 'Count',
  DbConnectionInvocations: 'Count',
  RepliesDropped: 'Count',
} as const;

export type EmfMetricName = keyof typeof EMF_METRICS;

/** One EMF line as written. */
export interface EmfDocument extends Record<EmfMetricName, number> {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: readonly [{
      readonly Namespace: string;
      readonly Dimensions: readonly (readonly string[])[];
      readonly Metrics: readonly { readonly Name: EmfMetricName; readonly Unit: string }[];
    }];
  };
  readonly Handler: string;
  readonly Queue: string;
  readonly Vhost: string;
  readonly coldStart: boolean;
  readonly requestId: string | null;
  readonly dbThreadId: number | null;
  /** Transactions the current DB connection has served. */
  readonly dbTransactionsServed: number;
  readonly errorName?: string;
}

/** Per execution environment (module scope survives between invocations). */
const state = { invocations: 0, connection: '', connectionInvocations: 0 };
let sink: LogSink = (line) => process.stdout.write(`${line}\n`);

/** True on Lambda (`AWS_LAMBDA_FUNCTION_NAME` is set), where EMF lines are written. */
export function isLambda(env: NodeJS.ProcessEnv = process.env): boolean {
  return envValue(ENV.lambdaFunctionName, env) !== undefined;
}

/** Redirects EMF lines (tests); without an argument, back to stdout. */
export function setEmfSink(next?: LogSink): void {
  sink = next ?? ((line) => process.stdout.write(`${line}\n`));
}

/** Wraps an invocation so that, on Lambda, it writes one EMF line when it ends (succeeded or failed). */
export function withInvocationMetrics(handler: string, invoke: RmqHandler): RmqHandler {
  return async (event, context) => {
    if (!isLambda()) return invoke(event, context);
    const started = performance.now();
    const coldStart = state.invocations === 0;
    state.invocations += 1;
    const connectsBefore = peekProcessConnection()?.stats.connects ?? 0;
    const write = (summary: BatchSummary | undefined, error: unknown) => {
      try {
        sink(JSON.stringify(emfDocument(handler, event, summary, error, performance.now() - started, coldStart, connectsBefore, context?.awsRequestId ?? null)));
      } catch {
        // metrics must never fail an invocation
      }
    };
    try {
      const summary = await invoke(event, context);
      write(summary, undefined);
      return summary;
    } catch (error) {
      write(undefined, error);
      throw error;
    }
  };
}

function emfDocument(handler: string, event: RmqEvent, summary: BatchSummary | undefined, error: unknown, ms: number, coldStart: boolean, connectsBefore: number, requestId: string | null): EmfDocument {
  const source = Object.keys(event.rmqMessagesByQueue ?? {})[0] ?? '';
  const split = source.lastIndexOf('::');
  const messages = Object.values(event.rmqMessagesByQueue ?? {}).reduce((n, list) => n + list.length, 0);
  const db = peekProcessConnection()?.stats;
  const connectsAfter = db?.connects ?? 0;
  const key = db?.connected === true ? `${db.threadId}:${db.connectedAt}` : '';
  state.connectionInvocations = key === '' ? 0 : key === state.connection ? state.connectionInvocations + 1 : 1;
  state.connection = key;
  const values: Record<EmfMetricName, number> = {
    Messages: messages,
    Acked: summary === undefined ? 0 : messages,
    Failed: summary === undefined ? messages : 0,
    Committed: summary?.committed ?? 0,
    Deduplicated: summary?.deduplicated ?? 0,
    DeadLettered: summary?.deadLettered ?? 0,
    Retries: summary?.retries ?? 0,
    Unkeyed: summary?.unkeyed ?? 0,
    ProcessDuration: Math.round(ms * 1000) / 1000,
    ColdStart: coldStart ? 1 : 0,
    DbConnects: Math.max(0, connectsAfter - connectsBefore),
    DbReconnects: Math.max(0, connectsAfter - Math.max(connectsBefore, 1)),
    DbConnectionOpen: db?.connected === true ? 1 : 0,
    DbConnectionInvocations: state.connectionInvocations,
    RepliesDropped: summary?.repliesDropped ?? 0,
  };
  return {
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [{
        Namespace: envValue(ENV.metricsNamespace) ?? EMF_DEFAULTS.namespace,
        Dimensions: [['Handler', 'Queue']],
        Metrics: (Object.keys(EMF_METRICS) as EmfMetricName[]).map((Name) => ({ Name, Unit: EMF_METRICS[Name] })),
      }],
    },
    Handler: handler,
    Queue: split < 0 ? source : source.slice(0, split),
    Vhost: split < 0 ? '/' : source.slice(split + 2),
    ...values,
    coldStart,
    requestId,
    dbThreadId: db?.threadId ?? null,
    dbTransactionsServed: db?.served ?? 0,
    ...(error === undefined ? {} : { errorName: error instanceof Error ? error.name : 'Error' }),
  };
}
