import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
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

/** `env` without the WARREN_* variables (a test run's own, e.g. WARREN_TEST_EVENTS_EXCHANGE). */
function withoutWarrenEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('WARREN_')));
}

beforeEach(async () => {
  db = await createTestDatabase({ schema: false });
  // Inside the project (.warren/ is git-ignored), so the compiled files resolve node_modules as dist/ does.
  outDir = join(ROOT, '.warren', uniqueName('build'));
  queue = uniqueName('t_built');
});
afterEach(async () => {
  if (child?.exitCode === null) child.kill('SIGKILL');
  child = undefined;
  await deleteTopology(queue, 1, AMQP_URL);
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

/** A JavaScript handler importing the built runtime: the example's effect (an order row, a running total per sku). */
const ORDERS_JS = `import { defineHandler } from '../runtime/index.js';

let traced = false;

export const handler = defineHandler({
  onMissingKey: 'hash-body',
  async handle(message, { query }) {
    // once per worker: the code that called the handler, down to the worker file (past V8's default of 10 frames; a
    // worker thread has no command line of its own to look at)
    if (!traced) { traced = true; Error.stackTraceLimit = 50; console.log('handler called from: ' + new Error().stack.split('\\n').slice(1).map((l) => l.trim()).join(' | ')); }
    const { orderId, sku, quantity } = message.body;
    const inserted = await query('INSERT IGNORE INTO orders (order_id, sku, quantity) VALUES (?, ?, ?)', [orderId, sku, quantity]);
    if (inserted.affectedRows === 0) return;
    await query('INSERT INTO sku_totals (sku, quantity_total) VALUES (?, ?) ON DUPLICATE KEY UPDATE quantity_total = quantity_total + VALUES(quantity_total)', [sku, quantity]);
  },
});
`;

describe.each(['thread', 'process'] as const)('The production build, with %s workers', (workerModel) => {
  it('runs a JavaScript config and JavaScript handlers on plain Node, without tsx anywhere in the process tree or the workers', async () => {
    // Prepare: compile (as `npm run build` does, into a scratch folder), a JavaScript handler and config beside it
    await run('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: ROOT });
    await mkdir(join(outDir, 'app'));
    await writeFile(join(outDir, 'app', 'orders.mjs'), ORDERS_JS);
    const config = join(outDir, 'app', 'warren.config.mjs');
    await writeFile(config, `export default ${JSON.stringify({
      migrations: ['examples/orders/functions/schema.sql'],
      handlers: [{ name: 'orders', entry: relative(ROOT, join(outDir, 'app', 'orders.mjs')), queue, batchSize: 20, batchingWindowSeconds: 0 }],
      runner: { metricsPort: 0, workers: 2, workerModel },
    })};\n`);
    const lines: string[] = [];

    // Act
    child = spawn(process.execPath, [join(outDir, 'local', 'cli.js'), 'start', '--config', relative(ROOT, config)], {
      cwd: ROOT, env: { ...withoutWarrenEnv(process.env), DATABASE_URL: db.url, AMQP_URL, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n')));
    await waitFor('the built runner consuming', () => lines.some((l) => l.includes('processing messages')), 60_000);
    await sendOrders(queue, 200, 'built');
    await waitFor('200 orders', async () => (await orderInvariant(db)).orders === 200, 60_000);
    const tree = await processTree(child.pid!);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child!.once('exit', (c) => resolve(c)));

    // Assess: runner and 2 workers (processes, or threads of the runner's), all on the compiled files, no tsx loader anywhere
    const workerFile = join(outDir, 'local', 'pool', 'worker.js');
    expect(await orderInvariant(db)).toMatchObject({ orders: 200, distinct: 200, totalsMatch: true });
    expect(tree).toHaveLength(workerModel === 'process' ? 3 : 1);
    expect(tree.filter((p) => /tsx/.test(p.cmdline))).toEqual([]);
    expect(tree.filter((p) => p.cmdline.includes(workerFile))).toHaveLength(workerModel === 'process' ? 2 : 0);
    const callers = lines.filter((l) => l.includes('handler called from: '));
    expect(callers.length).toBeGreaterThanOrEqual(1);
    expect(callers.filter((l) => !l.includes(workerFile) || /tsx/.test(l))).toEqual([]);
    expect(code).toBe(0);
  });
});
