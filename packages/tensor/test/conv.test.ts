import { describe, expect, it } from 'vitest';
import { conv2d, convTranspose2d, getBackend, matmulKernelKind, noGrad, profile, setMatmulKernel, tensor, tidy, type Conv2dOptions, type ConvTranspose2dOptions } from '../src/index.js';
import { erf64 } from './reference/elementwise.js';
import { refFrom, type Ref } from './reference/ref.js';
import { conv2dRef, convTranspose2dRef, type ConvArgs, type ConvTransposeArgs } from './reference/conv.js';
import { checkOp, expectForward } from './support/compare.js';
import { checkVjpByFiniteDifferences } from './support/gradcheck.js';
import { Rng } from './support/rng.js';

const rng = new Rng(11);
const rand = (shape: number[]) => refFrom(rng.array(shape.reduce((a, b) => a * b, 1)), shape);
/** A zero tensor of `shape`, for the tests that only need shapes. */
const zeros = (shape: number[]) => tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);

interface Case<A> {
  name: string;
  x: number[];
  w: number[];
  bias: boolean;
  args: A;
}

/** The inputs of a case: x, weight and (when the case has one) bias of `biasLen` channels. */
function inputs(c: Case<unknown>, biasLen: number): Ref[] {
  return c.bias ? [rand(c.x), rand(c.w), rand([biasLen])] : [rand(c.x), rand(c.w)];
}

const CONV_CASES: Case<ConvArgs>[] = [
  { name: 'odd sizes, 3×3 pad 1, Cout 5', x: [1, 3, 9, 11], w: [5, 3, 3, 3], bias: true, args: { padding: 1 } },
  { name: 'groups 2, per-axis stride/padding/dilation, N=3', x: [3, 4, 7, 6], w: [6, 2, 3, 2], bias: true, args: { stride: [2, 3], padding: [1, 0], dilation: [2, 1], groups: 2 } },
  { name: 'kernel larger than the input, padded', x: [2, 2, 3, 4], w: [3, 2, 5, 5], bias: true, args: { padding: 2 } },
  { name: '7×7 pad 3 on a 2×2 input', x: [1, 3, 2, 2], w: [4, 3, 7, 7], bias: false, args: { padding: 3 } },
  { name: 'depthwise 3×3', x: [2, 6, 8, 9], w: [6, 1, 3, 3], bias: true, args: { padding: 1, groups: 6 } },
  { name: 'depthwise with channel multiplier 2, stride 2', x: [1, 3, 6, 7], w: [6, 1, 3, 3], bias: false, args: { stride: 2, padding: 1, groups: 3 } },
  { name: 'stride 3, k4, Cout 9 (8-channel blocks and a tail)', x: [1, 5, 10, 11], w: [9, 5, 4, 4], bias: true, args: { stride: 3, padding: 1 } },
  { name: '1×1 (pointwise kernel), N=3', x: [3, 7, 4, 5], w: [10, 7, 1, 1], bias: true, args: {} },
  { name: '1×1 on 15 pixels (general kernel)', x: [2, 6, 3, 5], w: [3, 6, 1, 1], bias: true, args: {} },
  { name: '1×1 many channels', x: [1, 40, 8, 12], w: [36, 40, 1, 1], bias: false, args: {} },
  { name: '2×2 stride 2 (mask downscaling)', x: [2, 3, 6, 9], w: [16, 3, 2, 2], bias: true, args: { stride: 2 } },
  { name: 'patch embedding 7×7 s4 p3', x: [1, 3, 17, 19], w: [12, 3, 7, 7], bias: true, args: { stride: 4, padding: 3 } },
  { name: 'groups 3 with 3 channels per group', x: [1, 6, 5, 5], w: [9, 2, 3, 3], bias: false, args: { padding: 1, groups: 3 } },
  { name: 'single output pixel (one reduction chunk)', x: [1, 2, 3, 4], w: [3, 2, 3, 4], bias: true, args: {} },
  { name: 'dilation 3, padding 4', x: [2, 1, 9, 8], w: [2, 1, 3, 3], bias: true, args: { dilation: 3, padding: 4 } },
  { name: 'patch embedding on a width multiple of 4 (vec4 row segments)', x: [2, 3, 20, 24], w: [8, 3, 7, 7], bias: true, args: { stride: 4, padding: 3 } },
  { name: '3×3 pad 1 on width 16 (vec4 row segments)', x: [1, 5, 6, 16], w: [6, 5, 3, 3], bias: false, args: { padding: 1 } },
  { name: 'two output columns, x-stride 4 (vec4 row segments)', x: [1, 2, 8, 8], w: [3, 2, 3, 3], bias: true, args: { stride: [1, 4], padding: 1 } },
  { name: 'one output column', x: [2, 3, 9, 3], w: [5, 3, 3, 3], bias: true, args: {} },
  { name: 'row segment too long for registers (x-dilation 20)', x: [1, 2, 5, 45], w: [3, 2, 1, 3], bias: true, args: { dilation: [1, 20] } },
  { name: 'empty batch', x: [0, 3, 5, 5], w: [4, 3, 3, 3], bias: true, args: { padding: 1 } },
];

