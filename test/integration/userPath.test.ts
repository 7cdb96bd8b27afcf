/**
 * The user's path (issue 29): Warren packed with `npm pack`, installed into a fresh project in a temporary folder outside
 * the repository, as a team would, and used only through its package entry points, bin and built files. The project
 * holds what a team's does: package.json, tsconfig.json, cdk.json, warren.config.ts with one SQL migration, a handler in
 * functions/, a test written with warren/testing, a CDK entry in lib/. Every child of this test runs without
 * NODE_OPTIONS (vitest.config.ts puts `--conditions=warren-source` there, which would reach Warren's TypeScript sources)
 * and without WARREN_* or npm_* variables, so the project gets the built files of the tarball.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cfnLintAssembly, describeFindings } from '../helpers/cfnLint.js';
import { AMQP_URL, createTestDatabase, deleteTopology, uniqueName, waitFor, type TestDatabase } from '../helpers/services.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The team's tools, at the versions of Warren's own lock file (so `npm ci` has put them in the npm cache). */
const DEV_TOOLS = ['vitest', 'aws-cdk', 'tsx', 'typescript', '@types/node'] as const;

/** The environment of every child: this process's, without what would point it at Warren's sources or this run. */
function cleanEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(NODE_OPTIONS$|WARREN_|npm_|VITEST|INIT_CWD$)/i.test(k)));
  return { ...env, NODE_ENV: 'development', CDK_DISABLE_CLI_TELEMETRY: 'true', NO_COLOR: '1', FORCE_COLOR: '0', ...extra };
}

interface Ran { readonly code: number | null; readonly stdout: string; readonly output: string }

/**
 * Runs `command` in `cwd` to its end, printing its lines with `label` as they come (npm install's progress); `quiet`:
 * its stderr only (npm pack's JSON, a line per file, is for the test).
 */
function runCommand(label: string, command: string, args: readonly string[], cwd: string, env = cleanEnv(), quiet = false, timeoutMs = 240_000): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${label}: no end within ${timeoutMs} ms\n${output.slice(-4_000)}`)); }, timeoutMs);
    for (const stream of quiet ? [child.stderr] : [child.stdout, child.stderr]) {
      stream.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        for (const line of chunk.toString().split('\n')) if (line.trim() !== '') console.log(`[${label}] ${line}`);
      });
    }
    child.once('error', (error) => { clearTimeout(timer); reject(error); });
    child.once('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, output }); });
  });
}

/** Like `runCommand`, and fails with the command's output unless it exits 0. */
async function runOk(label: string, command: string, args: readonly string[], cwd: string, env = cleanEnv(), quiet = false): Promise<Ran> {
  const ran = await runCommand(label, command, args, cwd, env, quiet);
  if (ran.code !== 0) throw new Error(`${label} (${command} ${args.join(' ')}) exited ${String(ran.code)}:\n${ran.output.slice(-6_000)}`);
  return ran;
}

const timings: Record<string, number> = {};
async function timed<T>(step: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try { return await work(); } finally { timings[step] = Math.round(performance.now() - started); }
}

let scratch: string;
let app: string;
let db: TestDatabase;
let queue: string;
let packed: readonly string[];
let runner: ChildProcess | undefined;

/** The team's files, each written as a team would write it. */
function projectFiles(tarball: string, versions: Readonly<Record<string, string>>): Record<string, string> {
  return {
    'package.json': `${JSON.stringify({
      name: 'team-visits',
      version: '1.0.0',
      private: true,
      type: 'module',
      scripts: { start: 'warren start', test: 'vitest run', synth: 'cdk synth' },
      dependencies: { warren: `file:${tarball}` },
      devDependencies: Object.fromEntries(DEV_TOOLS.map((name) => [name, versions[name]!])),
    }, null, 2)}\n`,
    'tsconfig.json': `${JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023'], types: ['node'],
        strict: true, verbatimModuleSyntax: true, noEmit: true,
        // Checks Warren's declarations too: every .d.ts the entry points reach must resolve inside the package.
        skipLibCheck: false,
      },
      include: ['functions', 'lib', 'test', 'warren.config.ts'],
    }, null, 2)}\n`,
    'cdk.json': `${JSON.stringify({ app: 'npx tsx lib/app.ts' }, null, 2)}\n`,
    'warren.config.ts': `import { defineConfig } from 'warren/config';

