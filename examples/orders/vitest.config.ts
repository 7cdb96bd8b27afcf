import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each test file gets a database of its own (warren/testing); MariaDB must be running (DATABASE_URL).
    testTimeout: 30_000,
  },
});
