/**
 * The one config file's types, defaults and validation. Read by the local runner and by the CDK stack alike, so it
 * must not import anything heavy (no mysql2, no amqplib, no aws-cdk-lib).
 */
import { ConfigError } from './errors.js';

/** One handler: a queue, its shards and the module that handles its messages. */
export interface HandlerConfig {
  /** Unique name, `[a-z][a-z0-9-]*`. Used in logs, the Lambda function name and the inbox. */
  readonly name: string;
  /** Handler module, relative to the project root, e.g. `functions/orders.ts`. */
  readonly entry: string;
  /**
   * Exported handler function in `entry`.
   * @default 'handler'
   */
  readonly export?: string;
  /**
   * Name of the consistent-hash exchange publishers send to; shard queues are `<queue>.0` .. `<queue>.<N-1>`.
   * @default name
   */
  readonly queue?: string;
  /**
   * RabbitMQ virtual host.
   * @default '/'
   */
  readonly vhost?: string;
  /**
   * Most messages in one invocation (Lambda allows 1-10,000).
   * @default 100
   */
  readonly batchSize?: number;
  /**
   * Longest wait to fill a batch, in whole seconds (Lambda allows 0-300). Left out, it is Lambda's default for Amazon
   * MQ triggers, 500 ms, which the local runner uses too.
   * @default 0.5
   */
  readonly batchingWindowSeconds?: number;
  /**
   * Number of shards: shard queues, workers (locally), triggers (AWS) and so MySQL connections for this handler.
   * @default 1
   */
  readonly concurrency?: number;
  /**
   * Longest an invocation may take, in seconds (Lambda allows at most 840 for MQ triggers).
   * @default 60
   */
  readonly timeoutSeconds?: number;
  /**
   * The broker's backstop for failures Warren cannot count (a worker that crashes, a database it cannot reach, a
   * Lambda timeout): the shard queues' `x-delivery-limit`. A message returned to its shard queue more often than this
   * is dead-lettered by RabbitMQ into `<queue>.dlq` (never dropped); `npm run dlq` lists and replays it. Keep it well
   * above the handler's `maxDeliveries` (default 5): on RabbitMQ 3.x and 4.0-4.2 every requeue of a failed batch also
   * counts for the messages buffered behind it (up to 2 x batchSize), and so do shutdowns and failovers. It is a queue
   * argument: changing it for an existing queue means draining and deleting that queue first.
   * @default 50
   */
  readonly deliveryLimit?: number;
  /**
   * Example messages for `warren send`: a module, relative to the project root, exporting `sample` (a `SampleFactory`)
   * and optionally `invalidSamples` (an array of them). Without it, `warren send` needs `--body`.
   * @default none
   */
  readonly samples?: string;
  /**
   * Exchanges this handler publishes to with `ctx.publish()`; declared (durable) with the rest of the topology.
   * @default []
   */
  readonly publishes?: readonly PublishedExchange[];
  /**
   * The handler answers requests with `ctx.reply()` to their `reply_to` (a named reply queue or direct reply-to). It
   * then gets the broker settings and the outbox relay (as with `publishes`), and the application broker user gets
   * write on `amq.default` in this vhost: replies go through the default exchange, which lets that user publish into
   * any queue of the vhost by name (docs/request-and-reply.md, "Broker permissions").
   * @default false
   */
  readonly replies?: boolean;
  /**
   * Handlers of this config whose requests this handler answers through their own input exchange (handler to handler:
   * the asker sets `reply_to` to `replyAddress(<its exchange>, <key>)`). Grants write on exactly those exchanges.
   * @default []
   */
  readonly repliesTo?: readonly string[];
}

/** An exchange a handler publishes follow-up messages to. */
export interface PublishedExchange {
  readonly exchange: string;
  /** @default 'topic' */
  readonly type?: 'topic' | 'direct' | 'fanout' | 'headers';
}

