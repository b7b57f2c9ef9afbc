import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@tessera/source', 'node', 'import', 'default'] },
  ssr: { resolve: { conditions: ['@tessera/source', 'node', 'import', 'default'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
  },
});
