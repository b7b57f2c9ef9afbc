import { defineConfig, mergeConfig } from 'vitest/config';
import base from '../vitest.base.js';

// mergeConfig concatenates arrays: the browser tests replace the include list rather than add to it.
const { include: _unitTests, ...baseTest } = base.test ?? {};

export default mergeConfig(
  { ...base, test: baseTest },
  defineConfig({
    test: {
      include: ['e2e/**/*.e2e.test.ts'],
      testTimeout: 120_000,
      hookTimeout: 120_000,
      fileParallelism: false,
    },
  }),
);
