import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // Pure TypeScript that runs in the page (the studio) and in Node (the bench): no Node built-ins.
  platform: 'neutral',
  // Workspace packages stay imports; only this package's code is bundled.
  external: [/^@rpsam2\//],
});
