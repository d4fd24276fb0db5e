import { defineConfig } from 'tsup';

export default defineConfig({
  // The library, and the two CLIs (`sam2`, `sam2-verify`) as their own entry points.
  entry: {
    index: 'src/index.ts',
    'cli/sam2': 'src/cli/sam2.ts',
    'cli/sam2-verify': 'src/cli/sam2-verify.ts',
  },
  format: ['esm'],
  // Declarations for the library only; the CLIs are programs.
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  // Workspace packages and Node built-ins stay imports; only this package's code is bundled.
  external: [/^@rpsam2\//, 'webgpu', /^node:/],
});