/** Settings of the local runner only. */
export interface RunnerConfig {
  /**
   * How long a stop waits for in-flight batches before requeueing them and killing their workers, in seconds.
   * @default 30
   */
  readonly shutdownTimeoutSeconds?: number;
  /**
   * Where workers dead-letter locally: the RabbitMQ queue `<queue>.dlq`, or an SQS queue `<queue>-dlq` created at
   * AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL (any SQS-compatible server), as on AWS.
   * @default 'rabbitmq'
   */
  readonly deadLetter?: 'rabbitmq' | 'sqs';
  /**
   * Inbox rows older than this are pruned when the runner starts (`npm run prune` does it on demand). Deduplication
   * holds for redeliveries and replays within this window.
   * @default 7
   */
  readonly inboxRetentionDays?: number;
  /**
   * Port of the runner's operations endpoint on 127.0.0.1 (`WARREN_METRICS_HOST` to change the address): `/metrics`
   * (Prometheus), `/healthz`, `/readyz` and the status page at `/`. 0 picks a free port.
   * @default 9464
   */
  readonly metricsPort?: number;
  /**
   * Workers of the shared pool (processes or threads, `workerModel`): they run every handler's batches (except dedicated handlers'), each with one
   * MySQL connection per distinct database. 4 on a 2-core machine keeps both cores busy while some workers wait on
   * MySQL, and keeps the runner tree small (see docs/local-runner.md, "The worker pool").
   * @default 4
   */
  readonly workers?: number;
  /**
   * Handlers that get workers of their own, e.g. `{ 'image-resize': 2 }`: those workers run only that handler and the
   * shared pool never runs it (isolation for a CPU-heavy or untrusted handler).
   * @default {}
   */
  readonly dedicated?: Readonly<Record<string, number>>;
  /**
   * How workers run: `thread` (a `worker_threads` thread each in the runner's process, with its own event loop,
   * batches structured-cloned over a MessagePort) or `process` (a forked Node process each, batches JSON-encoded over
   * its IPC pipe; for full process isolation: native addons that are not thread-safe, `process.chdir()`/`umask()`,
   * signals). Either way a worker has its own module graph, its own MySQL connection per database, and a handler that
   * exits, throws from a timer, loops past its `timeoutSeconds` or exhausts `workerHeapMb` ends that worker only; its
   * batch is requeued and a replacement starts. docs/local-runner.md, "The worker pool", says when each wins.
   * @default 'thread'
   */
  readonly workerModel?: 'process' | 'thread';
  /**
   * Each worker's V8 heap limit in MB (`--max-old-space-size` for a process, `resourceLimits.maxOldGenerationSizeMb`
   * for a thread): a handler that needs more ends its worker, not the runner.
   * @default 1024
   */
  readonly workerHeapMb?: number;
  /**
   * Each worker's V8 young generation in MB, where short-lived objects are collected cheaply (`--max-semi-space-size` of
   * a third of it for a process, `resourceLimits.maxYoungGenerationSizeMb` for a thread). V8's own is at most 48 MB
   * (16 MB semi-spaces): a handler that builds large short-lived structures per message then promotes them to the old
   * generation and pays for it in collections. It grows to this size only under a high allocation rate, so it costs
   * memory only where it saves CPU. 0 leaves V8's own size.
   * @default 192
   */
  readonly workerYoungGenerationMb?: number;
}

/** The whole of `warren.config.ts`. */
export interface WarrenConfig {
  readonly handlers: readonly HandlerConfig[];
  /**
   * SQL files (relative to the project root) run in order at `npm start`; they must be idempotent.
   * @default []
   */
  readonly migrations?: readonly string[];
  readonly runner?: RunnerConfig;
}

export type ResolvedHandlerConfig = Required<Omit<HandlerConfig, 'publishes' | 'samples'>> & { readonly publishes: readonly Required<PublishedExchange>[]; readonly samples?: string };
export interface ResolvedConfig {
  readonly handlers: readonly ResolvedHandlerConfig[];
  readonly migrations: readonly string[];
  readonly runner: Required<RunnerConfig>;
}

