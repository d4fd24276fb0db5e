import { describe, expect, it } from 'vitest';
import { bucketSize, getBackend, mulScalar, tensor, zeros } from '../src/index.js';

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

  it('reuses a released buffer before the submit; an upload into it waits for the commands that read it', async () => {
    const backend = getBackend();
    backend.flush();
    const a = tensor(Float32Array.from({ length: 1000 }, (_, i) => i), [1000]);
    const doubled = mulScalar(a, 2); // recorded, not submitted: reads a's buffer later
    const bufA = a.store.buffer;
    a.dispose();
    // an upload into a's old buffer: the pool hands it out again, and the backend submits the
    // encoder before writing, so `doubled` still sees a's values
    const b = tensor(new Float32Array(1000).fill(-1), [1000]);
    expect(b.store.buffer).toBe(bufA);
    const d = await doubled.data();
    expect(d[0]).toBe(0);
    expect(d[999]).toBe(1998);
    expect([...(await b.data())].every((v) => v === -1)).toBe(true);
    // a dispatch output takes a released buffer without any submit in between
    const before = backend.submitCount;
    const c = mulScalar(b, 3);
    const bufC = c.store.buffer;
    c.dispose();
    const e = mulScalar(b, 5);
    expect(e.store.buffer).toBe(bufC);
    expect(backend.submitCount).toBe(before);
    expect((await e.data())[0]).toBe(-5);
    for (const t of [doubled, b, e]) t.dispose();
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
