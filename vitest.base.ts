/**
 * The test configuration every workspace extends (`mergeConfig(base, …)` in its vitest.config.ts):
 * sources resolved through the `@tessera/source` condition, so tests run the TypeScript of every
 * workspace they import, never a stale `dist`.
 */
import { defineConfig } from 'vitest/config';

const conditions = ['@tessera/source', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Generous: a test starts real servers and argon2 runs on two shared cores, suites in turn.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
