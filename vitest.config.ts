import { defineConfig } from 'vitest/config';

// Three kinds of tests (see docs/testing.md):
//   unit         src/**/*.test.ts          nothing external
//   integration  src/**/*.int.test.ts      the real Docker engine, registry, credential helper
//   e2e          test/e2e/**/*.test.ts     the built CLI (dist/) against the real engine
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          exclude: ['src/**/*.int.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['src/**/*.int.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          globalSetup: ['test/support/global-docker-setup.ts'],
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          globalSetup: ['test/support/global-docker-setup.ts'],
        },
      },
    ],
    pool: 'forks',
  },
});
