#!/usr/bin/env node
/**
 * `warren` command line (the package's bin: `npx warren start` in a team's project, `npm start` in Warren's repository):
 * `start` (migrate, run every handler until SIGINT/SIGTERM), `send` (publish example messages), `request`, `dlq`,
 * `shards`, `migrate`, `prune`. Paths (`--config`, and those in the config) are relative to the working directory, the
 * project's root. A TypeScript config or handler is loaded through tsx (local/typescript.ts).
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { Sample, SampleFactory, SamplesModule } from '../config/samples.js';
import type { ResolvedConfig, ResolvedHandlerConfig } from '../config/config.js';
import { LAMBDA_MAX_BODY_BYTES } from '../runtime/payloadLimit.js';
import { DEFAULT_DATABASE_URL } from '../runtime/db/ConnectionManager.js';
import { ENV } from '../runtime/env.js';
import { WarrenError } from '../runtime/errors.js';
import { createLogger, redactUrl } from '../runtime/logger.js';
import { declareTopology } from '../topology/topology.js';
import { DEFAULT_AMQP_URL } from './broker/AmqpSession.js';
import { Console } from './ops/Console.js';
import { checkDatabase } from './checks/checkDatabase.js';
import { loadConfig } from '../config/loadConfig.js';
import { loadTypeScriptFor } from './typescript.js';
import { migrate } from './commands/migrate.js';
import { visibleTables } from './checks/checkPrivileges.js';
import { publish } from './commands/publish.js';
import { quantile, sendRequests } from './commands/request.js';
import { REQUEST_CLIENT_DEFAULTS } from '../client/index.js';
import { onShutdownSignals, type StopSignal } from './ops/shutdownSignals.js';
import { Runner } from './Runner.js';
import { urlForVhost } from '../runtime/amqp/amqpUrl.js';
import amqp from 'amqplib';
import { ConnectionManager } from '../runtime/db/ConnectionManager.js';
import { pruneWarrenTables } from '../runtime/db/prune.js';
import { ensureWarrenTables } from '../runtime/db/warrenTables.js';
import { deadLetterQueueName } from '../topology/topology.js';
import { listDeadLetters, replayDeadLetters, type DeadLetterEntry } from './commands/deadLetters.js';
import { listSqsDeadLetters, replaySqsDeadLetters } from './commands/sqsDeadLetters.js';
import { ensureSqsDeadLetterQueue } from './broker/sqsDeadLetterQueue.js';
import { shardsCommand } from './commands/shardsCommand.js';
import { redactText, rememberSecret, scrubError } from '../runtime/redact.js';

const USAGE = `usage:
  warren start   [--config warren.config.ts] [--handler NAME]...   run handlers locally until Ctrl-C
  warren send    [--config warren.config.ts] [--handler orders] --count N [--rate R] [--invalid M] [--bytes B] [--body JSON]
                 publish N example messages (the handler's \`samples\` module, or --body with a unique key each) and M
                 invalid ones (which should be dead-lettered), each padded to B bytes when given; a body over ${LAMBDA_MAX_BODY_BYTES.toLocaleString('en-US')} bytes is refused (Lambda would drop it)
  warren request [--handler orders] ...  (the same as send --request)
  warren send --request [--handler orders] [--count 1] [--rate R] [--invalid M] [--bytes B] [--timeout-ms ${REQUEST_CLIENT_DEFAULTS.timeoutMs}]
                 send them as requests (direct reply-to) and print each reply and its round-trip time; one at a time,
                 or R per second; exits 1 when a request got no answer (docs/request-and-reply.md)
  warren migrate [--config warren.config.ts]                        apply the config's SQL files
  warren dlq list   [--handler orders]                               show dead letters with their reasons
  warren dlq replay [--handler orders] (--all | --id MESSAGE_ID...)  send dead letters back to their shard queue
                 (the broker's, past the delivery limit: to the handler's exchange with their original key)
  warren shards status [--handler NAME]...                         each shard queue: ready messages, consumers, surplus shards
  warren shards drain  [--handler NAME]...                         move what surplus shards (left by a lower concurrency) hold
                 back through the handler's exchange and delete them
  warren prune   [--days 7]                                         delete inbox rows (and their kept replies) and sent outbox rows older than the window
environment: AMQP_URL (default ${DEFAULT_AMQP_URL.replace(/:[^:@/]*@/, ':***@')}), DATABASE_URL (default ${DEFAULT_DATABASE_URL}: the runner's user, DML is enough),
             MIGRATIONS_URL (default DATABASE_URL: the user \`migrate\` and the migrate step of \`start\` run as; it creates tables)`;

const amqpUrl = process.env[ENV.amqpUrl] ?? DEFAULT_AMQP_URL;
const databaseUrl = process.env[ENV.databaseUrl] ?? DEFAULT_DATABASE_URL;
/** The user that creates tables (migrations, Warren's own tables); the runner itself needs DML only. */
const migrationsUrl = process.env[ENV.migrationsUrl] ?? databaseUrl;
// The URLs' passwords never appear in what this process prints (runtime/redact.ts); not RabbitMQ's well-known
// guest/guest, whose "password" is its user name and would garble every line that names the user.
for (const url of [amqpUrl, databaseUrl, migrationsUrl]) {
  try {
    const { username, password } = new URL(url);
    if (password !== username) rememberSecret(decodeURIComponent(password));
  } catch { /* not a URL: the command names it later */ }
}

