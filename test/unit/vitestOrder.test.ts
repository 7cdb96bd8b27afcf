/**
 * Proves the project order of `npm test` with vitest itself: the projects of vitest.config.ts, with their own
 * scheduling options (sequence.groupOrder, fileParallelism), each run on a file that logs its start and end.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startVitest } from 'vitest/node';
import config from '../../vitest.config.js';

interface ProjectTest { name: string; fileParallelism?: boolean; sequence?: { groupOrder?: number } }

describe('vitest.config.ts', () => {
  it('runs unit, infra and the example app first, then integration, and disruptive last', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warren-order-'));
    const log = join(dir, 'order.log');
    process.env.WARREN_ORDER_LOG = log;
    try {
      const projects = (config.test?.projects ?? []) as { test: ProjectTest }[];
      expect(projects.map((p) => [p.test.name, p.test.sequence?.groupOrder])).toEqual([['unit', 0], ['example', 0], ['integration', 1], ['disruptive', 2], ['infra', 0]]);
      const vitest = await startVitest('test', [], {
        config: false,
        watch: false,
        reporters: [],
        projects: projects.map(({ test }) => ({
          test: {
            name: test.name,
            root: process.cwd(),
            include: [`test/fixtures/vitest-order/${test.name}.check.ts`],
            ...(test.fileParallelism === undefined ? {} : { fileParallelism: test.fileParallelism }),
            ...(test.sequence === undefined ? {} : { sequence: test.sequence }),
          },
        })),
      });
      await vitest.close();
      const lines = readFileSync(log, 'utf8').trim().split('\n');
      const at = (line: string) => lines.indexOf(line);
      expect(lines).toHaveLength(10);
      for (const early of ['unit end', 'infra end', 'example end']) expect(at(early)).toBeLessThan(at('integration start'));
      expect(at('integration end')).toBeLessThan(at('disruptive start'));
      expect(lines.slice(-2)).toEqual(['disruptive start', 'disruptive end']);
    } finally {
      delete process.env.WARREN_ORDER_LOG;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
