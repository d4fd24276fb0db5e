import { describe, expect, it } from 'vitest';
import { bucketSize, getBackend, tensor, zeros } from '../src/index.js';

describe('buffer pool', () => {
  it('rounds sizes to at most 25% slack, with 16-byte granularity for small buffers', () => {
    expect(bucketSize(1)).toBe(16);
    expect(bucketSize(17)).toBe(32);
    expect(bucketSize(256)).toBe(256);
    for (const n of [257, 1000, 4097, 123457, 10_000_001]) {
      const b = bucketSize(n);
      expect(b).toBeGreaterThanOrEqual(n);
      expect(b / n).toBeLessThanOrEqual(1.25);
    }
  });

  it('reuses a released buffer only after the work that used it is submitted', () => {
    const backend = getBackend();
    backend.flush();
    const a = zeros([1000]);
    const bufA = a.store.buffer;
    a.dispose();
    // still pending: the encoder that filled `a` has not been submitted
    const b = zeros([1000]);
    expect(b.store.buffer).not.toBe(bufA);
    backend.flush();
    const c = zeros([1000]);
    expect(c.store.buffer).toBe(bufA);
    b.dispose();
    c.dispose();
  });

  it('counts live and peak bytes', () => {
    const backend = getBackend();
    const s0 = backend.stats();
    backend.pool.resetPeak();
    const t = tensor(new Float32Array(4096), [4096]);
    const s1 = backend.stats();
    expect(s1.liveBytes - s0.liveBytes).toBe(bucketSize(4096 * 4));
    expect(s1.peakBytes).toBeGreaterThanOrEqual(s1.liveBytes);
    t.dispose();
    expect(backend.stats().liveBytes).toBe(s0.liveBytes);
    expect(backend.stats().peakBytes).toBe(s1.peakBytes);
  });

  it('batches dispatches into few submits', async () => {
    const backend = getBackend();
    backend.flush();
    const x = zeros([64]);
    const before = backend.dispatchCount;
    const ys = Array.from({ length: 10 }, () => zeros([64]));
    expect(backend.dispatchCount - before).toBe(10);
    await backend.sync();
    for (const y of [x, ...ys]) y.dispose();
  });
});
