import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/cli.ts', 'src/check-metrics.ts'],
  format: ['esm'],
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'node',
  // Workspace packages, Dawn, onnxruntime-node (a native dev dependency, imported by `bench peers`
  // when it runs) and Node built-ins stay imports; only this package's code is bundled.
  external: [/^@rpsam2\//, 'webgpu', 'onnxruntime-node', /^node:/],
});