/**
 * The project's config (`--config`, relative to the working directory), with tsx registered first when it is
 * TypeScript, and after when a handler module or samples module is.
 */
async function loadProjectConfig(path: string): Promise<ResolvedConfig> {
  await loadTypeScriptFor([path]);
  const config = await loadConfig(path);
  await loadTypeScriptFor(config.handlers.flatMap((h) => (h.samples === undefined ? [h.entry] : [h.entry, h.samples])));
  return config;
}

function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new WarrenError(`${flag} expects a whole number >= 0, received ${JSON.stringify(value)}`);
  return n;
}

async function start(configPath: string, only: string[]): Promise<number> {
  const console = new Console();
  const log = createLogger({ component: 'runner' }, { sink: console.sink });
  const loaded = await loadProjectConfig(configPath);
  const unknown = only.filter((n) => !loaded.handlers.some((h) => h.name === n));
  if (unknown.length > 0) throw new WarrenError(`--handler ${unknown.join(', ')}: no such handler in ${configPath} (have: ${loaded.handlers.map((h) => h.name).join(', ')})`);
  const config = only.length === 0 ? loaded : { ...loaded, handlers: loaded.handlers.filter((h) => only.includes(h.name)) };
  await checkDatabase(migrationsUrl);
  if (databaseUrl !== migrationsUrl) await checkDatabase(databaseUrl);
  log.info('migrating', { database: redactUrl(migrationsUrl), files: config.migrations });
  await migrate(migrationsUrl, config.migrations, process.cwd(), log);
  const privilegeCheckTables = migrationsUrl === databaseUrl ? [] : await visibleTables(migrationsUrl);
  const runner = new Runner(config, { amqpUrl, databaseUrl, logger: log, onWorkerOutput: console.workerOutput, privilegeCheckTables });
  await runner.start();
  // After the start-up checks, so a user without DELETE hears which privilege it lacks rather than a raw error.
  const pruned = await prune(config.runner.inboxRetentionDays);
  if (pruned > 0) log.info('pruned old inbox and sent outbox rows', { rows: pruned, olderThanDays: config.runner.inboxRetentionDays });
  log.info('processing messages; Ctrl-C to stop', { broker: redactUrl(amqpUrl) });
  console.startProgress(() => runner.snapshot());
  const signal = await new Promise<StopSignal>((resolve) => {
    onShutdownSignals({
      log,
      onFirst: resolve,
      onSecond: () => { log.error('second signal: exiting now; unacked messages go back to their queues'); process.exit(1); },
    });
  });
  console.stopProgress();
  log.info(`${signal} received; shutting down`);
  const summary = await runner.stop();
  console.stopProgress();
  process.stdout.write(`\nsummary: acked ${summary.acked}, failed batches ${summary.failedBatches}, requeued ${summary.requeued}, ` +
    `worker restarts ${summary.workerRestarts}, db connections opened ${summary.dbConnects}, open now ${summary.dbConnections}, ` +
    `broker reconnects ${summary.brokerReconnects}, up ${(summary.uptimeMs / 1000).toFixed(1)} s${summary.shutdownTimedOut ? ', some batches timed out and were requeued' : ''}\n`);
  return 0;
}