export default defineConfig({
  migrations: ['functions/schema.sql'],
  handlers: [{ name: 'visits', entry: 'functions/visits.ts', queue: '${queue}', batchSize: 20 }],
  runner: { metricsPort: 0, workers: 2 },
});
`,
    'functions/schema.sql': `CREATE TABLE IF NOT EXISTS visits (
  id      INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  page    VARCHAR(64)  NOT NULL,
  user_id VARCHAR(64)  NOT NULL
) ENGINE=InnoDB;
`,
    // A plain INSERT: a redelivered message would add a second row, but for Warren's inbox.
    'functions/visits.ts': `import { defineHandler, PermanentInputError } from 'warren';

interface Visit { readonly page: string; readonly userId: string }

function parseVisit(body: unknown): Visit {
  const { page, userId } = (body ?? {}) as Partial<Record<keyof Visit, unknown>>;
  if (typeof page !== 'string' || page === '') throw new PermanentInputError('page', 'expected a non-empty string');
  if (typeof userId !== 'string' || userId === '') throw new PermanentInputError('userId', 'expected a non-empty string');
  return { page, userId };
}

export const handler = defineHandler({
  async handle(message, { query }) {
    const visit = parseVisit(message.body);
    await query('INSERT INTO visits (page, user_id) VALUES (?, ?)', [visit.page, visit.userId]);
  },
});
`,
    'test/visits.test.ts': `import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestKit, type TestKit } from 'warren/testing';
import { handler } from '../functions/visits.js';

let kit: TestKit;
beforeAll(async () => { kit = await createTestKit({ migrations: ['functions/schema.sql'] }); });
afterAll(() => kit.close());

it('records a redelivered visit once', async () => {
  const run = await kit.run(handler, [{ body: { page: '/home', userId: 'u1' } }], { name: 'visits' });
  expect(run.summary).toMatchObject({ committed: 1 });
  const again = await kit.run(handler, run.messages.map((m) => ({ ...m, redelivered: true })), { name: 'visits' });
  expect(again.summary).toMatchObject({ committed: 0, deduplicated: 1 });
  expect(await kit.query('SELECT page, user_id FROM visits')).toEqual([{ page: '/home', user_id: 'u1' }]);
});

it('dead-letters a visit without a page', async () => {
  const run = await kit.run(handler, [{ body: { userId: 'u2' } }], { name: 'visits' });
  expect(run.deadLettered.map((d) => d.errorName)).toEqual(['PermanentInputError']);
});
`,
    'lib/app.ts': `import { synthWarrenApp } from 'warren/cdk';

await synthWarrenApp();
`,
    // Not a file a team needs: it type-checks the two entry points the others do not import.
    'lib/entryPoints.ts': `import type { RequestClient } from 'warren/client';
import type { WarrenStackProps } from 'warren/cdk';

