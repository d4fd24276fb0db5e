import { describe, expect, it } from 'vitest';
import { getBackend, linear, matmul, matmulKernelKind, matmulT, noGrad, profile, reshape, setMatmulKernel, tensor, tidy, type Tensor } from '../src/index.js';
import { erf64 } from './reference/elementwise.js';
import { refFrom, type Ref, type RefOp } from './reference/ref.js';
import { linearRef, matmulRef, type MatmulArgs } from './reference/matmul.js';
import { checkOp, expectForward } from './support/compare.js';
import { checkVjpByFiniteDifferences } from './support/gradcheck.js';
import { Rng } from './support/rng.js';

const rng = new Rng(11);
const rand = (shape: number[]) => refFrom(rng.array(shape.reduce((a, b) => a * b, 1)), shape);

/** Stored shapes of A and B for op(A) [.., M, K] and op(B) [.., K, N]. */
function operands(batchA: number[], batchB: number[], M: number, K: number, N: number, transA = false, transB = false): Ref[] {
  return [rand([...batchA, ...(transA ? [K, M] : [M, K])]), rand([...batchB, ...(transB ? [N, K] : [K, N])])];
}

/** torch.matmul's 1-D promotion, for the reference. */
const matmul1dRef: RefOp<Record<string, never>> = {
  forward([a, b]) {
    const a2 = a.shape.length === 1 ? refFrom(a.data, [1, a.shape[0]]) : a;
    const b2 = b.shape.length === 1 ? refFrom(b.data, [b.shape[0], 1]) : b;
    const y = matmulRef.forward([a2, b2], {});
    const shape = y.shape.slice(0, -2);
    if (a.shape.length !== 1) shape.push(y.shape[y.shape.length - 2]);
    if (b.shape.length !== 1) shape.push(y.shape[y.shape.length - 1]);
    return refFrom(y.data, shape);
  },
  vjp([a, b], _args, up) {
    const a2 = a.shape.length === 1 ? refFrom(a.data, [1, a.shape[0]]) : a;
    const b2 = b.shape.length === 1 ? refFrom(b.data, [b.shape[0], 1]) : b;
    const y = matmulRef.forward([a2, b2], {});
    const [ga, gb] = matmulRef.vjp([a2, b2], {}, refFrom(up.data, y.shape));
    return [refFrom(ga!.data, a.shape), refFrom(gb!.data, b.shape)];
  },
};

const gpuT = ([a, b]: Tensor[], args: MatmulArgs) => matmulT(a, b, args);

describe('matmul 2-D', () => {
  const sizes: [number, number, number][] = [
    [1, 1, 1],
    [5, 7, 3],
    [4, 8, 12],
    [64, 64, 64],
    [65, 33, 127],
    [130, 257, 96],
    [1, 37, 9],
    [9, 37, 1],
    [33, 1, 17],
  ];
  it('GPU vs reference on awkward shapes (M×K×N)', async () => {
    for (const [M, K, N] of sizes) {
      await checkOp({ gpu: ([a, b]) => matmul(a, b), ref: matmulRef, inputs: operands([], [], M, K, N), args: {} });
    }
  });
  for (const [transA, transB] of [
    [true, false],
    [false, true],
    [true, true],
  ]) {
    it(`transposed operands in the kernel (transA=${transA}, transB=${transB})`, async () => {
      for (const [M, K, N] of [[5, 7, 3], [16, 12, 20], [65, 33, 127], [36, 8, 1]] as const) {
        const args = { transA, transB };
        await checkOp({ gpu: gpuT, ref: matmulRef, inputs: operands([], [], M, K, N, transA, transB), args });
      }
    });
  }
  it('narrow outputs stack subgroups along M (fewer workgroups): same results', async () => {
    // [M, K, N, stacked subgroups on lavapipe]: 8 lanes wide, 2 or 8 subgroups per workgroup
    for (const [M, K, N, wy] of [[300, 20, 24, 2], [1024, 16, 32, 8], [1000, 12, 8, 8]] as const) {
      for (const [transA, transB] of [[false, false], [true, true]] as const) {
        const ins = operands([], [], M, K, N, transA, transB);
        const [a, b] = ins.map((r) => tensor(r.data, r.shape));
        const { result, report } = await profile(() => noGrad(() => matmulT(a, b, { transA, transB })));
        if (matmulKernelKind() === 'subgroup') expect(report.entries.map((e) => e.kernel)).toEqual([expect.stringMatching(new RegExp(`^matmul:s32x4:8x${wy}:`))]);
        await expectForward(result, matmulRef.forward(ins, { transA, transB }), `${M}×${K}×${N} transA ${transA}`);
        for (const t of [a, b, result]) t.dispose();
      }
    }
    await checkOp({ gpu: ([x, w, bias]) => linear(x, w, bias), ref: linearRef, inputs: [rand([2, 500, 24]), rand([20, 24]), rand([20])], args: {} });
  });
  it('alpha scales the product and its gradients', async () => {
    await checkOp({ gpu: gpuT, ref: matmulRef, inputs: operands([], [], 12, 20, 8, false, true), args: { transB: true, alpha: 0.125 } });
  });
  it('K = 0 gives zeros', async () => {
    await checkOp({ gpu: ([a, b]) => matmul(a, b), ref: matmulRef, inputs: operands([], [], 5, 0, 7), args: {} });
    await checkOp({ gpu: gpuT, ref: matmulRef, inputs: operands([2], [], 6, 0, 3, true, true), args: { transA: true, transB: true } });
  });
  it('empty M or N gives an empty result', async () => {
    await checkOp({ gpu: ([a, b]) => matmul(a, b), ref: matmulRef, inputs: operands([], [], 0, 4, 7), args: {} });
    await checkOp({ gpu: ([a, b]) => matmul(a, b), ref: matmulRef, inputs: operands([3], [3], 5, 4, 0), args: {} });
  });
  it('1-D operands follow torch.matmul', async () => {
    const cases: [number[], number[]][] = [
      [[7], [7, 5]],
      [[6, 7], [7]],
      [[7], [7]],
      [[2, 3, 7], [7]],
      [[7], [4, 7, 5]],
    ];
    for (const [sa, sb] of cases) await checkOp({ gpu: ([a, b]) => matmul(a, b), ref: matmul1dRef, inputs: [rand(sa), rand(sb)], args: {} });
  });
});