/** The sample with a `padding` field that makes its JSON body `bytes` long (at least its unpadded length). */
function padded(sample: Sample, bytes: number): Sample {
  if (bytes === 0 || sample.raw !== undefined || typeof sample.body !== 'object' || sample.body === null) return sample;
  const bare = Buffer.byteLength(JSON.stringify({ ...sample.body, padding: '' }));
  return { ...sample, body: { ...sample.body, padding: 'x'.repeat(Math.max(0, bytes - bare)) } };
}

interface SendOptions {
  readonly count: number;
  readonly rate: number;
  readonly invalid: number;
  readonly bytes: number;
  /** `--request`: the timeout of each request, in ms; unset: publish only. */
  readonly requestTimeoutMs?: number;
  /** `--body`: one JSON body for every message, instead of the handler's samples. */
  readonly body?: string;
}

/**
 * The example messages of `handler`: `--body` (one JSON body, each message keyed `<run>-<index>`), else the module the
 * handler's `samples` names (config/samples.ts).
 */
async function loadSamples(handler: ResolvedHandlerConfig, configPath: string, body: string | undefined): Promise<SamplesModule> {
  if (body !== undefined) {
    let parsed: unknown;
    try { parsed = JSON.parse(body); } catch (error) { throw new WarrenError(`--body expects a JSON document, such as '{"orderId": "o1"}': ${(error as Error).message}`); }
    return { sample: (index, runId) => ({ key: `${runId}-${index}`, body: parsed }) };
  }
  if (handler.samples === undefined) throw new WarrenError(`handler "${handler.name}" has no example messages: pass --body '<JSON>', or set \`samples\` on it in ${configPath} to a module exporting \`sample\` (docs/local-runner.md)`);
  const mod = (await import(pathToFileURL(resolve(process.cwd(), handler.samples)).href)) as Partial<SamplesModule>;
  if (typeof mod.sample !== 'function') throw new WarrenError(`${handler.samples} (samples of handler "${handler.name}") must export \`sample\`, a function (index, runId) => ({ key, body })`);
  const invalid = mod.invalidSamples;
  if (invalid !== undefined && (!Array.isArray(invalid) || !invalid.every((f: unknown) => typeof f === 'function'))) throw new WarrenError(`${handler.samples}: \`invalidSamples\` must be an array of functions (index, runId) => ({ key, body, raw? })`);
  return { sample: mod.sample, ...(invalid === undefined ? {} : { invalidSamples: invalid as unknown as readonly SampleFactory[] }) };
}

