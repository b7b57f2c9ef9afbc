/**
 * The test configuration every workspace extends (`mergeConfig(base, …)` in its vitest.config.ts):
 * sources resolved through the `@tessera/source` condition, so tests run the TypeScript of every
 * workspace they import, never a stale `dist`.
 */
import { defineConfig } from 'vitest/config';

const conditions = ['@tessera/source', 'node', 'import', 'default'];
// Vitest hands the SSR conditions to Node as --conditions, which then applies to require() too: with
// `import` there, a CommonJS package requiring a dual one (pg requiring pg-pool) gets its ES module.
// Vite applies `import` and `default` by itself where they belong.
const ssrConditions = ['@tessera/source', 'node'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions: ssrConditions } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Generous: a test starts real servers and argon2 runs on two shared cores, suites in turn.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
