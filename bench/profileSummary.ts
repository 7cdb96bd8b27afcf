/**
 * Summarizes V8 CPU profiles (`.cpuprofile`, from `--cpu-prof`) by module: self time per module, as a share of the busy
 * time (all samples but `(idle)`), the top N. Usage:
 *
 *   npx tsx bench/profileSummary.ts [--top 15] [--from 0.5] <file or folder>...
 *
 * `--from F` counts only the samples after fraction F of each profile's span (0.5: its second half, past the start-up's
 * module loading).
 *
 * Workers of the runner write profiles with `WARREN_WORKER_EXEC_ARGV="--cpu-prof --cpu-prof-dir=DIR"` (processes and
 * threads alike); the contender's own process (the runner) with `WARREN_BENCH_CPU_PROF=DIR`. A module is a package
 * under node_modules, a project file (relative to the project), a Node built-in (`node:internal/...` by its area), or
 * one of V8's own entries: `(garbage collector)`, `(program)` (native code outside JavaScript), `(idle)`.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine } from './commandLine.js';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** The module a call frame belongs to. */
export function moduleOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : `(native) ${functionName}`;
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg !== null) return pkg[1]!;
  if (path.startsWith('node:')) {
    const parts = path.split('/'); // its folder, at most two deep: node:internal/streams, node:internal/modules/esm
    return parts.slice(0, Math.min(3, Math.max(1, parts.length - 1))).join('/');
  }
  return path.startsWith('/') ? relative(ROOT, path) : path;
}

/** Self time in ms per module over the given profiles, from fraction `from` of each profile's span on. */
export function selfTimeByModule(profiles: readonly CpuProfile[], from = 0): Map<string, number> {
  const byModule = new Map<string, number>();
  for (const profile of profiles) {
    const moduleById = new Map(profile.nodes.map((n) => [n.id, moduleOf(n.callFrame)]));
    const since = profile.startTime + from * (profile.endTime - profile.startTime);
    let at = profile.startTime;
    profile.samples.forEach((id, i) => {
      const delta = profile.timeDeltas[i] ?? 0;
      at += delta;
      if (at < since) return;
      const module = moduleById.get(id) ?? '(unknown)';
      byModule.set(module, (byModule.get(module) ?? 0) + delta / 1000);
    });
  }
  return byModule;
}

/** A markdown table of the top `top` modules by self time, as a share of the busy time. */
export function formatSummary(byModule: ReadonlyMap<string, number>, top: number): string {
  const busy = [...byModule].filter(([m]) => m !== '(idle)').reduce((n, [, ms]) => n + ms, 0);
  const rows = [...byModule].filter(([m]) => m !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top);
  return [
    `busy ${Math.round(busy)} ms (idle ${Math.round(byModule.get('(idle)') ?? 0)} ms)`,
    '',
    '| module | self ms | % of busy |',
    '|---|--:|--:|',
    ...rows.map(([m, ms]) => `| ${m} | ${Math.round(ms)} | ${busy === 0 ? 0 : ((ms / busy) * 100).toFixed(1)} |`),
  ].join('\n');
}

async function profileFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    if ((await stat(path)).isDirectory()) files.push(...(await readdir(path)).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(path, f)));
    else files.push(path);
  }
  return files;
}

const USAGE = 'usage: npx tsx bench/profileSummary.ts [--top 15] [--from 0.5] <.cpuprofile file or folder>...\n  self time per module of V8 CPU profiles, the top N; --from F counts only samples after fraction F of each profile';

async function main(): Promise<void> {
  const { values, positionals } = parseCommandLine({ options: { top: { type: 'string', default: '15' }, from: { type: 'string', default: '0' } }, allowPositionals: true }, USAGE);
  const from = Number(values.from);
  if (!(from >= 0 && from < 1)) throw new Error(`--from: expected a fraction from 0 to below 1, received ${values.from}`);
  if (positionals.length === 0) {
    process.stderr.write(`no profile given\n\n${USAGE}\n`);
    process.exit(2);
  }
  const files = await profileFiles(positionals);
  const profiles = await Promise.all(files.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as CpuProfile));
  console.log(`${files.length} profile(s)`);
  console.log(formatSummary(selfTimeByModule(profiles, from), Number(values.top)));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
