import { defineConfig } from 'tsup';

export default defineConfig({
  // The library, the CLI plumbing shared with rpsam2's CLI (`@rpsam2/sam2/cli`, Node only), and
  // the two CLIs (`sam2`, `sam2-verify`) as their own entry points.
  entry: {
    index: 'src/index.ts',
    'cli/shared': 'src/cli/shared.ts',
    'cli/sam2': 'src/cli/sam2.ts',
    'cli/sam2-verify': 'src/cli/sam2-verify.ts',
  },
  format: ['esm'],
  // Declarations for the library and the shared CLI plumbing; the CLIs are programs.
  dts: { entry: { index: 'src/index.ts', 'cli/shared': 'src/cli/shared.ts' } },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  // Workspace packages and Node built-ins stay imports; only this package's code is bundled.
  external: [/^@rpsam2\//, 'webgpu', /^node:/],
});