const gpuConv = ([x, w, b]: import('../src/index.js').Tensor[], a: ConvArgs) => conv2d(x, w, b ?? null, a as Conv2dOptions);

describe('conv2d', () => {
  for (const c of CONV_CASES) {
    it(`GPU vs reference: ${c.name}`, async () => {
      await checkOp({ gpu: gpuConv, ref: conv2dRef, inputs: inputs(c, c.w[0]), args: c.args });
    });
  }
  it('the rows kernel without subgroups (what GPUs take; CPU adapters broadcast the weights across lanes)', async () => {
    // A kernel row wider than 8 taps: two broadcast loads per row on CPU adapters.
    const wide: Case<ConvArgs> = { name: '3×11', x: [1, 2, 6, 20], w: [5, 2, 3, 11], bias: true, args: { padding: [1, 5] } };
    await checkOp({ gpu: gpuConv, ref: conv2dRef, inputs: inputs(wide, 5), args: wide.args });
    setMatmulKernel('register');
    try {
      for (const c of [CONV_CASES[0], CONV_CASES[3], wide]) {
        await checkOp({ gpu: gpuConv, ref: conv2dRef, inputs: inputs(c, c.w[0]), args: c.args });
      }
      const patch: Case<ConvArgs> = { name: 'patch embedding', x: [1, 3, 16, 16], w: [8, 3, 7, 7], bias: true, args: { stride: 4, padding: 3 } };
      await checkOp({ gpu: gpuConv, ref: conv2dRef, inputs: inputs(patch, 8), args: patch.args });
    } finally {
      setMatmulKernel('auto');
    }
  });
  it('gradient of the weight only (input without grad, as for an image)', async () => {
    const c = CONV_CASES[11];
    await checkOp({ gpu: gpuConv, ref: conv2dRef, inputs: inputs(c, c.w[0]), args: c.args, grads: [1, 2] });
  });
  it('gradient of the input only', async () => {
    const c = CONV_CASES[1];
    await checkOp({ gpu: gpuConv, ref: conv2dRef, inputs: inputs(c, c.w[0]), args: c.args, grads: [0] });
  });
  it('reference vjp vs finite differences', () => {
    checkVjpByFiniteDifferences(conv2dRef, [rand([2, 4, 5, 6]), rand([6, 2, 3, 2]), rand([6])], { stride: [2, 1], padding: [1, 2], dilation: [1, 2], groups: 2 });
    checkVjpByFiniteDifferences(conv2dRef, [rand([1, 3, 7, 7]), rand([4, 3, 7, 7])], { stride: 4, padding: 3 });
  });
  it('errors name the op, the argument and the shapes', () => {
    tidy(() => {
      const x = zeros([2, 4, 9, 9]);
      const w = zeros([8, 3, 7, 7]);
      expect(() => conv2d(x, w)).toThrow('conv2d: weight [8, 3, 7, 7] expects 3·groups = 3 input channels (groups 1), input x has [2, 4, 9, 9]');
      const w2 = zeros([8, 4, 11, 11]);
      expect(() => conv2d(x, w2)).toThrow(/conv2d: kernel 11×11 .* does not fit input x \[2, 4, 9, 9\]/);
      const w3 = zeros([8, 4, 1, 1]);
      const b = zeros([3]);
      expect(() => conv2d(x, w3, b)).toThrow('conv2d: bias must have shape [8]');
      expect(() => conv2d(x, w3, null, { stride: 0 })).toThrow('conv2d: stride must be an integer ≥ 1');
      expect(() => conv2d(x.view([2, 4, 81]), w3)).toThrow('conv2d: input x must be 4-D (NCHW), got [2, 4, 81]');
    });
  });
});

