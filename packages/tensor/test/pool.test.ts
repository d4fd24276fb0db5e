import { describe, expect, it } from 'vitest';
import { bucketSize, getBackend, mulScalar, noGrad, tensor, zeros, type Tensor } from '../src/index.js';

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

  it('readback staging buffers are mapped again by later reads, concurrent reads get their own', async () => {
    const backend = getBackend();
    const device = backend.device;
    const create = device.createBuffer.bind(device);
    let staging = 0;
    device.createBuffer = (d: GPUBufferDescriptor) => {
      if (d.usage & GPUBufferUsage.MAP_READ) staging++;
      return create(d);
    };
    try {
      const xs = [1, 2, 3].map((k) => tensor(Float32Array.from({ length: 3000 }, (_, i) => i * k), [3000]));
      await xs[0].data(); // warms a staging buffer of this size
      const before = staging;
      for (const k of [1, 2, 3]) {
        const d = await xs[k - 1].data();
        expect(d[2999]).toBe(2999 * k);
      }
      expect(staging).toBe(before);
      // three reads in flight at once: each maps a buffer of its own, and all come back right
      const ds = await Promise.all(xs.map((x) => x.data()));
      ds.forEach((d, j) => expect(d[1234]).toBe(1234 * (j + 1)));
      expect(staging - before).toBeLessThanOrEqual(2);
      // a different size takes a buffer of its own size
      const other = zeros([1_500_001]); // 6 MB: an 8 MiB staging buffer, a size no other read here uses
      const before2 = staging;
      expect((await other.data())[1_500_000]).toBe(0);
      expect(staging).toBe(before2 + 1);
      other.dispose();
      for (const x of xs) x.dispose();
    } finally {
      device.createBuffer = create;
    }
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

  it('after a wait the first submit comes after firstBatch dispatches, each later one after twice as many (up to batchSize)', async () => {
    const backend = getBackend();
    await backend.sync();
    const x = zeros([64]);
    await backend.sync(); // the upload above is submitted; the GPU is idle again
    const submits = () => backend.submitCount;
    const start = submits();
    const ys: Tensor[] = [];
    const record = (n: number) => noGrad(() => { for (let i = 0; i < n; i++) ys.push(mulScalar(x, 2)); });
    record(backend.firstBatch - 1);
    expect(submits()).toBe(start);
    record(1);
    expect(submits()).toBe(start + 1);
    record(2 * backend.firstBatch - 1);
    expect(submits()).toBe(start + 1);
    record(1);
    expect(submits()).toBe(start + 2);
    await backend.sync();
    for (const y of [x, ...ys]) y.dispose();
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
