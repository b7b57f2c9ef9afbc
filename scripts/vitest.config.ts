import { configDefaults, defineConfig, mergeConfig } from 'vitest/config';
import base from '../vitest.base.js';

// The test tooling's own tests sit beside it in e2e/ and bench/, and the cluster's fault tests in
// cluster/; the browser tests run apart, with `npm run test:e2e` (vitest.e2e.config.ts), since they
// need Chromium.
export default mergeConfig(
  base,
  defineConfig({
    test: {
      name: '@tessera/scripts',
      include: ['e2e/**/*.test.ts', 'bench/**/*.test.ts', 'cluster/**/*.test.ts'],
      exclude: [...configDefaults.exclude, 'e2e/**/*.e2e.test.ts'],
    },
  }),
);
