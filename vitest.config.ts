import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'e2e/**/*.test.ts'],
    reporters: ['default', './tools/summary-reporter.ts'],
    globalSetup: ['./test/global-setup.ts'],
    // Two cores: a few files at once, each with its own database.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
