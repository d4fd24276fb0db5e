/**
 * Per-test-file setup: one Dawn device, and after every test the pool's live bytes must be back
 * where they were before it (no GPU memory leak).
 */
import { afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { initNode } from '../../src/node.js';
import { getBackend } from '../../src/runtime.js';

let liveBefore = 0;

beforeAll(async () => {
  await initNode();
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
