/**
 * imageTokens: (x + addend) as channels-last tokens, against a float64 reference; bitwise equal
 * to the add and permute it replaces; one kernel without gradients, the ops (and their
 * gradients) with them; clear errors for shapes that do not fit.
 */
import { describe, expect, it } from 'vitest';
import { add, backward, cast, expand, imageTokens, noGrad, permute, profile, reshape, tensor, tidy, type Tensor } from '../src/index.js';
import { Rng } from './support/rng.js';

const rng = new Rng(11);
const rand = (shape: number[]) => Float32Array.from(rng.array(shape.reduce((s, d) => s * d, 1), -3, 3));

/** Float64 reference: tokens[b, p, c] = x[b or 0, c, p] + addend[b or 0, c, p or 0], rounded to f32. */
function reference(x: Float32Array, xs: number[], a: Float32Array, as: number[], batch: number): Float32Array {
  const [bx, c, h, w] = xs;
  const pixels = h * w;
  const full = as[2] === h && as[3] === w;
  const out = new Float32Array(batch * pixels * c);
  for (let b = 0; b < batch; b++)
    for (let p = 0; p < pixels; p++)
      for (let ch = 0; ch < c; ch++) {
        const ab = as[0] === 1 ? 0 : b;
        out[(b * pixels + p) * c + ch] = x[((bx === 1 ? 0 : b) * c + ch) * pixels + p] + (full ? a[(ab * c + ch) * pixels + p] : a[ab * c + ch]);
      }
  return out;
}

/** The two ops imageTokens replaces, as SAM 2's decoder ran them. */
function composite(x: Tensor, a: Tensor, batch: number): Tensor {
  const [, c, h, w] = x.shape;
  return permute(reshape(add(x.shape[0] === batch ? x : expand(x, [batch, c, h, w]), a), [batch, c, h * w]), [0, 2, 1]);
}

describe('imageTokens', () => {
  const cases: { x: number[]; addend: number[]; batch?: number }[] = [
    { x: [1, 8, 4, 6], addend: [1, 8, 1, 1] }, // the decoder's no-mask case
    { x: [1, 8, 4, 6], addend: [3, 8, 1, 1], batch: 3 }, // one image, three prompts
    { x: [1, 8, 4, 6], addend: [1, 8, 1, 1], batch: 2 },
    { x: [2, 12, 2, 8], addend: [2, 12, 2, 8] }, // a dense mask embedding
    { x: [1, 4, 4, 4], addend: [2, 4, 4, 4] },
    { x: [1, 256, 16, 16], addend: [1, 256, 1, 1] },
    { x: [2, 6, 3, 5], addend: [1, 6, 1, 1] }, // C and H·W not multiples of 4: the ops
  ];
  for (const k of cases) {
    it(`x ${k.x}, addend ${k.addend}${k.batch ? `, batch ${k.batch}` : ''}: against float64, bitwise as add → permute, one kernel where it can`, async () => {
      const batch = k.batch ?? Math.max(k.x[0], k.addend[0]);
      const [xd, ad] = [rand(k.x), rand(k.addend)];
      const [x, a] = [tensor(xd, k.x), tensor(ad, k.addend)];
      const { result: tokens, report } = await profile(() => noGrad(() => imageTokens(x, a, k.batch)));
      const fused = k.x[1] % 4 === 0 && (k.x[2] * k.x[3]) % 4 === 0;
      const kernels = report.entries.map((e) => `${e.kernel}×${e.calls}`);
      if (fused) expect(kernels).toEqual([`copy:transpose4:add-${k.addend[2] === 1 ? 'column' : 'source'}×1`]);
      else expect(kernels.some((n) => n.startsWith('copy:transpose4:add'))).toBe(false);
      expect(tokens.shape).toEqual([batch, k.x[2] * k.x[3], k.x[1]]);
      const got = await tokens.data();
      expect(got).toEqual(reference(xd, k.x, ad, k.addend, batch));
      const ops = tidy(() => noGrad(() => composite(x, a, batch)));
      expect(got).toEqual(await ops.data());
      for (const t of [x, a, tokens, ops]) t.dispose();
    });
  }

  it('with gradients it runs the ops, and the gradients are theirs', async () => {
    const weights = tensor(rand([1, 4, 8]), [1, 4, 8]);
    const grads = async (f: (x: Tensor, a: Tensor) => Tensor) => {
      const [x, a] = [tensor(rand([1, 8, 2, 2]), [1, 8, 2, 2]), tensor(rand([1, 8, 1, 1]), [1, 8, 1, 1])];
      for (const t of [x, a]) t.requiresGrad = true;
      const out = f(x, a);
      expect(out.requiresGrad).toBe(true);
      backward(out, { grad: weights });
      const g = await Promise.all([x, a].map((t) => t.grad!.data()));
      for (const t of [x, a, out]) t.dispose();
      return g;
    };
    const ours = await grads((x, a) => tidy(() => imageTokens(x, a)));
    const ops = await grads((x, a) => tidy(() => composite(x, a, 1)));
    expect(ours).toEqual(ops);
    // d/dx[c, p] = w[p, c]; d/daddend[c] = Σ_p w[p, c]
    const w = await weights.data();
    expect(Array.from(ours[0])).toEqual(Array.from({ length: 32 }, (_, i) => w[(i % 4) * 8 + Math.floor(i / 4)]));
    expect(ours[1][3]).toBeCloseTo(w[3] + w[11] + w[19] + w[27], 5);
    weights.dispose();
  });

  it('refuses shapes that do not fit, naming them', () => {
    tidy(() => {
      const x = tensor(new Float32Array(2 * 8 * 16), [2, 8, 4, 4]);
      const a = tensor(new Float32Array(8), [1, 8, 1, 1]);
      expect(() => imageTokens(reshape(x, [2, 8, 16]), a)).toThrow('imageTokens: x must be [B, C, H, W], got [2, 8, 16]');
      expect(() => imageTokens(x, tensor(new Float32Array(64), [1, 8, 2, 4]))).toThrow(/imageTokens: addend \[1, 8, 2, 4\] must be \[1 or 2, 8, 1, 1\] or \[1 or 2, 8, 4, 4\]/);
      expect(() => imageTokens(x, a, 3)).toThrow("imageTokens: x's batch 2 must be 1 or 3");
      expect(() => imageTokens(cast(x, 'f16'), a)).toThrow(/imageTokens: argument 'x' \(.*f16\) must have dtype f32/);
    });
  });
});