/** Every default of the config, in one place. */
export const HANDLER_DEFAULTS = {
  export: 'handler',
  vhost: '/',
  batchSize: 100,
  batchingWindowSeconds: 0.5,
  concurrency: 1,
  timeoutSeconds: 60,
  deliveryLimit: 50,
  publishes: [],
  replies: false,
  repliesTo: [],
} as const;

export const RUNNER_DEFAULTS = {
  shutdownTimeoutSeconds: 30,
  deadLetter: 'rabbitmq',
  inboxRetentionDays: 7,
  metricsPort: 9464,
  workers: 4,
  dedicated: {},
  workerModel: 'thread',
  workerHeapMb: 1024,
  workerYoungGenerationMb: 192,
} as const;

/** Identity function that gives `warren.config.ts` its types. */
export function defineConfig(config: WarrenConfig): WarrenConfig {
  return config;
}

const HANDLER_KEYS = ['name', 'entry', 'export', 'queue', 'vhost', 'batchSize', 'batchingWindowSeconds', 'concurrency', 'timeoutSeconds', 'deliveryLimit', 'publishes', 'replies', 'repliesTo', 'samples'];
const TOP_KEYS = ['handlers', 'migrations', 'runner'];
const RUNNER_KEYS = ['shutdownTimeoutSeconds', 'deadLetter', 'inboxRetentionDays', 'metricsPort', 'workers', 'dedicated', 'workerModel', 'workerHeapMb', 'workerYoungGenerationMb'];
const NAME_PATTERN = /^[a-z][a-z0-9-]{0,47}$/;
const QUEUE_PATTERN = /^[A-Za-z0-9_.:-]{1,200}$/;

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

function rejectUnknownKeys(value: Record<string, unknown>, allowed: readonly string[], at: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new ConfigError(`${at}.${key}`, `unknown option; allowed options are ${allowed.join(', ')}`);
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function integer(value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(field, `expected a whole number from ${min} to ${max}, received ${describe(value)}`);
  }
  return value;
}

function seconds(value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(field, `expected a number of seconds from ${min} to ${max}, received ${describe(value)}`);
  }
  return value;
}

function text(value: unknown, field: string, pattern: RegExp, hint: string, fallback?: string): string {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new ConfigError(field, `expected ${hint}, received ${describe(value)}`);
  }
  return value;
}

function resolveHandler(raw: unknown, at: string): ResolvedHandlerConfig {
  if (!isRecord(raw)) throw new ConfigError(at, `expected an object, received ${describe(raw)}`);
  rejectUnknownKeys(raw, HANDLER_KEYS, at);
  const name = text(raw.name, `${at}.name`, NAME_PATTERN, 'a lower-case name such as "orders" (letters, digits, "-")');
  return {
    name,
    entry: text(raw.entry, `${at}.entry`, /^[^\0]+\.(ts|mts|js|mjs)$/, 'a path to a .ts or .js module such as "functions/orders.ts"'),
    export: text(raw.export, `${at}.export`, /^[A-Za-z_$][\w$]*$/, 'an exported function name', HANDLER_DEFAULTS.export),
    queue: text(raw.queue, `${at}.queue`, QUEUE_PATTERN, 'a queue name of letters, digits, "_", ".", ":" or "-"', name),
    vhost: text(raw.vhost, `${at}.vhost`, /^[^\0]{1,200}$/, 'a virtual host such as "/"', HANDLER_DEFAULTS.vhost),
    batchSize: integer(raw.batchSize, `${at}.batchSize`, 1, 10_000, HANDLER_DEFAULTS.batchSize),
    batchingWindowSeconds: raw.batchingWindowSeconds === HANDLER_DEFAULTS.batchingWindowSeconds
      ? HANDLER_DEFAULTS.batchingWindowSeconds // Lambda's own default; the only fraction it has
      : integer(raw.batchingWindowSeconds, `${at}.batchingWindowSeconds`, 0, 300, HANDLER_DEFAULTS.batchingWindowSeconds),
    concurrency: integer(raw.concurrency, `${at}.concurrency`, 1, 1_000, HANDLER_DEFAULTS.concurrency),
    timeoutSeconds: seconds(raw.timeoutSeconds, `${at}.timeoutSeconds`, 1, 840, HANDLER_DEFAULTS.timeoutSeconds),
    deliveryLimit: integer(raw.deliveryLimit, `${at}.deliveryLimit`, 1, 1_000_000, HANDLER_DEFAULTS.deliveryLimit),
    publishes: resolvePublishes(raw.publishes, `${at}.publishes`),
    replies: flag(raw.replies, `${at}.replies`, HANDLER_DEFAULTS.replies),
    repliesTo: names(raw.repliesTo, `${at}.repliesTo`),
    ...(raw.samples === undefined ? {} : { samples: text(raw.samples, `${at}.samples`, /^[^\0]+\.(ts|mts|js|mjs)$/, 'a path to a .ts or .js module such as "functions/samples.ts"') }),
  };
}