describe('matmul batched with broadcasting', () => {
  const cases: [number[], number[], number, number, number][] = [
    [[3], [3], 17, 9, 21],
    [[2, 1], [3], 17, 9, 21],
    [[], [4], 17, 9, 21],
    [[4], [], 17, 9, 21],
    [[2, 3], [1, 1], 8, 12, 16],
    [[2, 1, 3], [1, 4, 1], 5, 6, 7],
  ];
  it('GPU vs reference', async () => {
    for (const [ba, bb, M, K, N] of cases) {
      await checkOp({ gpu: ([a, b]) => matmul(a, b), ref: matmulRef, inputs: operands(ba, bb, M, K, N), args: {} });
    }
  });
  it('[2,1,17,9]·[3,9,21] → [2,3,17,21]', async () => {
    const y = tidy(() => {
      const a = tensor(rand([2, 1, 17, 9]).data, [2, 1, 17, 9]);
      const b = tensor(rand([3, 9, 21]).data, [3, 9, 21]);
      return matmul(a, b);
    });
    expect(y.shape).toEqual([2, 3, 17, 21]);
    y.dispose();
  });
  it('transposed batched operands', async () => {
    for (const [transA, transB] of [
      [true, false],
      [false, true],
      [true, true],
    ]) {
      await checkOp({ gpu: gpuT, ref: matmulRef, inputs: operands([2, 1], [3], 9, 13, 6, transA, transB), args: { transA, transB } });
      await checkOp({ gpu: gpuT, ref: matmulRef, inputs: operands([4], [], 8, 12, 16, transA, transB), args: { transA, transB } });
    }
  });
  it('shape errors name the op and the shapes', () => {
    tidy(() => {
      const a = tensor(new Float32Array(6), [2, 3]);
      const b = tensor(new Float32Array(8), [4, 2]);
      expect(() => matmul(a, b)).toThrow(/matmul: .*\[2, 3\].*\[4, 2\].*inner dims differ \(3 vs 4\)/);
      const c = tensor(new Float32Array(24), [2, 3, 4]);
      const d = tensor(new Float32Array(36), [3, 4, 3]);
      expect(() => matmul(c, d)).toThrow(/batch dims \[2\] and \[3\] do not broadcast/);
    });
  });
});

describe('reference vjp vs finite differences', () => {
  it('matmul with broadcasting and transposes', () => {
    checkVjpByFiniteDifferences(matmulRef, operands([2, 1], [3], 3, 4, 2), {});
    checkVjpByFiniteDifferences(matmulRef, operands([2], [], 3, 4, 5, true, true), { transA: true, transB: true, alpha: 0.5 });
    checkVjpByFiniteDifferences(matmulRef, operands([], [2], 3, 4, 5, false, true), { transB: true });
  });
  it('linear with and without bias', () => {
    checkVjpByFiniteDifferences(linearRef, [rand([2, 3, 5]), rand([4, 5]), rand([4])], {});
    checkVjpByFiniteDifferences(linearRef, [rand([3, 5]), rand([4, 5])], {});
  });
});

