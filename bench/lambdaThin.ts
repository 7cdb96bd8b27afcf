/**
 * The `lambda-thin` figure of `npm run bench` (issue 28, section 2): what a message costs the database on the Lambda
 * path. The example handler runs in a child process as on Lambda (`AWS_LAMBDA_FUNCTION_NAME` set, `aws:rmq` events,
 * publishing to the local RabbitMQ), 200 messages at 1 and at 10 messages per invocation, with MariaDB's server-wide
 * counters read before and after (bench/serverCounters.ts: exact on a quiet machine only). The goals: at most 7
 * statements and 2 data fsyncs per message at 1 per invocation, 6.3 and 1.2 at 10.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { BenchDatabase, uniqueName } from './BenchDatabase.js';
import type { LambdaThinOrder } from './lambdaThinChild.js';
import { serverCost, type ServerCost } from './serverCounters.js';
import { SOURCE_CONDITION_ARG } from './sourceCondition.js';

export const LAMBDA_THIN_DEFAULTS = {
  messages: 200,
  perInvocation: [1, 10],
  /** The goals per messages per invocation: statements and data fsyncs per message, at most. */
  goals: { 1: { statements: 7, dataFsyncs: 2 }, 10: { statements: 6.3, dataFsyncs: 1.2 } } as Readonly<Record<number, { readonly statements: number; readonly dataFsyncs: number }>>,
  timeoutMs: 120_000,
} as const;

export interface LambdaThinResult extends ServerCost {
  readonly perInvocation: number;
  /**
   * The handler's own connection (`SHOW SESSION STATUS`), exact on a loaded machine too: statements per message, and an
   * upper bound of its commits (COMMITs plus every write beyond the example's 4 INSERTs per message, as if autocommit).
   */
  readonly session: { readonly statementsPerMessage: number; readonly commitsAtMostPerMessage: number };
  readonly goal: { readonly statements: number; readonly dataFsyncs: number } | null;
  readonly met: boolean | null;
}

interface Answer {
  readonly ready?: boolean;
  readonly done?: boolean;
  readonly published?: number;
  readonly error?: string;
  readonly session?: { readonly before: Record<string, number>; readonly after: Record<string, number> };
}

const CHILD_FILE = fileURLToPath(new URL('./lambdaThinChild.ts', import.meta.url));
const TSX_LOADER = import.meta.resolve('tsx');

/** Runs one child at `perInvocation` messages per invocation and reads the server's counters around its messages. */
async function measureOnce(db: BenchDatabase, amqpUrl: string, exchange: string, perInvocation: number, messages: number): Promise<LambdaThinResult> {
  const database = await db.create('lthin');
  const child = fork(CHILD_FILE, [], {
    execArgv: [SOURCE_CONDITION_ARG, '--import', TSX_LOADER],
    env: { ...process.env, DATABASE_URL: database.url, WARREN_PUBLISH_AMQP_URL: amqpUrl, WARREN_BENCH_EVENTS_EXCHANGE: exchange, AWS_LAMBDA_FUNCTION_NAME: 'bench-lambda-thin', WARREN_HANDLER: 'orders', WARREN_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  try {
    const next = () => new Promise<Answer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`lambda-thin: no answer from the child within ${LAMBDA_THIN_DEFAULTS.timeoutMs} ms`)), LAMBDA_THIN_DEFAULTS.timeoutMs);
      child.once('message', (m: Answer) => { clearTimeout(timer); resolve(m); });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`lambda-thin: the child exited with ${code}`)); });
    });
    const ready = await next();
    if (ready.ready !== true) throw new Error(`lambda-thin: the child failed before its first message: ${ready.error ?? 'no reason given'}`);
    const before = await db.serverCounters();
    const done = next();
    child.send({ messages, perInvocation } satisfies LambdaThinOrder);
    const answer = await done;
    const after = await db.serverCounters();
    if (answer.done !== true || answer.published !== messages) throw new Error(`lambda-thin: expected ${messages} events published, the child said ${JSON.stringify(answer)}`);
    const cost = serverCost(before, after, messages);
    const per = (name: string) => ((answer.session?.after[name] ?? 0) - (answer.session?.before[name] ?? 0)) / messages;
    const round = (n: number) => Math.round(n * 1000) / 1000;
    const session = {
      statementsPerMessage: round(per('Questions') - per('Com_show_status')),
      commitsAtMostPerMessage: round(per('Com_commit') + per('Com_update') + per('Com_delete') + per('Com_insert') - 4),
    };
    const goal = LAMBDA_THIN_DEFAULTS.goals[perInvocation] ?? null;
    const met = goal === null ? null : cost.statementsPerMessage <= goal.statements && cost.dataFsyncsPerMessage <= goal.dataFsyncs;
    return { perInvocation, ...cost, session, goal, met };
  } finally {
    child.kill();
    await db.drop(database.name);
  }
}

/** The figure: one result per messages-per-invocation setting. */
export async function runLambdaThin(options: { amqpUrl: string; messages?: number; progress?: (text: string) => void }): Promise<LambdaThinResult[]> {
  const messages = options.messages ?? LAMBDA_THIN_DEFAULTS.messages;
  const db = await BenchDatabase.open();
  const exchange = uniqueName('lthin_ev');
  const connection = await amqp.connect(options.amqpUrl);
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'topic', { durable: false, autoDelete: false });
  try {
    const results: LambdaThinResult[] = [];
    for (const perInvocation of LAMBDA_THIN_DEFAULTS.perInvocation) {
      options.progress?.(`${messages} messages, ${perInvocation} per invocation...`);
      results.push(await measureOnce(db, options.amqpUrl, exchange, perInvocation, messages));
    }
    return results;
  } finally {
    await channel.deleteExchange(exchange).catch(() => undefined);
    await connection.close().catch(() => undefined);
    await db.close();
  }
}

export function formatLambdaThinTable(results: readonly LambdaThinResult[]): string {
  const fmt = (n: number | null) => (n === null ? 'n/a' : n.toFixed(2));
  const rows = [
    ['messages per invocation', 'statements / msg', 'commits / msg', 'data fsyncs / msg', 'handler connection: statements / commits at most', 'goal (statements / fsyncs)', 'met'],
    ...results.map((r) => [String(r.perInvocation), fmt(r.statementsPerMessage), fmt(r.commitsPerMessage), fmt(r.dataFsyncsPerMessage), `${fmt(r.session.statementsPerMessage)} / ${fmt(r.session.commitsAtMostPerMessage)}`,
      r.goal === null ? '' : `<= ${r.goal.statements} / <= ${r.goal.dataFsyncs}`, r.met === null ? '' : r.met ? 'yes' : 'NO']),
  ];
  return [`| ${rows[0]!.join(' | ')} |`, `|---|${rows[0]!.slice(1).map(() => '--:').join('|')}|`, ...rows.slice(1).map((r) => `| ${r.join(' | ')} |`)].join('\n');
}