const CONVT_CASES: Case<ConvTransposeArgs>[] = [
  { name: '2×2 stride 2 (mask decoder upscaling), N=2', x: [2, 5, 5, 7], w: [5, 4, 2, 2], bias: true, args: { stride: 2 } },
  { name: '3×3 stride 2 padding 1 outputPadding 1', x: [1, 3, 4, 5], w: [3, 2, 3, 3], bias: true, args: { stride: 2, padding: 1, outputPadding: 1 } },
  { name: 'groups 2, dilation 2, per-axis stride/padding/outputPadding, N=3', x: [3, 4, 4, 3], w: [4, 3, 3, 2], bias: true, args: { stride: [3, 2], padding: [1, 2], outputPadding: [2, 1], dilation: 2, groups: 2 } },
  { name: '1×1 (pointwise kernel)', x: [2, 6, 4, 3], w: [6, 9, 1, 1], bias: true, args: {} },
  { name: 'stride 1, padding 3 (flipped direct kernel)', x: [1, 2, 3, 3], w: [2, 5, 5, 5], bias: false, args: { padding: 3 } },
  { name: 'stride 1, padding larger than the kernel overlap (general gather)', x: [1, 2, 6, 7], w: [2, 3, 2, 2], bias: true, args: { padding: 2 } },
  { name: 'stride 1, dilation 2, groups 2 (flipped direct kernel)', x: [2, 4, 6, 8], w: [4, 3, 3, 3], bias: true, args: { padding: 1, dilation: 2, groups: 2 } },
  { name: 'depthwise, stride 2', x: [2, 4, 5, 5], w: [4, 1, 3, 3], bias: true, args: { stride: 2, groups: 4 } },
  { name: '2×2 stride 2, 12 → 8 channels (one tap per pixel kernel)', x: [1, 12, 3, 4], w: [12, 8, 2, 2], bias: true, args: { stride: 2 } },
  { name: '2×2 stride 2, 6 → 2×20 channels, groups 2 (one tap per pixel kernel: a full and a partial 16-channel block)', x: [2, 6, 2, 4], w: [6, 20, 2, 2], bias: true, args: { stride: 2, groups: 2 } },
  { name: '3×3 stride 3, groups 2, 3 channels per group (one tap per pixel kernel)', x: [2, 4, 4, 5], w: [4, 3, 3, 3], bias: true, args: { stride: 3, groups: 2 } },
  { name: '2×2 stride 2 with outputPadding 1 (extra bias-only row/col)', x: [1, 4, 2, 4], w: [4, 5, 2, 2], bias: true, args: { stride: 2, outputPadding: 1 } },
];

const gpuConvT = ([x, w, b]: import('../src/index.js').Tensor[], a: ConvTransposeArgs) => convTranspose2d(x, w, b ?? null, a as ConvTranspose2dOptions);