/** act(linear(x, w, b)) in float64: relu, or gelu in its erf form. */
const activatedLinearRef: RefOp<{ act: 'relu' | 'gelu' }> = {
  forward(inputs, { act }) {
    const y = linearRef.forward(inputs, {});
    return { shape: y.shape, data: y.data.map((v) => (act === 'relu' ? Math.max(v, 0) : 0.5 * v * (1 + erf64(v / Math.SQRT2)))) };
  },
  vjp(inputs, { act }, up) {
    const y = linearRef.forward(inputs, {});
    const slope = (v: number) => (act === 'relu' ? (v > 0 ? 1 : 0) : 0.5 * (1 + erf64(v / Math.SQRT2)) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI));
    return linearRef.vjp(inputs, {}, { shape: up.shape, data: up.data.map((g, i) => g * slope(y.data[i])) });
  },
};

describe('linear', () => {
  it('with bias', async () => {
    for (const [xs, nOut] of [
      [[2, 7, 33], 40],
      [[5, 16], 12],
      [[9], 5],
      [[3, 1, 6], 1],
    ] as [number[], number][]) {
      const nIn = xs[xs.length - 1];
      await checkOp({ gpu: ([x, w, b]) => linear(x, w, b), ref: linearRef, inputs: [rand(xs), rand([nOut, nIn]), rand([nOut])], args: {} });
    }
  });
  it('without bias', async () => {
    await checkOp({ gpu: ([x, w]) => linear(x, w), ref: linearRef, inputs: [rand([2, 7, 33]), rand([40, 33])], args: {} });
    await checkOp({ gpu: ([x, w]) => linear(x, w, null), ref: linearRef, inputs: [rand([13, 8]), rand([12, 8])], args: {} });
  });
  it('with an activation: fused into the stores without gradients, the op of that name with them', async () => {
    for (const act of ['relu', 'gelu'] as const) {
      const inputs = [rand([3, 7, 20]), rand([36, 20]), rand([36])];
      await checkOp({ gpu: ([x, w, b]) => linear(x, w, b, { activation: act }), ref: activatedLinearRef, inputs, args: { act } });
      const want = activatedLinearRef.forward(inputs, { act });
      const [x, w, b] = inputs.map((r) => tensor(r.data, r.shape));
      // both kernel families: subgroup tiles (CPU adapters) and register tiles (GPUs, the browser)
      for (const kind of ['auto', 'register'] as const) {
        setMatmulKernel(kind);
        try {
          const { result: y, report } = await profile(() => noGrad(() => linear(x, w, b, { activation: act })));
          await expectForward(y, want, `fused ${act}, ${kind}`, 1e-5);
          expect(report.entries.map((e) => `${e.kernel}×${e.calls}`)).toEqual([expect.stringMatching(new RegExp(`^matmul:.*:${act}:0×1$`))]);
          y.dispose();
        } finally {
          setMatmulKernel('auto');
        }
      }
      for (const t of [x, w, b]) t.dispose();
    }
  });
  it('add: a residual added as the product is stored without gradients, by the add op with them; both kernel families against float64', async () => {
    // vec4 stores (N % 4 == 0) and scalar ones, batches, a transposed operand, alpha
    for (const [batch, M, K, N, transB, alpha] of [[[2], 37, 12, 20, false, 1], [[], 9, 7, 5, true, 0.5], [[3], 40, 16, 24, true, 1]] as [number[], number, number, number, boolean, number][]) {
      const a = rand([...batch, M, K]);
      const b = rand(transB ? [N, K] : [K, N]);
      const r = rand([...batch, M, N]);
      const prod = matmulRef.forward([a, b], { transB, alpha });
      const want = { shape: prod.shape, data: prod.data.map((v, i) => v + r.data[i]) };
      const [ta, tb, tr] = [a, b, r].map((x) => tensor(x.data, x.shape));
      for (const kind of ['auto', 'register'] as const) {
        setMatmulKernel(kind);
        try {
          const { result: y, report } = await profile(() => noGrad(() => matmulT(ta, tb, { transB, alpha, add: tr })));
          await expectForward(y, want, `fused, ${kind}, M ${M} N ${N}`, 1e-5);
          expect(report.entries.map((e) => `${e.kernel}×${e.calls}`)).toEqual([expect.stringMatching(/^matmul:.*:r:\d+×1$/)]);
          y.dispose();
        } finally {
          setMatmulKernel('auto');
        }
      }
      ta.requiresGrad = true;
      const composed = tidy(() => matmulT(ta, tb, { transB, alpha, add: tr }));
      await expectForward(composed, want, `with gradients, M ${M} N ${N}`, 1e-5);
      for (const t of [ta, tb, tr, composed]) t.dispose();
    }
    tidy(() => {
      const x = tensor(new Float32Array(6), [2, 3]);
      expect(() => matmulT(x, x, { transB: true, add: tensor(new Float32Array(4), [4]) })).toThrow(/matmulT: .*add .*\[4\].* must have the product's shape \[2, 2\]/);
    });
  });
  it('errors name the op and the shapes', () => {
    tidy(() => {
      const x = tensor(new Float32Array(6), [2, 3]);
      const w = tensor(new Float32Array(8), [2, 4]);
      expect(() => linear(tensor(new Float32Array(8), [2, 4]), w, null, { activation: 'tanh' as 'relu' })).toThrow("linear: activation must be 'relu' or 'gelu', got 'tanh'");
      expect(() => linear(x, w)).toThrow(/linear: input .*\[2, 3\].* has 3 features, weight .*\[2, 4\].* expects 4/);
    });
  });
});

describe('splitting over maxStorageBufferBindingSize', () => {
  /** Runs `fn` with the backend's binding limit lowered to `bytes`. */
  function withLimit<T>(bytes: number, fn: () => T): T {
    const backend = getBackend();
    Object.defineProperty(backend, 'maxBinding', { value: bytes, configurable: true });
    try {
      return fn();
    } finally {
      delete (backend as unknown as Record<string, unknown>).maxBinding;
    }
  }
  const cases: { ba: number[]; bb: number[]; M: number; K: number; N: number; tA?: boolean; tB?: boolean; limit: number }[] = [
    // batch chunks (each matrix fits, the batch does not)
    { ba: [6], bb: [6], M: 17, K: 20, N: 24, limit: 4096 },
    { ba: [3, 1], bb: [4], M: 9, K: 13, N: 6, tA: true, tB: true, limit: 1536 },
    { ba: [], bb: [7], M: 12, K: 12, N: 16, tB: true, limit: 2048 },
    // row chunks (one matrix does not fit)
    { ba: [], bb: [], M: 300, K: 20, N: 36, limit: 8192 },
    { ba: [2], bb: [], M: 150, K: 8, N: 5, limit: 2048 },
    { ba: [2], bb: [2], M: 130, K: 4, N: 9, tA: true, limit: 4096 },
  ];
  it('batch and row chunks give the same result', async () => {
    for (const c of cases) {
      const inputs = operands(c.ba, c.bb, c.M, c.K, c.N, c.tA, c.tB);
      const args = { transA: c.tA, transB: c.tB };
      const want = matmulRef.forward(inputs, args);
      const [a, b] = inputs.map((r) => tensor(r.data, r.shape));
      const before = getBackend().dispatchCount;
      const y = withLimit(c.limit, () => matmulT(a, b, args));
      expect(getBackend().dispatchCount - before, `dispatches for ${JSON.stringify(c)}`).toBeGreaterThan(1);
      await expectForward(y, want);
      for (const t of [a, b, y]) t.dispose();
    }
  });
  it('a matrix of B larger than the limit is reported', () => {
    tidy(() => {
      const a = tensor(new Float32Array(4 * 64), [4, 64]);
      const b = tensor(new Float32Array(64 * 64), [64, 64]);
      expect(() => withLimit(4096, () => matmul(a, b))).toThrow(/one matrix of B .* exceeds the device's maxStorageBufferBindingSize/);
    });
  });
});

describe('autograd plumbing', () => {
  it('reshape of a matmul result keeps gradients flowing', async () => {
    await checkOp({
      gpu: ([a, b]) => reshape(matmul(a, b), [-1]),
      ref: {
        forward: (xs) => {
          const y = matmulRef.forward(xs, {});
          return refFrom(y.data, [y.data.length]);
        },
        vjp: (xs, _a, up) => matmulRef.vjp(xs, {}, refFrom(up.data, [...matmulRef.forward(xs, {}).shape])),
      },
      inputs: operands([], [], 6, 5, 4),
      args: {},
    });
  });
});

describe('both kernel families', () => {
  // 'auto' picks subgroup tiles on lavapipe; the register tiles serve other devices.
  for (const kind of ['register', 'subgroup'] as const) {
    it(`${kind} tiles: awkward shapes, transposes, batches, bias`, async (ctx) => {
      setMatmulKernel(kind);
      try {
        if (matmulKernelKind() !== kind) ctx.skip();
        for (const [M, K, N, tA, tB] of [
          [5, 7, 3, false, false],
          [65, 33, 127, true, false],
          [36, 20, 44, false, true],
          [17, 9, 21, true, true],
          [40, 16, 24, true, true],
        ] as [number, number, number, boolean, boolean][]) {
          const args = { transA: tA, transB: tB };
          await checkOp({ gpu: gpuT, ref: matmulRef, inputs: operands([2, 1], [3], M, K, N, tA, tB), args });
        }
        await checkOp({ gpu: ([x, w, b]) => linear(x, w, b), ref: linearRef, inputs: [rand([3, 7, 24]), rand([20, 24]), rand([20])], args: {} });
      } finally {
        setMatmulKernel('auto');
      }
    }, 600_000); // compiles a dozen kernel variants: slow on a loaded CPU
  }
});
