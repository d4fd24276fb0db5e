/**
 * Per-test-file setup: one Dawn device, and after every test the pool's live bytes must be back
 * where they were before it (no GPU memory leak).
 */
import { afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { initNode } from '../../src/node.js';
import { getBackend } from '../../src/runtime.js';
import { setGradientOpsCheck } from '../../src/autograd/gradient-ops.js';

let liveBefore = 0;

beforeAll(async () => {
  const backend = await initNode();
  // The tensor package's own tests prove kernel key → WGSL source is a function for every kernel
  // they run (the check regenerates the source per dispatch: too slow for the model packages).
  // The same files check that every op recording a gradient is listed in GRADIENT_OPS.
  if (/[\\/]packages[\\/]tensor[\\/]/.test(expect.getState().testPath ?? '')) {
    backend.checkKernelKeys = true;
    setGradientOpsCheck(true);
  }
});

beforeEach(() => {
  liveBefore = getBackend().stats().liveBytes;
});

afterEach(async (ctx) => {
  const backend = getBackend();
  await backend.sync();
  if (ctx.task.result?.state === 'fail') return;
  const live = backend.stats().liveBytes;
  expect(live, `GPU memory leak in "${ctx.task.name}": ${live - liveBefore} bytes still live`).toBe(liveBefore);
});
