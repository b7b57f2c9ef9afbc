import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@tessera/source', 'node', 'import', 'default'] },
  ssr: { resolve: { conditions: ['@tessera/source', 'node', 'import', 'default'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Generous: a test starts real servers and argon2 runs on two shared cores, suites in turn.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
