/**
 * The bind-group cache: the same layout and ranges give the same bind group, anything else a new
 * one; least recently used entries go first; capacity 0 keeps nothing; the backend reuses bind
 * groups when the same work runs again (same numbers), and drops them when the pool destroys
 * buffers.
 */
import { describe, expect, it } from 'vitest';
import { add, BindGroupCache, getBackend, matmul, mulScalar, noGrad, tensor, tidy } from '../src/index.js';

function setup() {
  const backend = getBackend();
  const device = backend.device;
  const layout = device.createBindGroupLayout({
    entries: [
      { binding: 0, visibility: 0x4, buffer: { type: 'read-only-storage' } },
      { binding: 1, visibility: 0x4, buffer: { type: 'storage' } },
    ],
  });
  const usage = 0x0080; // STORAGE
  const [b1, b2] = [device.createBuffer({ size: 1024, usage }), device.createBuffer({ size: 1024, usage })];
  return { device, layout, b1, b2, destroy: () => [b1, b2].forEach((b) => b.destroy()) };
}

describe('BindGroupCache', () => {
  it('returns the same bind group for the same layout and ranges, a new one when any range differs', () => {
    const { device, layout, b1, b2, destroy } = setup();
    const cache = new BindGroupCache(device);
    const ranges = [
      { buffer: b1, offset: 0, size: 256 },
      { buffer: b2, offset: 256, size: 512 },
    ];
    const g = cache.get(layout, ranges);
    expect(cache.get(layout, ranges.map((r) => ({ ...r })))).toBe(g);
    expect([cache.hits, cache.misses]).toEqual([1, 1]);
    const variants = [
      [{ ...ranges[0], buffer: b2 }, ranges[1]],
      [{ ...ranges[0], offset: 256 }, ranges[1]],
      [{ ...ranges[0], size: 512 }, ranges[1]],
      [ranges[0], { ...ranges[1], buffer: b1 }],
      [ranges[1], ranges[0]],
    ];
    const others = variants.map((v) => cache.get(layout, v));
    for (const o of others) expect(o).not.toBe(g);
    expect(new Set(others).size).toBe(variants.length);
    expect(cache.misses).toBe(1 + variants.length);
    destroy();
  });

  it('drops the least recently used entry when full; capacity 0 keeps none; clear empties it', () => {
    const { device, layout, b1, b2, destroy } = setup();
    const at = (offset: number) => [
      { buffer: b1, offset, size: 256 },
      { buffer: b2, offset: 0, size: 256 },
    ];
    const cache = new BindGroupCache(device, 2);
    const a = cache.get(layout, at(0));
    cache.get(layout, at(256));
    expect(cache.get(layout, at(0))).toBe(a); // a is now the most recent
    cache.get(layout, at(512)); // evicts 256, the least recent
    expect(cache.size).toBe(2);
    expect(cache.get(layout, at(0))).toBe(a);
    const misses = cache.misses;
    cache.get(layout, at(256));
    expect(cache.misses).toBe(misses + 1);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.get(layout, at(0))).not.toBe(a);

    const none = new BindGroupCache(device, 0);
    expect(none.get(layout, at(0))).not.toBe(none.get(layout, at(0)));
    expect([none.size, none.hits]).toEqual([0, 0]);
    destroy();
  });
});

describe('the backend with the bind-group cache', () => {
  it('reuses bind groups when the same work runs again, with the same numbers; a pool trim drops them', async () => {
    const backend = getBackend();
    const live0 = backend.stats().liveBytes;
    const a = tensor(Float32Array.from({ length: 64 * 48 }, (_, i) => Math.sin(i)), [64, 48]);
    const b = tensor(Float32Array.from({ length: 48 * 32 }, (_, i) => Math.cos(i)), [48, 32]);
    const bias = tensor(Float32Array.from({ length: 32 }, (_, i) => i / 8), [32]);
    const work = () => noGrad(() => tidy(() => mulScalar(add(matmul(a, b), bias), 0.5)));
    const first = work();
    const want = await first.data();
    first.dispose();
    // The pool hands released buffers back last-in first-out, so a rerun may bind them in another
    // order at first; after a few runs every order has been seen and each run only hits.
    let last = { hits: 0, misses: 0 };
    for (let run = 0; run < 8; run++) {
      await backend.sync();
      const { hits, misses } = backend.bindGroups;
      const again = work();
      expect(await again.data()).toEqual(want);
      again.dispose();
      last = { hits: backend.bindGroups.hits - hits, misses: backend.bindGroups.misses - misses };
    }
    // three dispatches, all bound as in an earlier run
    expect(last).toEqual({ hits: 3, misses: 0 });

    await backend.sync();
    backend.pool.trim();
    expect(backend.bindGroups.size).toBe(0);
    const afterTrim = work();
    expect(await afterTrim.data()).toEqual(want);
    afterTrim.dispose();
    for (const t of [a, b, bias]) t.dispose();
    expect(backend.stats().liveBytes).toBe(live0);
  });
});