describe('convTranspose2d', () => {
  for (const c of CONVT_CASES) {
    it(`GPU vs reference: ${c.name}`, async () => {
      await checkOp({ gpu: gpuConvT, ref: convTranspose2dRef, inputs: inputs(c, c.w[1] * (c.args.groups ?? 1)), args: c.args });
    });
  }
  it('reference vjp vs finite differences', () => {
    checkVjpByFiniteDifferences(convTranspose2dRef, [rand([2, 4, 3, 4]), rand([4, 3, 3, 2]), rand([6])], { stride: [2, 3], padding: [1, 0], outputPadding: [1, 2], dilation: [1, 2], groups: 2 });
  });
  it('is the adjoint of conv2d (same weight, swapped roles)', async () => {
    // <conv2d(x, w), y> = <x, convTranspose2d(y, w)> for matching geometry.
    const x = rand([2, 4, 9, 8]);
    const w = rand([6, 2, 3, 3]);
    const opts = { stride: 2, padding: 1, groups: 2 };
    const cx = conv2dRef.forward([x, w], opts);
    const y = rand(cx.shape);
    const [tx, tw, ty] = [tensor(x.data, x.shape), tensor(w.data, w.shape), tensor(y.data, y.shape)];
    const a = conv2d(tx, tw, null, opts);
    const b = convTranspose2d(ty, tw, null, { ...opts, outputPadding: [0, 1] });
    expect(b.shape).toEqual(x.shape);
    const [ad, bd] = [await a.data(), await b.data()];
    let lhs = 0;
    let rhs = 0;
    ad.forEach((v, i) => (lhs += v * y.data[i]));
    bd.forEach((v, i) => (rhs += v * x.data[i]));
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-3 * Math.max(1, Math.abs(lhs)));
    for (const t of [tx, tw, ty, a, b]) t.dispose();
  });
  it('add and activation: the fused stores (no gradients) and the composed ops (gradients) against float64', async () => {
    // x [N, 8, 5, 4] → [N, 6, 10, 8]; the residual of the output's shape, or batch 1 broadcast
    for (const [n, rn, gelu] of [[2, 2, true], [3, 1, true], [2, 2, false]] as const) {
      const [x, w, b, r] = [rand([n, 8, 5, 4]), rand([8, 6, 2, 2]), rand([6]), rand([rn, 6, 10, 8])];
      const conv = convTranspose2dRef.forward([x, w, b], { stride: 2 });
      const want = { shape: conv.shape, data: conv.data.map((v, i) => {
        const y = v + r.data[i % r.data.length];
        return gelu ? 0.5 * y * (1 + erf64(y / Math.SQRT2)) : y;
      }) };
      const [tx, tw, tb, tr] = [x, w, b, r].map((a) => tensor(a.data, a.shape));
      const options: ConvTranspose2dOptions = { stride: 2, add: tr, ...(gelu ? { activation: 'gelu' as const } : {}) };
      const { result: fused, report } = await profile(() => noGrad(() => convTranspose2d(tx, tw, tb, options)));
      await expectForward(fused, want, `fused n ${n} residual ${rn} gelu ${gelu}`, 1e-5);
      // one dispatch on CPU adapters: the matmul that scatters, adds and activates as it stores
      if (matmulKernelKind() === 'subgroup') expect(report.entries.map((e) => `${e.kernel}×${e.calls}`)).toEqual([expect.stringMatching(new RegExp(`^matmul:.*:ur${gelu ? ':gelu' : ''}:4×1$`))]);
      tx.requiresGrad = true;
      const composed = convTranspose2d(tx, tw, tb, options);
      await expectForward(composed, want, `composed n ${n}`, 1e-5);
      for (const t of [tx, tw, tb, tr, fused, composed]) t.dispose();
    }
  });
  it('2×2 stride 2 with input rows a multiple of the tile rows: vec4 stores, against float64', async () => {
    // widths 32 (a 32-row tile) and 8 (one input row: an 8-row tile), batch-1 or per-sample
    // residuals, bias or none, GELU or none, NCHW or channels-last input
    const cases = [
      { x: [2, 8, 2, 32], rn: 1, bias: true, gelu: true, last: false },
      { x: [3, 4, 1, 8], rn: 3, bias: false, gelu: false, last: true },
      { x: [1, 12, 3, 32], rn: 0, bias: true, gelu: false, last: true },
    ] as const;
    for (const c of cases) {
      const [n, cin, h, w] = c.x;
      const [x, wt, b] = [rand([...c.x]), rand([cin, 5, 2, 2]), rand([5])];
      const conv = convTranspose2dRef.forward(c.bias ? [x, wt, b] : [x, wt], { stride: 2 });
      const r = c.rn ? rand([c.rn, ...conv.shape.slice(1)]) : null;
      const want = { shape: conv.shape, data: conv.data.map((v, i) => {
        const y = v + (r ? r.data[i % r.data.length] : 0);
        return c.gelu ? 0.5 * y * (1 + erf64(y / Math.SQRT2)) : y;
      }) };
      const xs = c.last ? Float32Array.from({ length: x.data.length }, (_, i) => {
        const ch = i % cin, px = Math.floor(i / cin) % (h * w), s = Math.floor(i / (cin * h * w));
        return x.data[(s * cin + ch) * h * w + px];
      }) : x.data;
      const tx = tensor(xs, c.last ? [n, h, w, cin] : [n, cin, h, w]);
      const [tw, tb] = [tensor(wt.data, wt.shape), tensor(b.data, b.shape)];
      const tr = r ? tensor(r.data, r.shape) : undefined;
      const options: ConvTranspose2dOptions = { stride: 2, channelsLast: c.last, ...(tr ? { add: tr } : {}), ...(c.gelu ? { activation: 'gelu' as const } : {}) };
      const { result, report } = await profile(() => noGrad(() => convTranspose2d(tx, tw, c.bias ? tb : null, options)));
      await expectForward(result, want, `vec4 unpatch ${JSON.stringify(c)}`, 1e-5);
      if (matmulKernelKind() === 'subgroup') expect(report.entries.map((e) => e.kernel)).toEqual([expect.stringMatching(/^matmul:.*:uv/)]);
      for (const t of [tx, tw, tb, result, ...(tr ? [tr] : [])]) t.dispose();
    }
  });
  it('channelsLast: x as [N, H, W, Cin] read in place by the fused matmul, permuted elsewhere, same results as NCHW', async () => {
    const nhwc = (a: { data: Float64Array | Float32Array; shape: readonly number[] }) => {
      const [n, c, h, w] = a.shape;
      const out = new Float32Array(n * h * w * c);
      for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[((i * h + y) * w + x) * c + ch] = a.data[((i * c + ch) * h + y) * w + x];
      return tensor(out, [n, h, w, c]);
    };
    // a 2×2 stride-2 conv with a residual (the fused matmul), and a 3×3 stride-1 conv (permute, then the gather kernel)
    for (const [k, stride, withAdd] of [[2, 2, true], [3, 1, false]] as const) {
      const [x, w, b] = [rand([2, 8, 5, 4]), rand([8, 6, k, k]), rand([6])];
      const conv = convTranspose2dRef.forward([x, w, b], { stride });
      const r = rand([1, ...conv.shape.slice(1)]);
      const want = { shape: conv.shape, data: conv.data.map((v, i) => v + (withAdd ? r.data[i % r.data.length] : 0)) };
      const [tw, tb, tr] = [w, b, r].map((a) => tensor(a.data, a.shape));
      const tx = nhwc(x);
      const options: ConvTranspose2dOptions = { stride, channelsLast: true, ...(withAdd ? { add: tr } : {}) };
      const { result: fast, report } = await profile(() => noGrad(() => convTranspose2d(tx, tw, tb, options)));
      await expectForward(fast, want, `channels last, kernel ${k}`, 1e-5);
      // the fused path reads x in place: one matmul, A not transposed (NN), no copy
      if (k === 2 && matmulKernelKind() === 'subgroup') expect(report.entries.map((e) => `${e.kernel}×${e.calls}`)).toEqual([expect.stringMatching(/^matmul:.*:NN:.*:ur:4×1$/)]);
      tx.requiresGrad = true;
      const withGrad = convTranspose2d(tx, tw, tb, options);
      await expectForward(withGrad, want, `channels last with gradients, kernel ${k}`, 1e-5);
      for (const t of [tx, tw, tb, tr, fast, withGrad]) t.dispose();
    }
  });
  it('errors name the op and the shapes', () => {
    tidy(() => {
      const xe = zeros([2, 4, 3, 3]);
      const we = zeros([4, 2, 2, 2]);
      expect(() => convTranspose2d(xe, we, null, { stride: 2, add: zeros([2, 2, 6, 5]) })).toThrow("convTranspose2d: add [2, 2, 6, 5] must have the output's shape [2, 2, 6, 6] (or batch 1)");
      expect(() => convTranspose2d(xe, we, null, { stride: 2, activation: 'tanh' as 'gelu' })).toThrow("convTranspose2d: activation must be 'relu' or 'gelu', got 'tanh'");
      const x = zeros([2, 4, 3, 3]);
      const w = zeros([3, 2, 2, 2]);
      expect(() => convTranspose2d(x, w)).toThrow('convTranspose2d: weight [3, 2, 2, 2] expects 3 input channels, input x has [2, 4, 3, 3]');
      const w2 = zeros([4, 2, 2, 2]);
      expect(() => convTranspose2d(x, w2, null, { stride: 2, outputPadding: 2 })).toThrow('convTranspose2d: outputPadding 2×2 must be smaller than stride 2×2');
    });
  });
});

