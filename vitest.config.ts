import { defineConfig } from 'vitest/config';

/**
 * Files that replace modules (`vi.mock`), reload them (`vi.resetModules`) or change the runner's
 * config from a shared module (`vi.setConfig` in test/browser/dashboard-support.ts runs once per
 * process, and vitest resets the config after every file): each gets a fresh process.
 */
const ISOLATED = ['src/storefront/identity.test.ts', 'test/dashboard-build.test.ts', 'test/browser/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Compiles the CLI's sources and builds the dashboard once, before the files that need them run.
    globalSetup: ['test/support/global-setup.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.tmp/vitest-results.json' },
    projects: [
      {
        extends: true,
        // The rest share their worker process and its loaded modules: no fork and no fresh import of
        // the same sources per file (≈ 1 s each; the suite went from 7.0 to 5.5 min). A test file
        // must therefore leave no global behind it: stop servers, restore process.env.
        test: { name: 'shared', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], exclude: ISOLATED, isolate: false },
      },
      { extends: true, test: { name: 'isolated', include: ISOLATED, isolate: true } },
    ],
  },
});
