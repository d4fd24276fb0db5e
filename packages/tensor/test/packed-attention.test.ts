import { describe, expect, it } from 'vitest';
import { attentionTuning, matmulKernelKind, noGrad, setMatmulKernel, packedAttention, profile, reshape, scaledDotProductAttention, slice, tensor, tidy, transpose } from '../src/index.js';
import { refFrom, type Ref, type RefOp } from './reference/ref.js';
import { attentionRef } from './reference/nn.js';
import { checkOp, expectForward } from './support/compare.js';
import { Rng } from './support/rng.js';

const rng = new Rng(17);
const rand = (shape: number[]) => refFrom(rng.array(shape.reduce((a, b) => a * b, 1), -2, 2), shape);

interface PackedArgs {
  heads: number;
  /** Whether inputs[1] holds separate queries [B, Lq, H·D]. */
  ownQ: boolean;
}

/** [B, L, parts·H·D] → part `p` as [B, H, L, D] (float64). */
function headsOf(x: Ref, parts: number, p: number, heads: number): Ref {
  const [b, l, w] = x.shape;
  const d = w / (parts * heads);
  const out = new Float64Array(b * heads * l * d);
  for (let i = 0; i < b; i++)
    for (let h = 0; h < heads; h++)
      for (let t = 0; t < l; t++) for (let e = 0; e < d; e++) out[((i * heads + h) * l + t) * d + e] = x.data[(i * l + t) * w + p * heads * d + h * d + e];
  return { shape: [b, heads, l, d], data: out };
}

/** [B, H, L, D] → the `p`-th of `parts` blocks of a [B, L, parts·H·D] array (added into `into`). */
function interleave(x: Ref, parts: number, p: number, into: Ref): void {
  const [b, heads, l, d] = x.shape;
  const w = parts * heads * d;
  for (let i = 0; i < b; i++)
    for (let h = 0; h < heads; h++)
      for (let t = 0; t < l; t++) for (let e = 0; e < d; e++) into.data[(i * l + t) * w + p * heads * d + h * d + e] += x.data[((i * heads + h) * l + t) * d + e];
}

/** The float64 reference: split, attention per head (attentionRef), heads back in place. */
const packedRef: RefOp<PackedArgs> = {
  forward([qkv, q], { heads, ownQ }) {
    const qh = ownQ ? headsOf(q, 1, 0, heads) : headsOf(qkv, 3, 0, heads);
    const o = attentionRef.forward([qh, headsOf(qkv, 3, 1, heads), headsOf(qkv, 3, 2, heads)], {});
    const [b, , lq, d] = o.shape;
    const out = { shape: [b, lq, heads * d], data: new Float64Array(b * lq * heads * d) };
    interleave(o, 1, 0, out);
    return out;
  },
  vjp([qkv, q], { heads, ownQ }, up) {
    const qh = ownQ ? headsOf(q, 1, 0, heads) : headsOf(qkv, 3, 0, heads);
    const [gq, gk, gv] = attentionRef.vjp([qh, headsOf(qkv, 3, 1, heads), headsOf(qkv, 3, 2, heads)], {}, headsOf(up, 1, 0, heads)) as Ref[];
    const gqkv = { shape: [...qkv.shape], data: new Float64Array(qkv.data.length) };
    interleave(gk, 3, 1, gqkv);
    interleave(gv, 3, 2, gqkv);
    if (!ownQ) {
      interleave(gq, 3, 0, gqkv);
      return [gqkv];
    }
    const gqq = { shape: [...q.shape], data: new Float64Array(q.data.length) };
    interleave(gq, 1, 0, gqq);
    return [gqkv, gqq];
  },
};

/** [B, L, Lq (0: no own queries), H, D] */
const CASES: [number, number, number, number, number][] = [
  [3, 40, 0, 2, 8], // windows of a windowed stage
  [2, 50, 36, 4, 16], // pooled queries, Lq ≠ Lk
  [1, 64, 0, 1, 32], // one head, the widest register row
  [2, 20, 0, 2, 8], // Lq < 32: scaledDotProductAttention's own choice
  [1, 33, 0, 3, 6], // head dim not a multiple of 4
  [1, 40, 0, 1, 40], // head dim above the register kernel's
  [2, 37, 0, 2, 36], // wide heads, Lk not a multiple of 4 (scalar matmul loads)
  [2, 44, 12, 3, 24], // pooled queries, Lq < 32: the materialised path
];

/** Dispatches by kind: strided matmuls (a 'c' in the key's variant), softmaxes, anything else. */
function stridedCalls(entries: readonly { kernel: string; calls: number }[]): { matmul: number; softmax: number; other: number } {
  const n = { matmul: 0, softmax: 0, other: 0 };
  for (const e of entries) n[/^matmul:.*c:\d+$/.test(e.kernel) ? 'matmul' : e.kernel.startsWith('softmax') ? 'softmax' : 'other'] += e.calls;
  return n;
}

/** What the no-gradient path should be for a case: the register kernel in place, the strided matmuls in place, or the split. */
function expectedPath(l: number, lq: number, d: number): 'register' | 'strided' | 'split' {
  const register = matmulKernelKind() === 'subgroup' && attentionTuning.reg && d <= 32 && (lq || l) >= 32;
  if (register) return d % 4 === 0 ? 'register' : 'split';
  return 'strided';
}

