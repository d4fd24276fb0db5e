/**
 * Vite config of the labeling page.
 *
 * The workspace packages are bundled from their TypeScript sources (the same aliases as the
 * root vitest.config.ts), so `vite` and `vite build` need no prior `pnpm build` of the
 * libraries and the page and the worker always run the current code, with one module instance
 * of the tensor runtime per bundle. Node-only code in those packages is reached only through a
 * run-time `import(specifier)` (their `importNode` helpers), which Vite leaves alone, so nothing
 * from `node:*` ends up in the bundle. The default model's files come from
 * `@rpsam2/sam2/models/*` (the package's exports map) as assets.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  // Relative asset URLs: dist/ works from any path (a static server, a sub-folder, preview).
  base: './',
  resolve: {
    alias: [
      { find: /^@rpsam2\/tensor$/, replacement: here('../tensor/src/index.ts') },
      { find: /^@rpsam2\/sam2$/, replacement: here('../sam2/src/index.ts') },
      { find: /^@rpsam2\/rpsam2$/, replacement: here('../rpsam2/src/index.ts') },
      { find: /^@rpsam2\/data$/, replacement: here('../data/src/index.ts') },
    ],
  },
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    // The worker bundle holds the whole model code; the weights are a separate asset.
    chunkSizeWarningLimit: 2048,
    sourcemap: true,
  },
  server: { port: 5173, open: false },
  preview: { port: 4173 },
});
