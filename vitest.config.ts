import { defineConfig } from 'vitest/config';

// On CI a failed test runs once more, and scripts/retry-reporter.ts names every test that passed only on its retry, so
// a loaded machine's hiccup does not sink the run and the flaky test is still reported (in .ci/run's summary).
const ci = Boolean(process.env.CI);

export default defineConfig({
  test: {
    reporters: ci ? ['default', './scripts/retry-reporter.ts'] : ['default'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: ['**/*.int.test.ts', 'node_modules/**'],
          testTimeout: 60_000, // generous: a loaded 2-core machine runs the journey tests 10× slower than a quiet one
          retry: ci ? 1 : 0,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'int',
          include: ['**/*.int.test.ts'],
          exclude: ['node_modules/**'],
          testTimeout: 120_000,
          retry: ci ? 1 : 0,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
