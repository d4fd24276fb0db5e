import { describe, expect, it } from 'vitest';
import { scaledDotProductAttention, tensor, tidy, backward, getBackend, attentionTuning, matmulKernelKind, noGrad, profile } from '../src/index.js';
import { refFrom } from './reference/ref.js';
import { attentionRef } from './reference/nn.js';
import { checkOp, maxAbsError, relL2Error } from './support/compare.js';
import { checkVjpByFiniteDifferences } from './support/gradcheck.js';
import { Rng } from './support/rng.js';

const rng = new Rng(3);
const rand = (shape: number[], lo = -2, hi = 2) => refFrom(rng.array(shape.reduce((a, b) => a * b, 1), lo, hi), shape);

/** [lead dims, Lq, Lk, D, Dv] */
const CASES: [number[], number, number, number, number][] = [
  [[1, 1], 7, 7, 16, 16],
  [[2, 3], 1, 1, 8, 8], // Lq = Lk = 1
  [[1, 2], 1, 9, 5, 5], // one query, D not a multiple of 4
  [[1, 2], 9, 1, 5, 5], // one key
  [[3, 4], 5, 33, 8, 8],
  [[1, 2], 64, 64, 72, 72], // SAM 2 windowed head dim
  [[2, 1], 70, 130, 6, 10], // several query blocks and key tiles, Dv ≠ D
  [[1, 1], 3, 5, 128, 128], // large head dim
  [[2], 10, 11, 12, 12], // rank 3
  [[1, 1], 67, 200, 32, 32],
];