export type Used = [RequestClient, WarrenStackProps];
`,
  };
}

describe("A team's project with Warren installed from its packed tarball", () => {
  beforeAll(async () => {
    const started = performance.now();
    scratch = await mkdtemp(join(tmpdir(), 'warren-user-path-'));
    expect(relative(ROOT, scratch).startsWith('..')).toBe(true);
    app = join(scratch, 'app');
    queue = uniqueName('t_user_path');
    db = await createTestDatabase({ schema: false });

    // npm pack (its `prepack` builds dist/), then the project and `npm install` from the npm cache
    const { stdout } = await timed('npm pack', () => runOk('npm pack', 'npm', ['pack', '--json', '--pack-destination', scratch], ROOT, cleanEnv(), true));
    // The JSON follows what `prepack` (the build) printed.
    const [pack] = JSON.parse(stdout.slice(stdout.search(/^\[/m))) as { filename: string; files: { path: string }[] }[];
    packed = pack!.files.map((f) => f.path);
    const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
    const versions = Object.fromEntries(DEV_TOOLS.map((name) => [name, lock.packages[`node_modules/${name}`]!.version!]));
    for (const [file, text] of Object.entries(projectFiles(join(scratch, pack!.filename), versions))) {
      await mkdir(dirname(join(app, file)), { recursive: true });
      await writeFile(join(app, file), text);
    }
    await timed('npm install', () => runOk('npm install', 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], app));
    timings['prepare (total)'] = Math.round(performance.now() - started);
  }, 300_000);

  afterAll(async () => {
    if (runner?.exitCode === null && runner.pid !== undefined) process.kill(-runner.pid, 'SIGKILL');
    if (queue !== undefined) await deleteTopology(queue, 1, AMQP_URL).catch(() => undefined);
    await db?.drop();
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
    console.log(`user's path timings (ms): ${JSON.stringify(timings)}`);
  });

  it('gets built JavaScript with declarations, the bin and no sources, tests, benchmarks or examples in the tarball', () => {
    expect(packed).toContain('dist/local/cli.js');
    for (const entry of ['runtime', 'config', 'lib', 'testing', 'client']) {
      expect(packed).toContain(`dist/${entry}/index.js`);
      expect(packed).toContain(`dist/${entry}/index.d.ts`);
    }
    expect(packed).toContain('dist/lib/functions/relayFunction.js');
    expect(packed.filter((f) => /\.[mc]?ts$/.test(f) && !/\.d\.[mc]?ts$/.test(f))).toEqual([]);
    expect(packed.filter((f) => /(^|\/)(test|bench|examples)\//.test(f))).toEqual([]);
  });

  it('type-checks its handler, config, test and CDK entry against the installed declarations with `tsc --noEmit`', async () => {
    await timed('tsc', () => runOk('tsc', 'npx', ['tsc', '--noEmit', '-p', '.'], app));
  });

  it('runs its TypeScript handler with `warren start` (the bin `npx warren` runs): 100 messages become 100 rows, and SIGTERM exits 0', async () => {
    await timed('warren start, 100 messages, stop', async () => {
      const env = cleanEnv({ DATABASE_URL: db.url, AMQP_URL });
      const lines: string[] = [];
      // The bin itself, as `npx warren start` finds it: npm exec dies of the SIGTERM it forwards, and its exit code would
      // be npm's, not the runner's.
      runner = spawn(join(app, 'node_modules', '.bin', 'warren'), ['start'], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      for (const stream of [runner.stdout, runner.stderr]) stream?.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n')));
      const exited = new Promise<number | null>((resolve) => runner!.once('exit', (code) => resolve(code)));
      await waitFor('the runner consuming', () => lines.some((l) => l.includes('processing messages')), 60_000)
        .catch((error: Error) => { throw new Error(`${error.message}\n${lines.join('\n').slice(-4_000)}`); });
      await runOk('warren send', 'npx', ['warren', 'send', '--handler', 'visits', '--count', '100', '--body', '{"page":"/p","userId":"u"}'], app, env);
      const count = async () => Number((await db.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM $db.visits'))[0]?.n);
      await waitFor('100 visit rows', async () => (await count()) === 100, 60_000);
      runner.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(await count()).toBe(100);
      expect(lines.join('\n')).toContain('summary: acked 100,');
      const help = await runOk('warren --help', 'npx', ['warren', '--help'], app, env);
      expect(help.stdout).toContain('warren request [--handler orders]');
    });
  });

  it('passes its own test written with warren/testing under `npx vitest run`', async () => {
    const { output } = await timed('vitest', () => runOk('vitest', 'npx', ['vitest', 'run'], app, cleanEnv({ DATABASE_URL: db.url })));
    expect(output).toMatch(/Tests +2 passed \(2\)/);
  });

  it('synthesizes with `npx cdk synth` into templates that pass cfn-lint, Warren bundled from the installed package', async () => {
    await timed('cdk synth', () => runOk('cdk synth', 'npx', ['cdk', 'synth', '--quiet', '--no-notices', '-c', 'warren:lock=write'], app));
    const { templates, findings } = await timed('cfn-lint', () => cfnLintAssembly(join(app, 'cdk.out')));
    expect(templates.length).toBeGreaterThanOrEqual(2);
    expect(describeFindings(findings)).toEqual([]);
    // Every bundle (the team's handler and the stack's own functions) holds files of the project and its node_modules
    // only: Warren's from node_modules/warren/dist (the source maps name the sources those were compiled from).
    const maps = (await readdir(join(app, 'cdk.out'))).filter((d) => d.startsWith('asset.')).map((d) => join(app, 'cdk.out', d, 'index.js.map')).filter((f) => existsSync(f));
    expect(maps.length).toBeGreaterThanOrEqual(8);
    const sources = (await Promise.all(maps.map(async (f) => (JSON.parse(await readFile(f, 'utf8')) as { sources: string[] }).sources))).flat();
    expect(sources.filter((s) => s.startsWith('../../../'))).toEqual([]);
    expect(sources).toContain('../../functions/visits.ts');
    expect(sources).toContain('../../node_modules/warren/lib/functions/migrationResource.ts');
  });
});
