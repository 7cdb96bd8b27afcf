/**
 * A runner as a separate OS process (`tsx local/cli.ts start --config <generated file>`), driven only through the CLI
 * and signals, and the broker's view of who consumes what (`rabbitmqctl list_consumers`).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from './services.js';

const run = promisify(execFile);

export interface RunnerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** The port of its operations endpoint, from its "runner started" log line. */
  metricsPort(): number;
}

/** The repository's root: relative paths in a test config are resolved from it. */
const REPO_ROOT = resolve(import.meta.dirname, '../..');

/**
 * `config` with its handlers' `entry` and `samples` and its `migrations` made absolute from the repository's root, so
 * the runner finds them from any working directory (`npm start` runs in examples/orders).
 */
export function absolutePaths(config: object): object {
  const abs = (p: unknown) => (typeof p === 'string' && !isAbsolute(p) ? resolve(REPO_ROOT, p) : p);
  const c = config as { handlers?: unknown; migrations?: unknown };
  return {
    ...config,
    ...(Array.isArray(c.migrations) ? { migrations: c.migrations.map(abs) } : {}),
    ...(Array.isArray(c.handlers) ? { handlers: c.handlers.map((h: Record<string, unknown>) => ({ ...h, entry: abs(h.entry), ...(h.samples === undefined ? {} : { samples: abs(h.samples) }) })) } : {}),
  };
}

/** Writes `config` (a warren.config object, paths relative to the repository) to a temporary .mjs file; returns its path and a remover. */
export async function writeConfig(name: string, config: object): Promise<{ file: string; remove(): Promise<void> }> {
  const file = join(tmpdir(), `${name}.config.mjs`);
  await writeFile(file, `export default ${JSON.stringify(absolutePaths(config))};\n`);
  return { file, remove: () => rm(file, { force: true }) };
}

/** Starts `npm start`'s command for `configFile` and waits until it consumes. */
export async function startRunnerProcess(configFile: string, env: Record<string, string>): Promise<RunnerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/cli.ts', 'start', '--config', configFile], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await waitFor(`runner pid ${child.pid} started`, () => {
    if (child.exitCode !== null) throw new Error(`runner exited with ${child.exitCode}: ${output.slice(-2_000)}`);
    return output.includes('processing messages');
  }, 60_000);
  return {
    child,
    pid: child.pid!,
    output: () => output,
    exited,
    metricsPort() {
      const match = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(output);
      if (match === null) throw new Error('no status URL in the runner output');
      return Number(match[1]);
    },
  };
}

export interface ConsumerRow { readonly queue: string; readonly tag: string; readonly active: boolean }

/** Consumers of the queues whose names start with `prefix`, as the broker sees them. */
export async function listConsumers(prefix: string): Promise<ConsumerRow[]> {
  const { stdout } = await run('rabbitmqctl', ['list_consumers', '-q', '-p', '/', 'queue_name', 'consumer_tag', 'active', '--formatter', 'json']);
  const rows = JSON.parse(stdout === '' ? '[]' : stdout) as { queue_name: string; consumer_tag: string; active: boolean }[];
  return rows.filter((r) => r.queue_name.startsWith(prefix)).map((r) => ({ queue: r.queue_name, tag: r.consumer_tag, active: r.active }));
}

/** True while a process with this pid exists (a zombie counts until it is reaped). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
