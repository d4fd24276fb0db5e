import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/cli/rpsam2-verify.ts', 'src/cli/rpsam2.ts'],
  format: ['esm'],
  dts: { entry: ['src/index.ts'] },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  // Workspace packages and Node built-ins stay imports; only this package's code is bundled.
  external: [/^@rpsam2\//, 'webgpu', /^node:/],
});
