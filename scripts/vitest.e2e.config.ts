import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@tessera/source', 'node', 'import', 'default'] },
  ssr: { resolve: { conditions: ['@tessera/source', 'node', 'import', 'default'] } },
  test: {
    include: ['e2e/**/*.e2e.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
