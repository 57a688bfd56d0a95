/**
 * Vitest configuration of the reliability tier (test/reliability): the fuzz, kill -9, concurrency
 * and flood tests and the regression case of every fault of issue 14 (faults/). Run it with
 * `npm run test:reliability` (test/reliability/run.mjs), which adds the RELIABILITY-REPORT line.
 *
 * Files run one after the other: each starts real agents and daemons, several flood or kill
 * them, and on two shared cores a flood beside a kill -9 loop would make both slower, not faster.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/reliability/**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    testTimeout: 300_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
