import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests start real worker threads and tfjs engines: two files at a time fit 2 cores.
    maxWorkers: 2,
    pool: 'forks',
  },
});
