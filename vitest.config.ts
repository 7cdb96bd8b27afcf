import { defineConfig } from 'vitest/config';

/*
 * Order of the run (vitest 4 runs `sequence.groupOrder` groups one after another, lowest first):
 *   0  unit + infra + example   in parallel
 *   1  integration      one file at a time
 *   2  disruptive       one file at a time, last: it restarts the shared RabbitMQ
 * Every project's groupOrder is explicit: a project with `fileParallelism: false` and the default groupOrder 0 is put
 * into a separate group that vitest runs after ALL numbered groups, i.e. after `disruptive`.
 * (test/unit/vitestOrder.test.ts pins this.)
 */
export const GROUP_ORDER = { unit: 0, infra: 0, example: 0, integration: 1, disruptive: 2 } as const;

/**
 * In this repository `warren`, `warren/config`, ... resolve to the TypeScript sources through the package's
 * `warren-source` export condition (package.json `exports`): for the tests' own imports (vite's resolver) and for every
 * process a test starts (NODE_OPTIONS, inherited: the runner, its workers, the CLI). A team's project has no such
 * condition and gets the built files (test/integration/userPath.test.ts takes that path, with NODE_OPTIONS cleared).
 */
export const SOURCE_CONDITION = 'warren-source';
if (!(process.env.NODE_OPTIONS ?? '').includes(`--conditions=${SOURCE_CONDITION}`)) {
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --conditions=${SOURCE_CONDITION}`.trim();
}

export default defineConfig({
  ssr: { resolve: { conditions: [SOURCE_CONDITION, 'node', 'development|production'] } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          sequence: { groupOrder: GROUP_ORDER.unit },
        },
      },
      {
        extends: true,
        test: {
          // The example app's own tests (a team's tests, written with warren/testing): a database of their own each.
          name: 'example',
          include: ['examples/*/test/**/*.test.ts'],
          sequence: { groupOrder: GROUP_ORDER.example },
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Real RabbitMQ and MariaDB, worker processes and timing: one file at a time on a 2-core machine.
          fileParallelism: false,
          sequence: { groupOrder: GROUP_ORDER.integration },
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          // Tests that restart the shared RabbitMQ: they run alone, after every other project has finished.
          name: 'disruptive',
          include: ['test/disruptive/**/*.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: GROUP_ORDER.disruptive },
          testTimeout: 180_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          sequence: { groupOrder: GROUP_ORDER.infra },
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
