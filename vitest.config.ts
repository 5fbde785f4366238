import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'sidecar/**/*.test.ts', 'controller/**/*.test.ts'],
        },
      },
      {
        test: {
          // Runs on the dev cluster variant without in-place resize (test/run-all.sh switches to it).
          name: 'restart-path',
          include: ['test/e2e-restart/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // One real cluster: e2e files run one at a time.
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
