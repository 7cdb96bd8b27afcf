/** Running `warren start` (local/cli.ts) as a child process, the way `npm start` does, with a test config file. */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeConfig } from './runnerProcess.js';

export interface StartedCli {
  readonly child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** SIGKILLs the process if it still runs. */
  kill(): Promise<void>;
}

/** Writes `config` as an ES module config file in the temp directory (`writeConfig`: paths made absolute). */
export async function writeTestConfig(name: string, config: object): Promise<{ path: string; remove(): Promise<void> }> {
  const { file, remove } = await writeConfig(name, config);
  return { path: file, remove };
}

export function spawnStart(configPath: string, env: Record<string, string>, args: readonly string[] = []): StartedCli {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/cli.ts', 'start', '--config', configPath, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