function flag(raw: unknown, field: string, fallback: boolean): boolean {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'boolean') throw new ConfigError(field, `expected true or false, received ${describe(raw)}`);
  return raw;
}

function names(raw: unknown, at: string): string[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new ConfigError(at, `expected an array of handler names, received ${describe(raw)}`);
  return raw.map((n: unknown, i: number) => text(n, `${at}[${i}]`, NAME_PATTERN, 'the name of a handler in this config'));
}

/** True when the handler answers requests (`replies`, or `repliesTo` handlers). */
export function answersRequests(handler: Pick<ResolvedHandlerConfig, 'replies' | 'repliesTo'>): boolean {
  return handler.replies || handler.repliesTo.length > 0;
}

/** True when the handler publishes through the outbox (`publishes`, or replies): it needs broker settings and the relay. */
export function usesOutbox(handler: Pick<ResolvedHandlerConfig, 'publishes' | 'replies' | 'repliesTo'>): boolean {
  return handler.publishes.length > 0 || answersRequests(handler);
}

function resolvePublishes(raw: unknown, at: string): Required<PublishedExchange>[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new ConfigError(at, `expected an array of { exchange, type }, received ${describe(raw)}`);
  return raw.map((entry: unknown, i: number) => {
    if (!isRecord(entry)) throw new ConfigError(`${at}[${i}]`, `expected an object, received ${describe(entry)}`);
    rejectUnknownKeys(entry, ['exchange', 'type'], `${at}[${i}]`);
    return {
      exchange: text(entry.exchange, `${at}[${i}].exchange`, QUEUE_PATTERN, 'an exchange name of letters, digits, "_", ".", ":" or "-"'),
      type: text(entry.type, `${at}[${i}].type`, /^(topic|direct|fanout|headers)$/, '"topic", "direct", "fanout" or "headers"', 'topic') as Required<PublishedExchange>['type'],
    };
  });
}

