import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the sources of the workspace packages (no build needed, one module
    // instance of the tensor runtime).
    alias: [
      { find: /^@rpsam2\/tensor\/node$/, replacement: src('./packages/tensor/src/node.ts') },
      { find: /^@rpsam2\/tensor$/, replacement: src('./packages/tensor/src/index.ts') },
      { find: /^@rpsam2\/sam2\/cli$/, replacement: src('./packages/sam2/src/cli/shared.ts') },
      { find: /^@rpsam2\/sam2$/, replacement: src('./packages/sam2/src/index.ts') },
      { find: /^@rpsam2\/rpsam2$/, replacement: src('./packages/rpsam2/src/index.ts') },
      { find: /^@rpsam2\/data$/, replacement: src('./packages/data/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    // One WebGPU device per worker; lavapipe is CPU-bound, so few workers.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    setupFiles: ['packages/tensor/test/support/setup.ts'],
  },
});
