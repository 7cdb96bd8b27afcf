/**
 * `npm start` the way a person runs it in a terminal, and Ctrl-C the way a terminal sends it: one SIGINT to the whole
 * foreground process group (npm, sh, node and anything else in it). Two ways to get there:
 * - `group`: `npm start` in a process group of its own (`detached`), then `kill -INT -<pgid>`;
 * - `pty`: `npm start` inside a pseudo-terminal (util-linux `script`), then the Ctrl-C character written to it, so the
 *   terminal's line discipline sends the signal.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export type TerminalMode = 'group' | 'pty';

export interface NpmStart {
  readonly child: ChildProcess;
  /** Everything written to the terminal (or stdout and stderr) so far. */
  output(): string;
  /** Resolves when the outermost process (npm, or `script`) has exited. */
  readonly exited: Promise<void>;
  /** One Ctrl-C. */
  ctrlC(): void;
  /** Every process below the outermost one now (npm, sh, node, and worker processes when `runner.workerModel` is `process`), found through parent pids. */
  descendants(): number[];
  /** SIGKILLs whatever is left (test clean-up). */
  kill(): void;
}

export function npmStart(mode: TerminalMode, configPath: string, env: Record<string, string>): NpmStart {
  const command = ['npm', 'start', '--', '--config', configPath];
  const child = mode === 'group'
    ? spawn(command[0]!, command.slice(1), { env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn('script', ['-qfec', command.join(' '), '/dev/null'], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const descendants = () => descendantsOf(child.pid!);
  return {
    child,
    output: () => output,
    exited,
    descendants,
    ctrlC() {
      if (mode === 'group') process.kill(-child.pid!, 'SIGINT');
      else child.stdin!.write('\x03');
    },
    kill() {
      for (const pid of [...descendants(), child.pid!]) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
    },
  };
}

/** Pids of every live process below `root`. */
export function descendantsOf(root: number): number[] {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' }).trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of rows) children.set(ppid!, [...(children.get(ppid!) ?? []), pid!]);
  const out: number[] = [];
  const walk = (pid: number) => { for (const c of children.get(pid) ?? []) { out.push(c); walk(c); } };
  walk(root);
  return out;
}

/** One process as the kernel knows it: its pid, its start time (so a reused pid is not taken for it) and its whole command line. */
export interface ProcessIdentity {
  readonly pid: number;
  readonly startTicks: string;
  readonly command: string;
}

/** Reads /proc/<pid>/stat: the state and the start time (fields 3 and 22), or undefined when the process is gone. */
function procStat(pid: number): { state: string; startTicks: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after "pid (comm) ": field 3 is fields[0]
    return { state: fields[0]!, startTicks: fields[19]! };
  } catch {
    return undefined;
  }
}

/** Who `pids` are now, so that `stillRunning` later finds these processes and not others given the same pids. */
export function identify(pids: readonly number[]): ProcessIdentity[] {
  const out: ProcessIdentity[] = [];
  for (const pid of pids) {
    const stat = procStat(pid);
    if (!stat) continue;
    let command = '';
    try { command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim(); } catch { /* gone */ }
    out.push({ pid, startTicks: stat.startTicks, command });
  }
  return out;
}

/** The processes of `identities` still running: same pid and start time, and not a zombie (exited, not yet reaped). */
export function stillRunning(identities: readonly ProcessIdentity[]): ProcessIdentity[] {
  return identities.filter(({ pid, startTicks }) => {
    const stat = procStat(pid);
    return stat !== undefined && stat.startTicks === startTicks && stat.state !== 'Z';
  });
}