describe('packedAttention', () => {
  it('equals the split → attention → merge reference, forward and backward (the decomposed path)', async () => {
    for (const [b, l, lq, heads, d] of CASES) {
      const inputs = [rand([b, l, 3 * heads * d]), ...(lq ? [rand([b, lq, heads * d])] : [])];
      await checkOp({ gpu: ([qkv, q]) => packedAttention(qkv, heads, { q }), ref: packedRef, inputs, args: { heads, ownQ: lq > 0 } });
    }
  });

  it('without gradients: the register kernel or the strided matmuls in place (no copies), the same numbers', async () => {
    for (const [b, l, lq, heads, d] of CASES) {
      const inputs = [rand([b, l, 3 * heads * d]), ...(lq ? [rand([b, lq, heads * d])] : [])];
      const want = packedRef.forward(inputs, { heads, ownQ: lq > 0 });
      const [qkv, q] = inputs.map((r) => tensor(r.data, r.shape));
      try {
        const { result: y, report } = await profile(() => noGrad(() => packedAttention(qkv, heads, { q })));
        try {
          await expectForward(y, want, `[${b}, ${l}, ${lq}, ${heads}, ${d}]`, 1e-4);
          const path = expectedPath(l, lq, d);
          const kernels = report.entries.map((e) => e.kernel);
          expect(kernels.some((k) => k.startsWith('attn:fwd:reg:')) && kernels.length === 1, `${kernels}`).toBe(path === 'register');
          // q·kᵀ, softmax, p·v: two strided matmuls ('c' in the key), one softmax, nothing that copies
          expect(stridedCalls(report.entries), `${kernels}`).toEqual(path === 'strided' ? { matmul: 2, softmax: 1, other: 0 } : expect.not.objectContaining({ other: 0 }));
        } finally {
          y.dispose();
        }
      } finally {
        qkv.dispose();
        q?.dispose();
      }
    }
  });

  it('the strided matmuls on register tiles too (the kernel family of GPUs and the browser), the same numbers', async () => {
    setMatmulKernel('register');
    try {
      for (const [b, l, lq, heads, d] of CASES) {
        const inputs = [rand([b, l, 3 * heads * d]), ...(lq ? [rand([b, lq, heads * d])] : [])];
        const want = packedRef.forward(inputs, { heads, ownQ: lq > 0 });
        const [qkv, q] = inputs.map((r) => tensor(r.data, r.shape));
        const y = noGrad(() => packedAttention(qkv, heads, { q }));
        await expectForward(y, want, `register tiles [${b}, ${l}, ${lq}, ${heads}, ${d}]`, 1e-4);
        for (const t of [qkv, q, y]) t?.dispose();
      }
    } finally {
      setMatmulKernel('auto');
    }
  });

  it('the strided path by chunks of query rows when the scores exceed the limit: the same numbers, no copies', async () => {
    const saved = attentionTuning.materializedBytes;
    const [b, l, lq, heads, d] = [2, 45, 40, 2, 36];
    const inputs = [rand([b, l, 3 * heads * d]), rand([b, lq, heads * d])];
    const want = packedRef.forward(inputs, { heads, ownQ: true });
    const [qkv, q] = inputs.map((r) => tensor(r.data, r.shape));
    // 4 heads·rows × 45 keys × 4 bytes: 12 query rows a chunk, so 4 chunks (the last of 4 rows)
    attentionTuning.materializedBytes = 4 * b * heads * l * 12;
    try {
      const { result: y, report } = await profile(() => noGrad(() => packedAttention(qkv, heads, { q })));
      try {
        await expectForward(y, want, 'chunked', 1e-4);
        if (matmulKernelKind() === 'subgroup') expect(stridedCalls(report.entries)).toEqual({ matmul: 2 * 4, softmax: 4, other: 0 });
      } finally {
        y.dispose();
      }
    } finally {
      attentionTuning.materializedBytes = saved;
      qkv.dispose();
      q.dispose();
    }
  });

  it('in place, the register kernel gives exactly what scaledDotProductAttention gives on the split heads', async () => {
    if (matmulKernelKind() !== 'subgroup' || !attentionTuning.reg) return;
    const [b, l, heads, d] = [2, 48, 2, 16];
    const qkv = tensor(rand([b, l, 3 * heads * d]).data, [b, l, 3 * heads * d]);
    try {
      const fast = noGrad(() => packedAttention(qkv, heads));
      // The heads split and made contiguous by hand: scaledDotProductAttention takes the same kernel.
      const slow = noGrad(() =>
        tidy(() => {
          const split = reshape(qkv, [b, l, 3, heads, d]);
          const part = (i: number) => transpose(slice(split, [null, null, i]), 1, 2);
          return reshape(transpose(scaledDotProductAttention(part(0), part(1), part(2)), 1, 2), [b, l, heads * d]);
        }),
      );
      expect(await fast.data()).toEqual(await slow.data());
      fast.dispose();
      slow.dispose();
    } finally {
      qkv.dispose();
    }
  });

  it('names a wrong shape', () => {
    const qkv = tensor(new Float32Array(2 * 5 * 12), [2, 5, 12]);
    try {
      expect(() => packedAttention(qkv, 3)).toThrow(/\[B, L, 3·H·D\] with H = 3 heads/);
      expect(() => packedAttention(qkv, 0)).toThrow(/heads must be a positive integer/);
      const q = tensor(new Float32Array(2 * 4 * 3), [2, 4, 3]);
      expect(() => packedAttention(qkv, 2, { q })).toThrow(/q \[2, 4, 3\] must be \[2, Lq, 4\]/);
      q.dispose();
    } finally {
      qkv.dispose();
    }
  });
});
