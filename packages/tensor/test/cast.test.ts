import { describe, expect, it } from 'vitest';
import { cast, tensor, f16BitsToF32, f32ToF16Bits, getBackend, backward, sum, mul, tidy, type Tensor } from '../src/index.js';
import { refFrom } from './reference/ref.js';
import { permuteRef } from './reference/shape.js';
import { checkOp } from './support/compare.js';
import { Rng } from './support/rng.js';

const rng = new Rng(5);

/** f32 values (as the GPU holds them) that exercise every branch of the f16 rounding. */
function awkwardValues(n: number): Float32Array {
  const special = [
    0, -0, 1, -1, 65504, -65504, 65519.996, 65520, 1e6, -1e30, Infinity, -Infinity, NaN,
    6.103515625e-5, 6.1e-5, 5.960464477539063e-8, 2.9802322387695312e-8, 2.99e-8, 1e-9, -4e-8, 1e-45,
    1 + 2 ** -11, 1 + 3 * 2 ** -11, 2049, 2051, 0.1, -0.3333333, 3.14159265,
  ];
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = i < special.length ? special[i] : (rng.next() < 0.5 ? -1 : 1) * 2 ** rng.uniform(-30, 17) * (1 + rng.next());
  }
  return out;
}

/** Raw 16-bit words of an f16 tensor, including the padding half of the last u32 word. */
async function rawHalves(t: Tensor): Promise<Uint16Array> {
  const words = Math.ceil(t.size / 2);
  return new Uint16Array(await getBackend().read(t.store.buffer, 0, words * 4));
}

describe('cast', () => {
  it('f32 → f16 rounds exactly like the CPU (nearest even, overflow to Inf, subnormals), odd lengths', async () => {
    for (const n of [1, 2, 3, 7, 28, 1025]) {
      const v = awkwardValues(n);
      const x = tensor(v, [n]);
      const h = cast(x, 'f16');
      expect(h.dtype).toBe('f16');
      const bits = await rawHalves(h);
      const want = Array.from(v, (f) => f32ToF16Bits(f));
      if (n % 2 === 1) want.push(0);
      expect(Array.from(bits)).toEqual(want);
      // and back: f32 → f16 → f32 equals rounding to half precision on the CPU
      const back = cast(h, 'f32');
      expect(Array.from(await back.data())).toEqual(Array.from(v, (f) => f16BitsToF32(f32ToF16Bits(f))));
      for (const t of [x, h, back]) t.dispose();
    }
  });

  it('f16 data uploaded on the CPU widens exactly on the GPU (all 65 536 bit patterns)', async () => {
    const all = new Float32Array(65535);
    for (let b = 0; b < all.length; b++) all[b] = f16BitsToF32(b);
    const h = tensor(all, [all.length], { dtype: 'f16' });
    const f = cast(h, 'f32');
    const got = await f.data();
    for (let b = 0; b < all.length; b++) {
      if (!Object.is(got[b], all[b]) && !(Number.isNaN(got[b]) && Number.isNaN(all[b]))) {
        throw new Error(`f16 bits 0x${b.toString(16)}: GPU ${got[b]}, CPU ${all[b]}`);
      }
    }
    h.dispose();
    f.dispose();
  });

  it('i32 ↔ f32 ↔ f16', async () => {
    const ints = [0, 1, -1, 7, -123456, 2047, 2049, 70000];
    const i = tensor(ints, [8], { dtype: 'i32' });
    const f = cast(i, 'f32');
    expect(Array.from(await f.data())).toEqual(ints);
    const fl = tensor([-2.7, 2.7, -0.5, 0.5, 1e6 + 0.5, -3], [6]);
    const ti = cast(fl, 'i32');
    expect(ti.dtype).toBe('i32');
    expect(Array.from(await ti.intData())).toEqual([-2, 2, 0, 0, 1000000, -3]);
    // i32 → f16 rounds (2049 → 2048), out-of-range ints become ±Inf; back to i32 within range.
    const h = cast(i, 'f16');
    expect(Array.from(await rawHalves(h))).toEqual(ints.map((v) => f32ToF16Bits(v)));
    const small = tensor([0, -3, 2049, 65504, -1000], [5], { dtype: 'i32' });
    const hi = tidy(() => cast(cast(small, 'f16'), 'i32'));
    expect(Array.from(await hi.intData())).toEqual([0, -3, 2048, 65504, -1000]);
    for (const t of [i, f, fl, ti, h, small, hi]) t.dispose();
  });

  it('same dtype shares storage; empty tensors', async () => {
    const h = tensor([1.5, 2.5, 3.5], [3], { dtype: 'f16' });
    const h2 = cast(h, 'f16');
    expect(h2.store).toBe(h.store);
    const e = tensor([], [2, 0]);
    const eh = cast(e, 'f16');
    const ei = cast(eh, 'i32');
    expect(ei.shape).toEqual([2, 0]);
    expect((await ei.data()).length).toBe(0);
    for (const t of [h, h2, e, eh, ei]) t.dispose();
  });

  it('f32 → f32 passes the gradient through; other casts cut the graph', async () => {
    const x = refFrom(rng.array(10), [2, 5]);
    await checkOp({ gpu: ([t]) => cast(t, 'f32'), ref: permuteRef, inputs: [x], args: { dims: [0, 1] } });
    const p = tensor([1, 2, 3], [3], { requiresGrad: true });
    const h = cast(p, 'f16');
    expect(h.requiresGrad).toBe(false);
    const loss = tidy(() => sum(mul(cast(p, 'f32'), cast(h, 'f32'))));
    expect(loss.requiresGrad).toBe(true);
    backward(loss);
    expect(Array.from(await p.grad!.data())).toEqual([1, 2, 3]);
    for (const t of [p, h, loss]) t.dispose();
  });

  it('errors', () => {
    const x = tensor([1], [1], { name: 'x' });
    expect(() => cast(x, 'f64' as never)).toThrow(/cast: unknown dtype "f64" \(expected f32, f16, i32\) for tensor 'x' \[1\] f32/);
    x.dispose();
    expect(() => cast(x, 'f16')).toThrow(/cast: argument 'x' \(tensor 'x' \[1\] f32\) was used after dispose/);
  });
});
