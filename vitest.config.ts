import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Tests run the library from its sources, as one module graph with the rest.
  resolve: { alias: { '@optevo/optimizers': fileURLToPath(new URL('./packages/optimizers/src/index.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests start real worker threads and tfjs engines: two files at a time fit 2 cores.
    maxWorkers: 2,
    pool: 'forks',
    // CI runs with CI=true, which makes Ink print only its last frame; the
    // dashboard's tests watch it frame by frame, as a user's terminal does.
    env: { CI: 'false', CONTINUOUS_INTEGRATION: 'false' },
  },
});
