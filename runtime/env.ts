/**
 * Every environment variable Warren reads, in one table that `lib/` (which sets them on Lambda), `local/` (which sets
 * them for workers) and `runtime/` (which reads them) share; and the handler scope that lets one worker process serve
 * many handlers.
 *
 * On Lambda one execution environment serves one function, so its variables are the process's. In the local runner's
 * shared pool one worker process serves every handler: the worker runs each invocation inside `runInHandlerScope()`
 * with that handler's variables (its name, its dead-letter queue, its broker vhost, its database), and `envValue()`
 * reads them there first, then from `process.env`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { processSingleton } from './processRegistry.js';

export const ENV = {
  /** Connection string of the handler's database (locally; on AWS the WARREN_DB_* variables below). */
  databaseUrl: 'DATABASE_URL',
  /** The broker the local runner and the CLI use, and `RequestClient.connect()`'s default. */
  amqpUrl: 'AMQP_URL',
  /** The database user `npm run migrate` and the migrate step of `npm start` run as (creates tables); default DATABASE_URL. */
  migrationsUrl: 'MIGRATIONS_URL',
  /** Address the runner's operations endpoint (`/metrics`, the status page) listens on; default 127.0.0.1. */
  metricsHost: 'WARREN_METRICS_HOST',
  /** Set by the runner on each worker process: the worker's id (for `ps` and a handler's own logs; Warren does not read it). */
  worker: 'WARREN_WORKER',
  /** Node options the runner adds to its worker processes, space-separated (e.g. `--cpu-prof --cpu-prof-dir=prof`). */
  workerExecArgv: 'WARREN_WORKER_EXEC_ARGV',
  /** The handler's name (inbox, logs, dead letters). */
  handler: 'WARREN_HANDLER',
  /** SQS dead-letter queue URL (AWS, or locally with `runner.deadLetter: 'sqs'`). */
  dlqUrl: 'WARREN_DLQ_URL',
  /** RabbitMQ dead-letter queue: broker URL and queue name (the local default). */
  dlqAmqpUrl: 'WARREN_DLQ_AMQP_URL',
  dlqQueue: 'WARREN_DLQ_QUEUE',
  /** Broker `ctx.publish()` goes to (locally). */
  publishAmqpUrl: 'WARREN_PUBLISH_AMQP_URL',
  /** Broker `ctx.publish()` goes to on AWS: AMQPS endpoint, Secrets Manager secret, vhost. */
  amqpEndpoint: 'WARREN_AMQP_ENDPOINT',
  amqpSecretArn: 'WARREN_AMQP_SECRET_ARN',
  amqpVhost: 'WARREN_AMQP_VHOST',
  /** RDS Proxy connection settings (see `rdsIam.ts`). */
  dbHost: 'WARREN_DB_HOST',
  dbPort: 'WARREN_DB_PORT',
  dbUser: 'WARREN_DB_USER',
  dbName: 'WARREN_DB_NAME',
  dbIamAuth: 'WARREN_DB_IAM_AUTH',
  dbTls: 'WARREN_DB_TLS',
  dbPassword: 'WARREN_DB_PASSWORD',
  /** `debug` | `info` | `warn` | `error`. */
  logLevel: 'WARREN_LOG_LEVEL',
  /** CloudWatch namespace of the EMF lines. */
  metricsNamespace: 'WARREN_METRICS_NAMESPACE',
  /** The CloudFormation stack a function belongs to (the broker monitor's metric dimension `Stack`). */
  stackName: 'WARREN_STACK_NAME',
  /** The broker monitor's queues (JSON `[{"handler", "vhost", "queue", "shards"}]`; compiled into its bundle by the stack). */
  monitorQueues: 'WARREN_MONITOR_QUEUES',
  /** The shard-drain custom resource's broker: AMQPS endpoint, management console URL, Secrets Manager secret. */
  brokerEndpoint: 'WARREN_BROKER_ENDPOINT',
  brokerConsoleUrl: 'WARREN_BROKER_CONSOLE_URL',
  brokerSecretArn: 'WARREN_BROKER_SECRET_ARN',
  /** The AWS outbox relay's handlers (JSON) and the age below which it leaves rows to the handlers. */
  relayHandlers: 'WARREN_RELAY_HANDLERS',
  relayMinAgeMs: 'WARREN_RELAY_MIN_AGE_MS',
  /** The AWS pruning function: the retention in days (`runner.inboxRetentionDays`) and the rows per DELETE. */
  pruneRetentionDays: 'WARREN_PRUNE_RETENTION_DAYS',
  pruneBatchSize: 'WARREN_PRUNE_BATCH_SIZE',
  /** Milliseconds a published outbox row may wait for its "sent" mark (`outbox/SentMarks.ts`; the local runner sets it). */
  outboxMarkDelayMs: 'WARREN_OUTBOX_MARK_DELAY_MS',
  /** An SQS-compatible endpoint for the SQS dead-letter sink (tests, local SQS); the AWS SDK's own names. */
  sqsEndpoint: 'AWS_ENDPOINT_URL_SQS',
  awsEndpoint: 'AWS_ENDPOINT_URL',
  /** Set by Lambda itself: Warren writes EMF lines when it is present. */
  lambdaFunctionName: 'AWS_LAMBDA_FUNCTION_NAME',
  /** Set by Lambda itself: the region (the RDS IAM token's signer). */
  awsRegion: 'AWS_REGION',
  /** Set by Lambda itself: where the function's bundle is unpacked (the migrations function's SQL files). */
  lambdaTaskRoot: 'LAMBDA_TASK_ROOT',
  /** Set (to anything but '', '0', 'false') by CI systems: `synthWarrenApp` then refuses to place handlers itself. */
  ci: 'CI',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

