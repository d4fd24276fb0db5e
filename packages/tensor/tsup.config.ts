import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/node.ts', 'src/testing.ts', 'src/cli/check-ops.ts'],
  format: ['esm'],
  dts: {
    entry: ['src/index.ts', 'src/node.ts', 'src/testing.ts'],
    // The declarations name WebGPU's types (GPUDevice, GPUBuffer…), globals from @webgpu/types (a
    // dependency): the reference brings them into a consumer's program without `types` settings.
    banner: '/// <reference types="@webgpu/types" />',
  },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  external: ['webgpu', /^node:/],
});