async function send(configPath: string, handlerName: string, { count, rate, invalid, bytes, requestTimeoutMs, body }: SendOptions): Promise<number> {
  const config = await loadProjectConfig(configPath);
  const handler = config.handlers.find((h) => h.name === handlerName);
  if (handler === undefined) throw new WarrenError(`--handler ${handlerName}: no such handler in ${configPath}`);
  const { sample, invalidSamples: bad = [] } = await loadSamples(handler, configPath, body);
  const url = urlForVhost(amqpUrl, handler.vhost);
  const connection = await amqp.connect(url);
  await declareTopology(connection, handler);
  await connection.close();
  const runId = randomBytes(4).toString('hex');
  const tty = process.stdout.isTTY === true;
  if (invalid > 0 && bad.length === 0) throw new WarrenError(`no invalid example messages for handler "${handler.name}": export \`invalidSamples\` from its samples module${handler.samples === undefined ? ' (set `samples` on the handler in warren.config.ts)' : ` (${handler.samples})`}`);
  const total = count + invalid;
  // Invalid messages are spread evenly among the valid ones.
  const badAt = new Set(Array.from({ length: invalid }, (_, k) => Math.floor(((k + 1) * total) / (invalid + 1))));
  let sent = 0;
  let sentBad = 0;
  const message = (i: number) => (badAt.has(i) ? bad[sentBad++ % bad.length]!(i, runId) : padded(sample(sent++, runId), bytes));
  if (requestTimeoutMs !== undefined) {
    const done = await sendRequests({ url, exchange: handler.queue, count: total, rate, timeoutMs: requestTimeoutMs, message, print: (line) => process.stdout.write(`${line}\n`) });
    const rt = done.roundTripsMs;
    process.stdout.write(`${total} request(s) to exchange "${handler.queue}" (run ${runId}) in ${(done.ms / 1000).toFixed(2)} s: ${done.replies} repl${done.replies === 1 ? 'y' : 'ies'}, ` +
      `${done.errorReplies} error repl${done.errorReplies === 1 ? 'y' : 'ies'}, ${done.unanswered} unanswered` +
      `${rt.length === 0 ? '' : `; round trip p50 ${quantile(rt, 0.5).toFixed(1)} ms, p99 ${quantile(rt, 0.99).toFixed(1)} ms, max ${rt.at(-1)!.toFixed(1)} ms`}\n`);
    return done.unanswered > 0 ? 1 : 0;
  }
  const { ms } = await publish({
    url, exchange: handler.queue, count: total, rate,
    message,
    onProgress: (n) => { if (tty) process.stdout.write(`\r\x1b[2Kpublished ${n}/${total}`); },
  });
  process.stdout.write(`${tty ? '\n' : ''}published ${count} message(s)${invalid > 0 ? ` and ${invalid} invalid one(s)` : ''} to exchange "${handler.queue}" (run ${runId}) in ${(ms / 1000).toFixed(2)} s, ${(total / (ms / 1000)).toFixed(0)} msg/s\n`);
  return 0;
}

async function prune(days: number): Promise<number> {
  const db = new ConnectionManager({ url: databaseUrl, logger: createLogger({ component: 'prune' }, { level: 'warn' }) });
  try {
    await ensureWarrenTables(db);
    const { deleted } = await pruneWarrenTables(db, { olderThanSeconds: days * 86_400 });
    return deleted.warren_inbox + deleted.warren_outbox;
  } finally {
    await db.close();
  }
}