describe('scaledDotProductAttention', () => {
  // Two tests: each head-dim kind compiles its own pipelines (seconds each on a cold lavapipe cache).
  for (const vec of [true, false]) {
    it(`GPU vs reference (forward and backward) on awkward shapes, head dims ${vec ? '' : 'not '}multiples of 4`, async () => {
      for (const [lead, lq, lk, d, dv] of CASES.filter(([, , , d, dv]) => (d % 4 === 0 && dv % 4 === 0) === vec)) {
        const inputs = [rand([...lead, lq, d]), rand([...lead, lk, d]), rand([...lead, lk, dv])];
        for (const impl of ['fused', 'materialized'] as const) {
          await checkOp({ gpu: ([q, k, v]) => scaledDotProductAttention(q, k, v, { impl }), ref: attentionRef, inputs, args: {} });
        }
      }
    });
  }
  it('small head dims: the register kernel where matmul takes subgroup tiles, and the generic kernel still right', async () => {
    const shapes: [number, number, number, number][] = [
      [70, 130, 16, 16],
      [9, 33, 5, 7],
      [40, 17, 32, 8],
    ];
    for (const [lq, lk, d, dv] of shapes) {
      const inputs = [rand([1, 2, lq, d]), rand([1, 2, lk, d]), rand([1, 2, lk, dv])];
      const [q, k, v] = inputs.map((a) => tensor(a.data, a.shape));
      const { report } = await profile(async () => {
        const y = scaledDotProductAttention(q, k, v, { impl: 'fused' });
        await y.data();
        y.dispose();
      });
      const reg = report.entries.some((e) => e.kernel.startsWith('attn:fwd:reg:'));
      expect(reg, `d ${d}, dv ${dv}`).toBe(matmulKernelKind() === 'subgroup');
      [q, k, v].forEach((t) => t.dispose());
      attentionTuning.reg = false;
      try {
        await checkOp({ gpu: ([q, k, v]) => scaledDotProductAttention(q, k, v, { impl: 'fused' }), ref: attentionRef, inputs, args: {} });
      } finally {
        attentionTuning.reg = true;
      }
    }
  });
  it("'auto' without gradients on CPU adapters: wide heads over the score limit are materialised a chunk of query rows at a time", async () => {
    const inputs = [rand([2, 3, 37, 40]), rand([2, 3, 29, 40]), rand([2, 3, 29, 24])];
    const [q, k, v] = inputs.map((a) => tensor(a.data, a.shape));
    const saved = attentionTuning.materializedBytes;
    // 6 heads × 29 keys × 4 bytes = 696 bytes a query row: chunks of 5 rows (8 chunks for 37).
    attentionTuning.materializedBytes = 3500;
    try {
      const { result, report } = await profile(async () => {
        const y = noGrad(() => scaledDotProductAttention(q, k, v));
        const d = await y.data();
        y.dispose();
        return d;
      });
      expect(maxAbsError(result, attentionRef.forward(inputs, {}).data).err).toBeLessThan(1e-5);
      const softmaxes = report.entries.filter((e) => e.kernel.startsWith('softmax:')).reduce((n, e) => n + e.calls, 0);
      const fused = report.entries.some((e) => e.kernel.startsWith('attn:'));
      if (matmulKernelKind() === 'subgroup') {
        expect(softmaxes).toBe(8);
        expect(fused).toBe(false);
      } else expect(fused).toBe(true);
    } finally {
      attentionTuning.materializedBytes = saved;
      [q, k, v].forEach((t) => t.dispose());
    }
  });
  it('custom scale and peaked softmax', async () => {
    const inputs = [rand([1, 2, 9, 8]), rand([1, 2, 17, 8]), rand([1, 2, 17, 8])];
    for (const impl of ['fused', 'materialized'] as const) {
      await checkOp({ gpu: ([q, k, v]) => scaledDotProductAttention(q, k, v, { scale: 3, impl }), ref: attentionRef, inputs, args: { scale: 3 } });
    }
  });
  it("'auto' materialises small score matrices only", async () => {
    // Same inputs through 'auto' and both paths: auto must equal materialized bit for bit here.
    const [q, k, v] = [rand([2, 3, 16, 8]), rand([2, 3, 16, 8]), rand([2, 3, 16, 8])].map((a) => tensor(a.data, a.shape));
    const outs = await Promise.all(
      (['auto', 'materialized', 'fused'] as const).map(async (impl) => {
        const y = scaledDotProductAttention(q, k, v, { impl });
        const d = await y.data();
        y.dispose();
        return d;
      }),
    );
    expect(outs[0]).toEqual(outs[1]);
    expect(outs[0]).not.toEqual(outs[2]); // different summation order: not bitwise equal
    expect(() => scaledDotProductAttention(q, k, v, { impl: 'x' as never })).toThrow(/impl must be/);
    // Results belong to the caller's scope: a tidy around the call frees them (the leak check sees it).
    for (const impl of ['materialized', 'fused'] as const) tidy(() => void scaledDotProductAttention(q, k, v, { impl }));
    [q, k, v].forEach((t) => t.dispose());
  });
  it('splits the heads so that no binding exceeds maxBinding (unaligned chunk offsets)', async () => {
    const backend = getBackend();
    // A 4 KiB binding limit: 2 heads per dispatch for these shapes, chunks start mid-alignment.
    Object.defineProperty(backend, 'maxBinding', { get: () => 4096, configurable: true });
    try {
      for (const [d, dv] of [[12, 12], [5, 7]]) {
        const inputs = [rand([2, 3, 37, d]), rand([2, 3, 29, d]), rand([2, 3, 29, dv])];
        await checkOp({ gpu: ([q, k, v]) => scaledDotProductAttention(q, k, v, { impl: 'fused' }), ref: attentionRef, inputs, args: {} });
      }
    } finally {
      delete (backend as { maxBinding?: number }).maxBinding;
    }
    expect(backend.maxBinding).toBeGreaterThan(4096);
  });
  it('empty batch and no queries', async () => {
    await checkOp({
      gpu: ([q, k, v]) => scaledDotProductAttention(q, k, v),
      ref: attentionRef,
      inputs: [rand([0, 2, 3, 4]), rand([0, 2, 5, 4]), rand([0, 2, 5, 4])],
      args: {},
    });
    await checkOp({
      gpu: ([q, k, v]) => scaledDotProductAttention(q, k, v),
      ref: attentionRef,
      inputs: [rand([1, 2, 0, 4]), rand([1, 2, 5, 4]), rand([1, 2, 5, 4])],
      args: {},
    });
  });
  it('names the op and shapes in errors', () => {
    const q = tensor(new Float32Array(24), [1, 2, 3, 4]);
    const k = tensor(new Float32Array(30), [1, 2, 3, 5]);
    try {
      expect(() => scaledDotProductAttention(q, k, k)).toThrow(/scaledDotProductAttention: k's head dim must equal q's; got q \[1, 2, 3, 4\], k \[1, 2, 3, 5\]/);
    } finally {
      q.dispose();
      k.dispose();
    }
  });
  it('reference vjp vs finite differences', () => {
    checkVjpByFiniteDifferences(attentionRef, [rand([2, 3, 4]), rand([2, 5, 4]), rand([2, 5, 3])], {});
    checkVjpByFiniteDifferences(attentionRef, [rand([1, 1, 2]), rand([1, 3, 2]), rand([1, 3, 2])], { scale: 0.7 });
  });
  it('SAM 2 global attention size: Lq = Lk = 4096, D = 32 (rows checked against float64)', async () => {
    const [L, D] = [4096, 32];
    const scale = 1 / Math.sqrt(D);
    const r = new Rng(17);
    const q = r.array(L * D, -2, 2);
    const k = r.array(L * D, -2, 2);
    const v = r.array(L * D, -2, 2);
    const g = r.array(L * D, -1, 1);
    // float64 reference: every row's log-sum-exp and output (O(L²·D), about a second).
    const lse = new Float64Array(L);
    const out = new Float64Array(L * D);
    const s = new Float64Array(L);
    for (let i = 0; i < L; i++) {
      let m = -Infinity;
      for (let j = 0; j < L; j++) {
        let dot = 0;
        for (let e = 0; e < D; e++) dot += q[i * D + e] * k[j * D + e];
        s[j] = dot * scale;
        if (s[j] > m) m = s[j];
      }
      let sum = 0;
      for (let j = 0; j < L; j++) sum += (s[j] = Math.exp(s[j] - m));
      lse[i] = m + Math.log(sum);
      for (let j = 0; j < L; j++) {
        const p = s[j] / sum;
        for (let e = 0; e < D; e++) out[i * D + e] += p * v[j * D + e];
      }
    }
    const prob = (i: number, j: number) => {
      let dot = 0;
      for (let e = 0; e < D; e++) dot += q[i * D + e] * k[j * D + e];
      return Math.exp(dot * scale - lse[i]);
    };
    const dotRows = (a: Float64Array, i: number, b: Float64Array, j: number) => {
      let t = 0;
      for (let e = 0; e < D; e++) t += a[i * D + e] * b[j * D + e];
      return t;
    };
    const delta = Float64Array.from({ length: L }, (_, i) => dotRows(g, i, out, i));

    const qt = tensor(q, [1, 1, L, D], { requiresGrad: true });
    const kt = tensor(k, [1, 1, L, D], { requiresGrad: true });
    const vt = tensor(v, [1, 1, L, D], { requiresGrad: true });
    const gt = tensor(g, [1, 1, L, D]);
    const y = scaledDotProductAttention(qt, kt, vt);
    try {
      backward(y, { grad: gt });
      const [yd, dq, dk, dv] = await Promise.all([y.data(), qt.grad!.data(), kt.grad!.data(), vt.grad!.data()]);
      const rows = [0, 1, 63, 64, 2047, 4031, 4095];
      const pick = (a: ArrayLike<number>, rs: number[]) => rs.flatMap((i) => Array.from({ length: D }, (_, e) => a[i * D + e]));
      const want = pick(out, rows);
      const fwd = maxAbsError(pick(yd, rows), want);
      expect(fwd.err, `forward rows: max abs error ${fwd.err}`).toBeLessThanOrEqual(1e-3 * Math.max(1, fwd.scale));
      // dq_i = scale·Σ_j P_ij (g_i·v_j − Δ_i) k_j
      const wantDq = rows.flatMap((i) => {
        const acc = new Float64Array(D);
        for (let j = 0; j < L; j++) {
          const ds = prob(i, j) * (dotRows(g, i, v, j) - delta[i]) * scale;
          for (let e = 0; e < D; e++) acc[e] += ds * k[j * D + e];
        }
        return Array.from(acc);
      });
      expect(relL2Error(pick(dq, rows), wantDq), 'dq rows').toBeLessThanOrEqual(1e-2);
      // dk_j = scale·Σ_i P_ij (g_i·v_j − Δ_i) q_i and dv_j = Σ_i P_ij g_i
      const keys = [0, 2048, 4095];
      const wantDk: number[] = [];
      const wantDv: number[] = [];
      for (const j of keys) {
        const ak = new Float64Array(D);
        const av = new Float64Array(D);
        for (let i = 0; i < L; i++) {
          const p = prob(i, j);
          const ds = p * (dotRows(g, i, v, j) - delta[i]) * scale;
          for (let e = 0; e < D; e++) {
            ak[e] += ds * q[i * D + e];
            av[e] += p * g[i * D + e];
          }
        }
        wantDk.push(...ak);
        wantDv.push(...av);
      }
      expect(relL2Error(pick(dk, keys), wantDk), 'dk rows').toBeLessThanOrEqual(1e-2);
      expect(relL2Error(pick(dv, keys), wantDv), 'dv rows').toBeLessThanOrEqual(1e-2);
    } finally {
      for (const t of [qt, kt, vt, gt, y]) t.dispose();
    }
  });
});