describe('batches larger than one storage binding', () => {
  /** Runs `fn` with the device's binding limit lowered to `bytes`, so that the ops must split. */
  async function withBindingLimit(bytes: number, fn: () => Promise<void>): Promise<void> {
    const limits = getBackend().info.limits as { maxStorageBufferBindingSize: number };
    const saved = limits.maxStorageBufferBindingSize;
    limits.maxStorageBufferBindingSize = bytes;
    try {
      await fn();
    } finally {
      limits.maxStorageBufferBindingSize = saved;
    }
  }
  // 16 KiB bindings; every per-sample tensor below is 2–8 KiB, the batches 6–24 KiB.
  const LIMIT = 16 << 10;
  it('conv2d (3×3, 1×1) forward and backward split over samples', async () => {
    await withBindingLimit(LIMIT, async () => {
      await checkOp({ gpu: gpuConv, ref: conv2dRef, inputs: [rand([3, 8, 16, 16]), rand([8, 8, 3, 3]), rand([8])], args: { padding: 1 } });
      await checkOp({ gpu: gpuConv, ref: conv2dRef, inputs: [rand([3, 8, 16, 16]), rand([8, 8, 1, 1]), rand([8])], args: {} });
    });
  });
  it('convTranspose2d (2×2 s2, 3×3 s2) forward and backward split over samples', async () => {
    await withBindingLimit(LIMIT, async () => {
      await checkOp({ gpu: gpuConvT, ref: convTranspose2dRef, inputs: [rand([3, 8, 8, 8]), rand([8, 8, 2, 2]), rand([8])], args: { stride: 2 } });
      await checkOp({ gpu: gpuConvT, ref: convTranspose2dRef, inputs: [rand([3, 8, 8, 8]), rand([8, 8, 3, 3]), rand([8])], args: { stride: 2, padding: 1, outputPadding: 1 } });
    });
  });
  it('a batch that cannot be split at aligned offsets is an error naming the op', async () => {
    await withBindingLimit(1024, async () => {
      tidy(() => {
        const x = zeros([3, 3, 7, 7]);
        const w = zeros([4, 3, 1, 1]);
        expect(() => conv2d(x, w)).toThrow(/^conv: a batch of 3 exceeds the device's largest storage binding \(1024 bytes\)/);
      });
    });
  });
});