async function deadLetters(configPath: string, handlerName: string, action: string | undefined, all: boolean, ids: string[]): Promise<number> {
  const config = await loadProjectConfig(configPath);
  const handler = config.handlers.find((h) => h.name === handlerName);
  if (handler === undefined) throw new WarrenError(`--handler ${handlerName}: no such handler in ${configPath}`);
  const url = urlForVhost(amqpUrl, handler.vhost);
  const sqs = config.runner.deadLetter === 'sqs' ? await ensureSqsDeadLetterQueue(handler.queue) : undefined;
  const queue = sqs ?? deadLetterQueueName(handler.queue);
  if (action === 'list') {
    const entries = sqs === undefined ? await listDeadLetters(url, queue) : await listSqsDeadLetters(sqs);
    if (entries.length === 0) process.stdout.write(`${queue} is empty\n`);
    for (const e of entries) {
      const how = e.kind === 'broker' ? 'dead-lettered by RabbitMQ' : `${e.kind}, ${e.deliveries} deliver${e.deliveries === 1 ? 'y' : 'ies'}`;
      process.stdout.write(`${e.messageId ?? '(no message id)'}  ${e.errorClass} (${how}) from ${e.sourceQueue} at ${e.deadLetteredAt}\n    reason: ${e.reason}\n    body: ${e.body}\n`);
    }
    return 0;
  }
  if (action === 'replay') {
    if (!all && ids.length === 0) throw new WarrenError('dlq replay needs --all or one or more --id MESSAGE_ID');
    const pick = (e: DeadLetterEntry) => all || (e.messageId !== null && ids.includes(e.messageId));
    const replayed = sqs === undefined ? await replayDeadLetters(url, queue, pick) : await replaySqsDeadLetters(sqs, amqpUrl, pick);
    process.stdout.write(`replayed ${replayed.length} dead letter(s) from ${queue}\n`);
    return 0;
  }
  throw new WarrenError(`dlq expects "list" or "replay", received ${JSON.stringify(action ?? '')}`);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', default: 'warren.config.ts' },
      handler: { type: 'string', multiple: true },
      count: { type: 'string' },
      rate: { type: 'string' },
      all: { type: 'boolean' },
      id: { type: 'string', multiple: true },
      days: { type: 'string' },
      invalid: { type: 'string' },
      bytes: { type: 'string' },
      request: { type: 'boolean' },
      'timeout-ms': { type: 'string' },
      body: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0] ?? 'start';
  if (values.help === true) { process.stdout.write(`${USAGE}\n`); return 0; }
  switch (command) {
    case 'start': return start(values.config, values.handler ?? []);
    case 'request':
    case 'send': {
      const request = command === 'request' || values.request === true;
      if (!request && values['timeout-ms'] !== undefined) throw new WarrenError('--timeout-ms is the time to wait for each reply: it needs --request');
      const requestTimeoutMs = request ? positiveInt(values['timeout-ms'], '--timeout-ms', REQUEST_CLIENT_DEFAULTS.timeoutMs) : undefined;
      if (requestTimeoutMs === 0) throw new WarrenError('--timeout-ms expects milliseconds above 0, received "0"');
      const count = positiveInt(values.count, '--count', request ? 1 : 1_000);
      const invalid = positiveInt(values.invalid, '--invalid', 0);
      if (request && count + invalid === 0) throw new WarrenError('--request with --count 0 and no --invalid sends nothing: give --count 1 or more');
      return send(values.config, values.handler?.[0] ?? 'orders', { count, rate: positiveInt(values.rate, '--rate', 0), invalid, bytes: positiveInt(values.bytes, '--bytes', 0), ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }), ...(values.body === undefined ? {} : { body: values.body }) });
    }
    case 'dlq': return deadLetters(values.config, values.handler?.[0] ?? 'orders', positionals[1], values.all === true, values.id ?? []);
    case 'shards': return shardsCommand(amqpUrl, await loadProjectConfig(values.config), values.config, positionals[1], values.handler ?? [], (text) => process.stdout.write(text));
    case 'prune': {
      const config = await loadProjectConfig(values.config);
      const days = values.days === undefined ? config.runner.inboxRetentionDays : Number(values.days);
      if (!Number.isFinite(days) || days <= 0) throw new WarrenError(`--days expects a positive number, received ${JSON.stringify(values.days)}`);
      const deleted = await prune(days);
      process.stdout.write(`pruned ${deleted} inbox and sent outbox row(s) older than ${days} day(s)\n`);
      return 0;
    }
    case 'migrate': {
      const config = await loadProjectConfig(values.config);
      await migrate(migrationsUrl, config.migrations, process.cwd(), createLogger({ component: 'migrate' }));
      return 0;
    }
    default:
      throw new WarrenError(`unknown command "${command}"\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const code = (error as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
      // A usage error (unknown option, missing value): what is wrong, then the usage; exit 2 as POSIX utilities do.
      process.stderr.write(`warren: ${(error as Error).message}\n\n${USAGE}\n`);
      process.exit(2);
    }
    scrubError(error); // a migration file's CREATE USER, a URL's password: never printed
    const message = error instanceof WarrenError || (error instanceof Error && error.name === 'TypeError' && /parseArgs|option/i.test(error.message)) ? error.message : error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    process.stderr.write(`warren: ${redactText(message)}\n`);
    if (error instanceof Error && error.cause instanceof Error) process.stderr.write(`  caused by: ${redactText(error.cause.message)}\n`);
    process.exit(1);
  },
);
