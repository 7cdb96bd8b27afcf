import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AMQP_URL, createTestDatabase, deleteTopology, orderInvariant, uniqueName, waitFor, type TestDatabase } from '../helpers/services.js';
import { sendOrders } from '../helpers/runner.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

let db: TestDatabase;
let outDir: string;
let child: ChildProcess | undefined;
let queue: string;
/** This test's own events exchange (the example app publishes there, not to the shared `orders.events`). */
let events: string;

beforeEach(async () => {
  db = await createTestDatabase({ schema: false });
  // Inside the project (.warren/ is git-ignored), so the compiled files resolve node_modules as dist/ does.
  outDir = join(ROOT, '.warren', uniqueName('build'));
  queue = uniqueName('t_built');
  events = `${queue}.events`;
});
afterEach(async () => {
  if (child?.exitCode === null) child.kill('SIGKILL');
  child = undefined;
  await deleteTopology(queue, 1, AMQP_URL, [events]);
  await rm(outDir, { recursive: true, force: true });
  await db.drop();
});

/** Every process of the tree under `pid`, with its command line. */
async function processTree(pid: number): Promise<{ pid: number; cmdline: string }[]> {
  const out = [{ pid, cmdline: (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ') }];
  const { stdout } = await run('pgrep', ['-P', String(pid)]).catch(() => ({ stdout: '' }));
  for (const c of stdout.split('\n').filter((l) => l !== '')) out.push(...(await processTree(Number(c))));
  return out;
}

describe('The production build', () => {
  it('compiles the runner and handlers to JavaScript that run on plain Node, without tsx anywhere in the process tree', async () => {
    // Prepare: compile (as `npm run build` does, into a scratch folder) and a JavaScript config
    await run('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: ROOT });
    const config = join(outDir, 'test.config.js');
    await writeFile(config, `export default ${JSON.stringify({
      migrations: ['examples/orders/functions/schema.sql'],
      handlers: [{ name: 'orders', entry: 'test/fixtures/orders.ts', queue, batchSize: 20, batchingWindowSeconds: 0, publishes: [{ exchange: events, type: 'topic' }] }],
      runner: { metricsPort: 0, workers: 2 },
    })};\n`);
    const lines: string[] = [];

    // Act
    child = spawn(process.execPath, [join(outDir, 'local', 'cli.js'), 'start', '--config', config], {
      cwd: ROOT, env: { ...process.env, DATABASE_URL: db.url, AMQP_URL, NODE_OPTIONS: '', WARREN_EVENTS_EXCHANGE: events }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n')));
    await waitFor('the built runner consuming', () => lines.some((l) => l.includes('processing messages')), 60_000);
    await sendOrders(queue, 200, 'built');
    await waitFor('200 orders', async () => (await orderInvariant(db)).orders === 200, 60_000);
    const tree = await processTree(child.pid!);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child!.once('exit', (c) => resolve(c)));

    // Assess: the handler ran from dist/functions/orders.js; runner, 2 workers, no tsx loader anywhere
    expect(await orderInvariant(db)).toMatchObject({ orders: 200, distinct: 200, totalsMatch: true });
    expect(tree).toHaveLength(3);
    expect(tree.filter((p) => /tsx/.test(p.cmdline))).toEqual([]);
    expect(tree.filter((p) => p.cmdline.includes(join(outDir, 'local', 'pool', 'worker.js')))).toHaveLength(2);
    expect(code).toBe(0);
  });
});
