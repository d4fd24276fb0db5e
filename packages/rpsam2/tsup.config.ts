import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  // Workspace packages and Node built-ins stay imports; only this package's code is bundled.
  external: [/^@rpsam2\//, 'webgpu', /^node:/],
});