/** Validates a config object, applies the defaults and throws a `ConfigError` naming the first bad field. */
export function resolveConfig(raw: unknown): ResolvedConfig {
  if (!isRecord(raw)) throw new ConfigError('config', `expected the default export of warren.config.ts to be an object, received ${describe(raw)}`);
  rejectUnknownKeys(raw, TOP_KEYS, 'config');
  if (!Array.isArray(raw.handlers) || raw.handlers.length === 0) {
    throw new ConfigError('handlers', `expected a non-empty array of handlers, received ${describe(raw.handlers)}`);
  }
  const handlers = raw.handlers.map((h: unknown, i: number) => resolveHandler(h, `handlers[${i}]`));
  const seen = new Map<string, string>();
  handlers.forEach((h, i) => {
    for (const [kind, value] of [['name', h.name], ['queue', `${h.vhost}|${h.queue}`]] as const) {
      const key = `${kind}:${value}`;
      const first = seen.get(key);
      if (first !== undefined) {
        throw new ConfigError(`handlers[${i}].${kind}`, `${describe(kind === 'name' ? h.name : h.queue)} is already used by ${first}; each handler needs its own ${kind}`);
      }
      seen.set(key, `handlers[${i}]`);
    }
  });
  handlers.forEach((h, i) => h.repliesTo.forEach((target, j) => {
    const to = handlers.find((t) => t.name === target);
    if (to === undefined) throw new ConfigError(`handlers[${i}].repliesTo[${j}]`, `no handler is called ${JSON.stringify(target)}; use one of ${handlers.map((t) => t.name).join(', ')}`);
    if (to.vhost !== h.vhost) throw new ConfigError(`handlers[${i}].repliesTo[${j}]`, `handler ${JSON.stringify(target)} is on vhost ${JSON.stringify(to.vhost)}, this handler on ${JSON.stringify(h.vhost)}; a reply stays in its vhost`);
  }));
  const migrationsRaw = raw.migrations ?? [];
  if (!Array.isArray(migrationsRaw)) throw new ConfigError('migrations', `expected an array of .sql file paths, received ${describe(migrationsRaw)}`);
  const migrations = migrationsRaw.map((m: unknown, i: number) => text(m, `migrations[${i}]`, /^[^\0]+\.sql$/, 'a path to a .sql file'));
  const runnerRaw = raw.runner ?? {};
  if (!isRecord(runnerRaw)) throw new ConfigError('runner', `expected an object, received ${describe(runnerRaw)}`);
  rejectUnknownKeys(runnerRaw, RUNNER_KEYS, 'runner');
  return {
    handlers,
    migrations,
    runner: {
      shutdownTimeoutSeconds: seconds(runnerRaw.shutdownTimeoutSeconds, 'runner.shutdownTimeoutSeconds', 0, 3_600, RUNNER_DEFAULTS.shutdownTimeoutSeconds),
      deadLetter: text(runnerRaw.deadLetter, 'runner.deadLetter', /^(rabbitmq|sqs)$/, '"rabbitmq" or "sqs"', RUNNER_DEFAULTS.deadLetter) as 'rabbitmq' | 'sqs',
      inboxRetentionDays: seconds(runnerRaw.inboxRetentionDays, 'runner.inboxRetentionDays', 0.001, 3_650, RUNNER_DEFAULTS.inboxRetentionDays),
      metricsPort: integer(runnerRaw.metricsPort, 'runner.metricsPort', 0, 65_535, RUNNER_DEFAULTS.metricsPort),
      workers: integer(runnerRaw.workers, 'runner.workers', 1, 256, RUNNER_DEFAULTS.workers),
      dedicated: resolveDedicated(runnerRaw.dedicated, handlers),
      workerModel: text(runnerRaw.workerModel, 'runner.workerModel', /^(process|thread)$/, '"process" or "thread"', RUNNER_DEFAULTS.workerModel) as 'process' | 'thread',
      workerHeapMb: integer(runnerRaw.workerHeapMb, 'runner.workerHeapMb', 32, 65_536, RUNNER_DEFAULTS.workerHeapMb),
      workerYoungGenerationMb: integer(runnerRaw.workerYoungGenerationMb, 'runner.workerYoungGenerationMb', 0, 4_096, RUNNER_DEFAULTS.workerYoungGenerationMb),
    },
  };
}

function resolveDedicated(raw: unknown, handlers: readonly ResolvedHandlerConfig[]): Readonly<Record<string, number>> {
  if (raw === undefined) return RUNNER_DEFAULTS.dedicated;
  if (!isRecord(raw)) throw new ConfigError('runner.dedicated', `expected an object of handler name to worker count, such as { orders: 2 }, received ${describe(raw)}`);
  const names = handlers.map((h) => h.name);
  const out: Record<string, number> = {};
  for (const [name, count] of Object.entries(raw)) {
    if (!names.includes(name)) throw new ConfigError(`runner.dedicated.${name}`, `no handler is called ${JSON.stringify(name)}; use one of ${names.join(', ')}`);
    out[name] = integer(count, `runner.dedicated.${name}`, 1, 64, 1);
  }
  return out;
}

/** Shard queue names of a handler: `<queue>.0` .. `<queue>.<concurrency-1>`. */
export function shardQueues(handler: Pick<ResolvedHandlerConfig, 'queue' | 'concurrency'>): string[] {
  return Array.from({ length: handler.concurrency }, (_, i) => `${handler.queue}.${i}`);
}
