/**
 * Vitest configuration for every tier that runs on a host (unit, API, integration, conformance).
 * The VM tier (test/e2e) and the reliability tier (test/reliability) have their own commands. Run from the repository root: `npm test`.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // test/reliability has its own tier (npm run test:reliability, in npm test's image chain)
    exclude: ['test/e2e/**', 'test/reliability/**', 'node_modules/**', 'dist/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