/** What a worker knows of the handler whose invocation it is running. */
export interface HandlerScope {
  /** The handler's name from warren.config.ts. */
  readonly handler: string;
  /** The handler's own environment variables, read before `process.env`. */
  readonly env: Readonly<Record<string, string>>;
}

/** One storage per process, shared by every copy of this module (a bundle, a second import path). */
function storage(): AsyncLocalStorage<HandlerScope> {
  return processSingleton('handlerScope', () => new AsyncLocalStorage<HandlerScope>());
}

/** The scope `runSerialInHandlerScope` set, shared like the storage by every copy of this module. */
function serial(): { current: HandlerScope | undefined } {
  return processSingleton('handlerScopeSerial', () => ({ current: undefined as HandlerScope | undefined }));
}

/**
 * Runs `fn` (one invocation) with `scope` as the current handler's scope, through AsyncLocalStorage: right when
 * invocations may overlap in one process (the test kit's `kit.run`).
 */
export function runInHandlerScope<T>(scope: HandlerScope, fn: () => T): T {
  return storage().run(scope, fn);
}

/**
 * Runs `fn` (one invocation) with `scope` as the current handler's scope, for a caller that runs ONE invocation at a
 * time (a pool worker: its batches run one after another). No AsyncLocalStorage: once used, Node 20 runs its promise
 * hooks on every promise of the process, a tenth of a busy worker's CPU. The scope is the invocation's while it runs;
 * work a handler leaves running after its invocation returned (a timer) does not see it, as on Lambda, where such work
 * runs, if ever, in a later invocation. A second call before the first settled is refused.
 */
export async function runSerialInHandlerScope<T>(scope: HandlerScope, fn: () => Promise<T>): Promise<T> {
  const slot = serial();
  if (slot.current !== undefined) throw new Error(`runSerialInHandlerScope: handler "${slot.current.handler}"'s invocation is still running; run one at a time, or use runInHandlerScope`);
  slot.current = scope;
  try {
    return await fn();
  } finally {
    slot.current = undefined;
  }
}

/** The scope of the invocation in progress, if a shared-pool worker (or the test kit) set one. */
export function currentHandlerScope(): HandlerScope | undefined {
  return storage().getStore() ?? serial().current;
}

/** A variable as the current handler sees it: its scope's value, else the process's. Empty counts as unset. */
export function envValue(name: EnvName | (string & {}), env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = currentHandlerScope()?.env[name] ?? env[name];
  return value === '' ? undefined : value;
}

/**
 * The process environment with the current handler's variables laid over it (for readers that take a whole env). A
 * live read-only view, not a copy: copying `process.env` (each key a native lookup) twice per invocation was a tenth
 * of a shared-pool worker's CPU at one message per batch. One view per handler table entry (`scope.env`), kept.
 */
export function scopedEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const scope = currentHandlerScope();
  if (scope === undefined) return env;
  if (env !== process.env) return { ...env, ...scope.env };
  let view = views.get(scope.env);
  if (view === undefined) {
    view = layeredEnv(scope.env);
    views.set(scope.env, view);
  }
  return view;
}

const views = new WeakMap<Readonly<Record<string, string>>, NodeJS.ProcessEnv>();

/** `{ ...process.env, ...over }` as a view: reads, `in` and enumeration see process.env as it is now. */
function layeredEnv(over: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const has = (key: string | symbol): boolean => typeof key === 'string' && (Object.hasOwn(over, key) || Object.hasOwn(process.env, key));
  const get = (key: string): string | undefined => (Object.hasOwn(over, key) ? over[key] : process.env[key]);
  return new Proxy({} as NodeJS.ProcessEnv, {
    get: (_target, key) => (typeof key === 'string' ? get(key) : undefined),
    has: (_target, key) => has(key),
    ownKeys: () => [...new Set([...Object.keys(process.env), ...Object.keys(over)])],
    getOwnPropertyDescriptor: (_target, key) => (has(key) ? { value: get(key as string), writable: false, enumerable: true, configurable: true } : undefined),
    set: () => false,
    deleteProperty: () => false,
    defineProperty: () => false,
  });
}
