import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { publishRaw } from '../helpers/amqp.js';
import { pngColours } from '../helpers/operations.js';
import { startTestRunner, type TestRunner } from '../helpers/runner.js';
import { publish } from '../../local/commands/publish.js';
import { AMQP_URL, createTestDatabase, waitFor, type TestDatabase } from '../helpers/services.js';

/** Debian's chromium package; CI installs it (`.ci/run`). Nothing is downloaded by the test; a fresh profile each run. */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let db: TestDatabase;
let running: TestRunner | undefined;
let browser: BrowserContext | undefined;
let profile: string | undefined;

beforeEach(async () => { db = await createTestDatabase(); });
afterEach(async () => {
  await browser?.close();
  browser = undefined;
  if (profile !== undefined) await rm(profile, { recursive: true, force: true });
  await running?.cleanup();
  running = undefined;
  await db.drop();
});

describe('Operations: the status page', () => {
  it('renders live numbers and a throughput chart in headless Chromium, and its screenshot is not blank', async () => {
    // Prepare: a runner with some traffic (spread over a few seconds so the chart has a shape) and 3 dead letters
    running = await startTestRunner(db, [{ name: 'orders', entry: 'test/fixtures/slowOrders.ts', concurrency: 2, batchSize: 20, batchingWindowSeconds: 0 }], { workerEnv: { WARREN_TEST_DELAY_MS: '2' } });
    const queue = running.queueOf('orders');
    const url = `http://127.0.0.1:${running.runner.metricsPort}/`;
    profile = await mkdtemp(join(tmpdir(), 'warren-chromium-'));
    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, viewport: { width: 1200, height: 900 } });
    const page = await browser.newPage();
    await page.goto(url);
    const count = 600;

    // Act
    await publish({ url: AMQP_URL, exchange: queue, count, rate: 200, message: (i) => ({ key: `sp-${i}`, body: { orderId: `sp-${i}`, sku: `sku-${i % 7}`, quantity: 1 + (i % 3) } }) });
    await publishRaw(queue, [0, 1, 2].map((i) => ({ body: 'not json', messageId: `sp-bad-${i}` })));
    await waitFor('all acked', () => running!.runner.snapshot().acked >= count + 3, 60_000);
    await waitFor('the page to show every ack', async () => (await page.textContent('#acked')) === String(count + 3), 10_000);
    // One more refresh after the last batch, so the chart shows the tail: the page's next status.json, rendered.
    await (await page.waitForResponse((r) => r.url().endsWith('/status.json'), { timeout: 10_000 })).finished();
    await page.evaluate(() => new Promise((resolve) => (globalThis as unknown as { requestAnimationFrame(cb: () => void): void }).requestAnimationFrame(() => resolve(undefined))));

    // Assess: live numbers
    expect(await page.textContent('#acked')).toBe('603');
    expect(await page.textContent('#deadlettered')).toBe('3');
    expect(await page.textContent('#workers')).toBe('2/2 · 2');
    expect(await page.textContent('#broker')).toContain('broker connected');
    const workerRows = await page.$$eval('#workertable tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(workerRows).toHaveLength(2);
    for (const row of workerRows) {
      expect(row[0]).toMatch(/^w[01]$/); // pool worker id
      expect(row[3]).toBe('orders'); // the handler it ran last
      expect(Number(row[5])).toBeGreaterThan(0); // batches served
      expect(row[6]).toBe('1'); // open DB connections
      expect(row[7]).toMatch(/^\d+$/); // db thread id
      expect(Number(row[9])).toBeGreaterThan(0); // transactions served
    }
    const handlerRow = await page.$$eval('#handlers tbody tr td', (cells) => cells.map((c) => c.textContent ?? ''));
    expect(handlerRow.slice(0, 6)).toEqual(['orders', '2', '603', '600', '0', '3']);
    expect(await page.locator('#chart path').count()).toBe(2);

    // Assess: the screenshot shows something
    const png = await page.screenshot({ fullPage: true });
    const colours = pngColours(png);
    expect(colours.width).toBe(1200);
    expect(colours.distinct).toBeGreaterThan(50);
    expect(colours.dominantShare).toBeLessThan(0.9);
    await writeFile(join(tmpdir(), 'warren-status-page.png'), png);
    if (process.env.WARREN_UPDATE_SCREENSHOT === '1') await writeFile(new URL('../../docs/status-page.png', import.meta.url), png);
  });
});
