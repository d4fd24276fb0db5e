/**
 * Optimizers and gradient clipping: GPU results vs float64 CPU implementations of PyTorch's
 * update rules (torch.optim.Adam/AdamW/SGD, torch.nn.utils.clip_grad_norm_/clip_grad_value_),
 * state-dict round trips through a safetensors file, in-place updates, and no leaks.
 */
import { describe, expect, it } from 'vitest';
import {
  Adam,
  AdamW,
  SGD,
  SafetensorsFile,
  add,
  backward,
  bytesSource,
  clipGradNorm,
  clipGradValue,
  getBackend,
  mul,
  reshape,
  saveTensors,
  square,
  sub,
  sum,
  tensor,
  tidy,
  type Optimizer,
  type Tensor,
} from '../src/index.js';
import { maxAbsError } from './support/compare.js';
import { Rng } from './support/rng.js';
import { RefAdam, RefSGD, refClipGradNorm } from './support/optim-reference.js';

// ---------------------------------------------------------------------------------------------
// helpers

const SHAPES = [[5], [3, 7], [1, 1, 13], [67, 3], [2, 0]];
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
/** Random values already rounded to f32, so GPU and reference start from the same numbers. */
const f32Array = (rng: Rng, n: number, lo = -1, hi = 1) => Float64Array.from(rng.array(n, lo, hi), Math.fround);

async function expectClose(got: Tensor, want: ArrayLike<number>, what: string, rtol = 1e-5): Promise<void> {
  const d = await got.data();
  expect(d.length, `${what} length`).toBe(want.length);
  const { err, scale } = maxAbsError(d, want);
  expect(err, `${what}: max abs error ${err} (scale ${scale})`).toBeLessThanOrEqual(rtol * Math.max(1, scale));
}

/** Sets every parameter's grad (null skips it), disposing the previous one. */
function setGrads(params: Tensor[], grads: (Float64Array | null)[]): void {
  params.forEach((p, i) => {
    p.grad?.dispose();
    p.grad = grads[i] ? tensor(grads[i]!, p.shape) : null;
  });
}

function disposeAll(...groups: (Tensor[] | Record<string, Tensor>)[]): void {
  for (const g of groups) for (const t of Array.isArray(g) ? g : Object.values(g)) t.dispose();
}

/** Compares params and every state buffer of a GPU optimizer with a reference's. */
async function compareState(
  opt: Optimizer,
  params: Tensor[],
  refParams: Float64Array[],
  refState: (Record<string, Float64Array | number> | undefined)[],
  what: string,
): Promise<void> {
  const sd = opt.stateDict();
  try {
    for (let i = 0; i < params.length; i++) {
      await expectClose(params[i], refParams[i], `${what}: param ${i}`);
      const rs = refState[i];
      for (const [name, v] of Object.entries(rs ?? {})) {
        if (typeof v === 'number') expect(sd.scalars[`state.${i}.${name}`], `${what}: state.${i}.${name}`).toBe(v);
        else await expectClose(sd.tensors[`state.${i}.${name}`], v, `${what}: state.${i}.${name}`);
      }
      if (!rs) expect(Object.keys(sd.tensors).some((k) => k.startsWith(`state.${i}.`)), `${what}: param ${i} has no state yet`).toBe(false);
    }
  } finally {
    disposeAll(sd.tensors);
  }
}

interface OptCase {
  name: string;
  make: (params: Tensor[]) => Optimizer;
  ref: () => { step: (p: Float64Array[], g: (Float64Array | null)[]) => void; state: (Record<string, Float64Array | number> | undefined)[] };
}

const CASES: OptCase[] = [
  {
    name: 'Adam with L2 weight decay',
    make: (ps) => new Adam(ps, { lr: 0.05, betas: [0.8, 0.95], eps: 1e-6, weightDecay: 0.1 }),
    ref: () => new RefAdam({ lr: 0.05, betas: [0.8, 0.95], eps: 1e-6, weightDecay: 0.1, decoupled: false }),
  },
  {
    name: 'Adam defaults',
    make: (ps) => new Adam(ps),
    ref: () => new RefAdam({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, decoupled: false }),
  },
  {
    name: 'AdamW with decoupled weight decay',
    make: (ps) => new AdamW(ps, { lr: 0.03, betas: [0.85, 0.99], eps: 1e-7, weightDecay: 0.2 }),
    ref: () => new RefAdam({ lr: 0.03, betas: [0.85, 0.99], eps: 1e-7, weightDecay: 0.2, decoupled: true }),
  },
  {
    name: 'AdamW defaults (weight decay 1e-2)',
    make: (ps) => new AdamW(ps, { lr: 0.01 }),
    ref: () => new RefAdam({ lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, decoupled: true }),
  },
  {
    name: 'SGD with weight decay',
    make: (ps) => new SGD(ps, { lr: 0.1, weightDecay: 0.05 }),
    ref: () => new RefSGD({ lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0.05 }),
  },
  {
    name: 'SGD with momentum and dampening',
    make: (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, dampening: 0.3, weightDecay: 0.01 }),
    ref: () => new RefSGD({ lr: 0.1, momentum: 0.9, dampening: 0.3, nesterov: false, weightDecay: 0.01 }),
  },
  {
    name: 'SGD with Nesterov momentum',
    make: (ps) => new SGD(ps, { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.02 }),
    ref: () => new RefSGD({ lr: 0.05, momentum: 0.8, dampening: 0, nesterov: true, weightDecay: 0.02 }),
  },
];

/** Grads for step `s`: param 1 has none on step 1 and param 2 none on step 3 (they are skipped). */
function gradsFor(rng: Rng, s: number): (Float64Array | null)[] {
  return SHAPES.map((shape, i) => ((i === 1 && s === 1) || (i === 2 && s === 3) ? null : f32Array(rng, size(shape), -2, 2)));
}

// ---------------------------------------------------------------------------------------------

describe('optimizers vs float64 PyTorch rules', () => {
  for (const c of CASES) {
    it(`${c.name}: 6 steps on awkward shapes, params and state after every step`, async () => {
      const rng = new Rng(11);
      const init = SHAPES.map((s) => f32Array(rng, size(s)));
      const params = SHAPES.map((s, i) => tensor(init[i], s, { requiresGrad: true }));
      const refParams = init.map((a) => Float64Array.from(a));
      const opt = c.make(params);
      const ref = c.ref();
      try {
        for (let s = 0; s < 6; s++) {
          const grads = gradsFor(rng, s);
          setGrads(params, grads);
          opt.step();
          ref.step(refParams, grads);
          await compareState(opt, params, refParams, ref.state, `${c.name} step ${s + 1}`);
          opt.zeroGrad();
          expect(params.every((p) => p.grad === null)).toBe(true);
        }
      } finally {
        opt.dispose();
        disposeAll(params);
      }
    });
  }

  it('a learning-rate schedule (lr set between steps) matches the reference', async () => {
    const rng = new Rng(5);
    const init = SHAPES.map((s) => f32Array(rng, size(s)));
    const params = SHAPES.map((s, i) => tensor(init[i], s));
    const refParams = init.map((a) => Float64Array.from(a));
    const opt = new AdamW(params, { lr: 0.1, weightDecay: 0.1 });
    const ref = new RefAdam({ lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1, decoupled: true });
    try {
      for (let s = 0; s < 5; s++) {
        opt.lr = ref.o.lr = 0.1 * Math.cos((Math.PI / 2) * (s / 5));
        const grads = gradsFor(rng, s);
        setGrads(params, grads);
        opt.step();
        ref.step(refParams, grads);
      }
      await compareState(opt, params, refParams, ref.state, 'cosine schedule');
      opt.zeroGrad();
    } finally {
      opt.dispose();
      disposeAll(params);
    }
  });

  it('trains a small least-squares problem with autograd (Adam), tracking the reference', async () => {
    const rng = new Rng(3);
    const shape = [4, 9];
    const n = size(shape);
    const init = f32Array(rng, n);
    const target = f32Array(rng, n, -3, 3);
    const weight = f32Array(rng, n, 0.5, 2);
    const p = tensor(init, shape, { requiresGrad: true });
    const t = tensor(target, shape);
    const w = tensor(weight, shape);
    const refP = Float64Array.from(init);
    const opt = new Adam([p], { lr: 0.05 });
    const ref = new RefAdam({ lr: 0.05, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, decoupled: false });
    const losses: number[] = [];
    try {
      for (let s = 0; s < 12; s++) {
        const loss = tidy(() => sum(mul(w, square(sub(p, t)))));
        losses.push(await loss.item());
        backward(loss);
        loss.dispose();
        opt.step();
        opt.zeroGrad();
        ref.step([refP], [Float64Array.from(refP, (v, i) => 2 * weight[i] * (v - target[i]))]);
      }
      await expectClose(p, refP, 'params after 12 steps', 1e-4);
      expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    } finally {
      opt.dispose();
      disposeAll([p, t, w]);
    }
  });
});

describe('optimizer mechanics', () => {
  it('updates in place (views see the update), one dispatch for all small parameters, no readback', async () => {
    const backend = getBackend();
    const p = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const view = reshape(p, [6]);
    const q = tensor([1, -1], [2]);
    const buffer = p.store.buffer;
    const opt = new Adam([p, q], { lr: 0.5 });
    const reads: number[] = [];
    const read = backend.read.bind(backend);
    backend.read = (src, off, bytes) => {
      reads.push(bytes);
      return read(src, off, bytes);
    };
    try {
      for (let s = 0; s < 2; s++) {
        setGrads([p, q], [new Float64Array(6).fill(1), new Float64Array(2).fill(-1)]);
        const before = backend.dispatchCount;
        opt.step();
        // Both parameters are packed into one update; the first step zero-fills two buffers per parameter.
        expect(backend.dispatchCount - before).toBe(s === 0 ? 5 : 1);
      }
      expect(reads, 'step() must not read anything back').toEqual([]);
    } finally {
      backend.read = read;
    }
    expect(p.store.buffer).toBe(buffer);
    // Two Adam steps with a constant gradient move each element by lr each step.
    expect(Array.from(await view.data())).toEqual([0, 1, 2, 3, 4, 5].map((v) => expect.closeTo(v, 5)));
    expect(Array.from(await q.data())).toEqual([expect.closeTo(2, 5), expect.closeTo(0, 5)]);
    opt.zeroGrad();
    opt.dispose();
    disposeAll([p, view, q]);
  });

  it('keeps its state when stepped inside tidy(), and frees it on dispose()', async () => {
    const backend = getBackend();
    const start = backend.stats().liveBytes;
    const p = tensor([1, 2, 3], [3]);
    const opt = new SGD([p], { lr: 0.1, momentum: 0.5 });
    setGrads([p], [Float64Array.from([1, 1, 1])]);
    tidy(() => opt.step());
    const buf = opt.stateOf(0)!.buffers.get('momentum_buffer')!;
    expect(buf.isDisposed).toBe(false);
    tidy(() => opt.step());
    // buf = 0.5·1 + 1 = 1.5 on step 2; p = 1 − 0.1·1 − 0.1·1.5
    await expectClose(p, [0.75, 1.75, 2.75], 'param');
    opt.zeroGrad();
    expect(backend.stats().liveBytes).toBeGreaterThan(start);
    opt.dispose();
    expect(buf.isDisposed).toBe(true);
    p.dispose();
    expect(backend.stats().liveBytes).toBe(start);
    expect(() => opt.step()).toThrow(/SGD\.step: the optimizer was disposed/);
  });

  it('splits parameters larger than one storage binding into aligned chunks', async () => {
    const backend = getBackend();
    const rng = new Rng(9);
    const n = 5000; // 20000 bytes: five 4096-byte chunks
    const init = f32Array(rng, n);
    const grads = [f32Array(rng, n), f32Array(rng, n)];
    const p = tensor(init, [n]);
    const refP = Float64Array.from(init);
    Object.defineProperty(backend, 'maxBinding', { value: 4096, configurable: true });
    const opt = new AdamW([p], { lr: 0.01 });
    const ref = new RefAdam({ lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, decoupled: true });
    try {
      for (const g of grads) {
        setGrads([p], [g]);
        const before = backend.dispatchCount;
        opt.step();
        expect(backend.dispatchCount - before).toBeGreaterThanOrEqual(5);
        ref.step([refP], [g]);
      }
      // Clipping in chunks too (the norm kernels bind at most maxBinding bytes).
      const norm = clipGradNorm([p], 1);
      const refG = Float64Array.from(grads[1]);
      const want = refClipGradNorm([refG], 1);
      await expectClose(norm, [want], 'chunked norm');
      await expectClose(p.grad!, refG, 'chunked clipped grad');
      norm.dispose();
    } finally {
      delete (backend as unknown as Record<string, unknown>).maxBinding;
    }
    expect(backend.maxBinding).toBeGreaterThan(4096);
    await compareState(opt, [p], [refP], ref.state, 'chunked AdamW');
    opt.zeroGrad();
    opt.dispose();
    p.dispose();
  });

  it('rejects bad arguments with messages that name the optimizer and argument', async () => {
    const p = tensor([1, 2, 3], [3]);
    const q = reshape(p, [1, 3]);
    try {
      expect(() => new Adam([])).toThrow(/Adam: got an empty parameter list/);
      expect(() => new Adam([p], { betas: [1, 0.9] })).toThrow(/Adam: invalid betas\[0\] 1/);
      expect(() => new AdamW([p], { lr: -1 })).toThrow(/AdamW: invalid lr -1/);
      expect(() => new Adam([p], { eps: NaN })).toThrow(/Adam: invalid eps/);
      expect(() => new SGD([p], { nesterov: true })).toThrow(/SGD: nesterov momentum requires momentum > 0 and dampening = 0/);
      expect(() => new SGD([p], { nesterov: true, momentum: 0.9, dampening: 0.1 })).toThrow(/nesterov/);
      expect(() => new SGD([p, q])).toThrow(/SGD: params\[1\] and params\[0\] share storage/);
      const opt = new SGD([p], { lr: 0.1 });
      expect(() => (opt.lr = Infinity)).toThrow(/SGD: invalid lr Infinity/);
      // Every grad is checked before any parameter changes.
      const r = tensor([5], [1]);
      const opt2 = new SGD([r, p], { lr: 0.1 });
      r.grad = tensor([1], [1]);
      p.grad = tensor([1, 2], [2]);
      expect(() => opt2.step()).toThrow(/SGD\.step: params\[1\]/);
      expect(await r.data()).toEqual(Float32Array.from([5]));
      opt2.dispose();
      r.dispose();
      expect(() => opt.step()).toThrow(/SGD\.step: params\[0\] tensor #\d+ \[3\] f32 has a grad tensor #\d+ \[2\] f32 \(expected f32 \[3\]\)/);
      opt.zeroGrad();
      opt.dispose();
    } finally {
      p.grad?.dispose();
      disposeAll([p, q]);
    }
  });
});

describe('state dict', () => {
  it('Adam: save to safetensors, load into a fresh optimizer, continue: identical to never stopping', async () => {
    const rng = new Rng(21);
    const init = SHAPES.map((s) => f32Array(rng, size(s)));
    const gradSeq = Array.from({ length: 6 }, (_, s) => gradsFor(rng, s));
    const paramsA = SHAPES.map((s, i) => tensor(init[i], s));
    const optA = new Adam(paramsA, { lr: 0.02, betas: [0.7, 0.9], eps: 1e-5, weightDecay: 0.03 });
    let optB: Adam | null = null;
    let paramsB: Tensor[] = [];
    try {
      for (let s = 0; s < 3; s++) {
        setGrads(paramsA, gradSeq[s]);
        optA.step();
      }
      optA.zeroGrad();
      const sd = optA.stateDict();
      expect(Object.keys(sd.tensors).sort()).toEqual(
        [0, 1, 2, 3, 4].flatMap((i) => [`state.${i}.exp_avg`, `state.${i}.exp_avg_sq`]).sort(),
      );
      // Step counts are per parameter: parameter 1 had no grad on step 2.
      expect(sd.scalars).toMatchObject({ lr: 0.02, 'betas.0': 0.7, 'betas.1': 0.9, eps: 1e-5, weight_decay: 0.03, 'state.0.step': 3, 'state.1.step': 2 });
      const metadata = Object.fromEntries(Object.entries(sd.scalars).map(([k, v]) => [k, String(v)]));
      const bytes = await saveTensors(sd.tensors, metadata);
      disposeAll(sd.tensors);

      // A fresh process: parameters from a checkpoint, optimizer with other settings, then load.
      paramsB = await Promise.all(paramsA.map(async (p) => tensor(await p.data(), p.shape)));
      optB = new Adam(paramsB, { lr: 1, betas: [0.5, 0.5] });
      const file = await SafetensorsFile.open(bytesSource(bytes, 'optim.safetensors'));
      const tensors: Record<string, Float32Array> = {};
      for (const k of file.keys()) tensors[k] = await file.readF32(k);
      optB.loadStateDict({ tensors, scalars: file.metadata });
      expect(optB.lr).toBe(0.02);

      for (let s = 3; s < 6; s++) {
        setGrads(paramsA, gradSeq[s]);
        setGrads(paramsB, gradSeq[s]);
        optA.step();
        optB.step();
      }
      const [sa, sb] = [optA.stateDict(), optB.stateDict()];
      try {
        expect(sb.scalars).toEqual(sa.scalars);
        for (const k of Object.keys(sa.tensors)) expect(await sb.tensors[k].data(), k).toEqual(await sa.tensors[k].data());
        for (let i = 0; i < paramsA.length; i++) expect(await paramsB[i].data(), `param ${i}`).toEqual(await paramsA[i].data());
      } finally {
        disposeAll(sa.tensors, sb.tensors);
      }
    } finally {
      optA.zeroGrad();
      optB?.zeroGrad();
      optA.dispose();
      optB?.dispose();
      disposeAll(paramsA, paramsB);
    }
  });

  it('SGD momentum: loads from GPU tensors; a parameter without saved state starts fresh', async () => {
    const rng = new Rng(4);
    const shapes = [[7], [2, 3]];
    const init = shapes.map((s) => f32Array(rng, size(s)));
    const grads = shapes.map((s) => f32Array(rng, size(s)));
    const pa = shapes.map((s, i) => tensor(init[i], s));
    const pb = shapes.map((s, i) => tensor(init[i], s));
    const optA = new SGD(pa, { lr: 0.1, momentum: 0.9 });
    const optB = new SGD(pb, { lr: 0.1, momentum: 0.9 });
    const refP = init.map((a) => Float64Array.from(a));
    const ref = new RefSGD({ lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0 });
    try {
      setGrads(pa, [grads[0], null]);
      optA.step();
      ref.step(refP, [grads[0], null]);
      const sd = optA.stateDict();
      expect(Object.keys(sd.tensors)).toEqual(['state.0.momentum_buffer']);
      expect(Object.keys(sd.scalars).some((k) => k.startsWith('state.'))).toBe(false);
      // B: same params as A after its step, then A's state.
      for (let i = 0; i < 2; i++) getBackend().write(pb[i].store.buffer, 0, await pa[i].data());
      optB.loadStateDict(sd);
      disposeAll(sd.tensors);
      setGrads(pb, grads);
      optB.step();
      ref.step(refP, grads);
      await compareState(optB, pb, refP, ref.state, 'SGD after load');
    } finally {
      optA.zeroGrad();
      optB.zeroGrad();
      optA.dispose();
      optB.dispose();
      disposeAll(pa, pb);
    }
  });

  it('loadStateDict rejects unknown keys, wrong shapes and incomplete state, naming the key', () => {
    const p = tensor([1, 2, 3], [3]);
    const opt = new Adam([p]);
    const z = Float32Array.from([0, 0, 0]);
    try {
      expect(() => opt.loadStateDict({ tensors: { 'state.0.momentum': z }, scalars: {} })).toThrow(/Adam\.loadStateDict: unknown key 'state\.0\.momentum'/);
      expect(() => opt.loadStateDict({ tensors: {}, scalars: { foo: 1 } })).toThrow(/unknown key 'foo'/);
      expect(() => opt.loadStateDict({ tensors: { 'state.3.exp_avg': z }, scalars: {} })).toThrow(/'state\.3\.exp_avg' refers to parameter 3, but there are 1/);
      expect(() =>
        opt.loadStateDict({ tensors: { 'state.0.exp_avg': [0, 0], 'state.0.exp_avg_sq': z }, scalars: { 'state.0.step': 1 } }),
      ).toThrow(/'state\.0\.exp_avg' has 2 values, but params\[0\] .* has 3/);
      expect(() => opt.loadStateDict({ tensors: { 'state.0.exp_avg': z }, scalars: { 'state.0.step': 1 } })).toThrow(/lacks 'state\.0\.exp_avg_sq'/);
      expect(() => opt.loadStateDict({ tensors: { 'state.0.exp_avg': z, 'state.0.exp_avg_sq': z }, scalars: {} })).toThrow(/lacks 'state\.0\.step'/);
      expect(() => opt.loadStateDict({ tensors: {}, scalars: { lr: 'fast' } })).toThrow(/scalar 'lr' is not a number/);
      expect(() => opt.loadStateDict({ tensors: {}, scalars: { lr: 0.5, eps: -1 } })).toThrow(/Adam: invalid eps -1/);
      // A failed load leaves the optimizer as it was.
      expect(opt.lr).toBe(1e-3);
      const sgd = new SGD([p], { lr: 0.1 });
      expect(() => sgd.loadStateDict({ tensors: {}, scalars: { lr: 0.2, nesterov: 1 } })).toThrow(/SGD: nesterov momentum requires momentum > 0/);
      expect(sgd.stateDict().scalars).toEqual({ lr: 0.1, momentum: 0, dampening: 0, nesterov: 0, weight_decay: 0 });
      expect(() => sgd.loadStateDict({ tensors: {}, scalars: { momentum: 0.9 } })).toThrow(/would change whether momentum buffers exist/);
      sgd.dispose();
    } finally {
      opt.dispose();
      p.dispose();
    }
  });
});

describe('gradient clipping vs torch.nn.utils', () => {
  const CLIP_SHAPES = [[5], [3, 7], [4100], [67, 3], [0, 2], [1]];

  for (const maxNorm of [0.5, 1e6]) {
    it(`clipGradNorm(maxNorm=${maxNorm}): norm and scaled grads, null and empty grads`, async () => {
      const rng = new Rng(13);
      const params = CLIP_SHAPES.map((s) => tensor(new Float32Array(size(s)), s));
      const grads = CLIP_SHAPES.map((s, i) => (i === 1 ? null : f32Array(rng, size(s), -0.1, 0.1)));
      setGrads(params, grads);
      const backend = getBackend();
      const read = backend.read.bind(backend);
      let reads = 0;
      backend.read = (...a) => (reads++, read(...a));
      let norm: Tensor;
      try {
        norm = clipGradNorm(params, maxNorm);
      } finally {
        backend.read = read;
      }
      expect(reads, 'clipGradNorm must not read back').toBe(0);
      const refGrads = grads.flatMap((g) => (g ? [Float64Array.from(g)] : []));
      const want = refClipGradNorm(refGrads, maxNorm);
      expect(norm.shape).toEqual([]);
      await expectClose(norm, [want], 'norm');
      let k = 0;
      for (let i = 0; i < params.length; i++) {
        if (grads[i] === null) expect(params[i].grad).toBeNull();
        else if (maxNorm > want) expect(await params[i].grad!.data(), `grad ${i} untouched`).toEqual(Float32Array.from(grads[i]!));
        else await expectClose(params[i].grad!, refGrads[k], `grad ${i}`);
        if (grads[i]) k++;
      }
      norm.dispose();
      for (const p of params) p.grad?.dispose();
      disposeAll(params);
    });
  }

  it('clipGradNorm: grads sharing storage (both inputs of an add) count twice, are scaled once', async () => {
    const a = tensor([1, 2, 3], [3], { requiresGrad: true });
    const b = tensor([4, 5, 6], [3], { requiresGrad: true });
    const w = tensor([3, -4, 12], [3]);
    const loss = tidy(() => sum(mul(add(a, b), w)));
    backward(loss);
    loss.dispose();
    // torch: both grads equal w; total norm = sqrt(2)·13.
    const norm = clipGradNorm([a, b], 1);
    const want = Math.sqrt(2) * 13;
    await expectClose(norm, [want], 'norm');
    const coef = 1 / (want + 1e-6);
    await expectClose(a.grad!, [3 * coef, -4 * coef, 12 * coef], 'grad a');
    await expectClose(b.grad!, [3 * coef, -4 * coef, 12 * coef], 'grad b');
    norm.dispose();
    disposeAll([a, b, w]);
  });

  it('clipGradNorm with no grads returns 0; a NaN gradient makes the norm and grads NaN (as torch)', async () => {
    const p = tensor([1, 2], [2]);
    const none = clipGradNorm([p], 1);
    expect(await none.item()).toBe(0);
    none.dispose();
    p.grad = tensor([NaN, 1], [2]);
    const norm = clipGradNorm(p, 1);
    expect(Number.isNaN(await norm.item())).toBe(true);
    expect(Array.from(await p.grad.data()).every(Number.isNaN)).toBe(true);
    norm.dispose();
    p.dispose();
    expect(() => clipGradNorm([p], -1)).toThrow(/clipGradNorm: maxNorm must be a non-negative number, got -1/);
  });

  it('clipGradValue clamps in place, keeps NaN, skips null grads', async () => {
    const rng = new Rng(17);
    const shapes = [[9], [2, 5], [3]];
    const params = shapes.map((s) => tensor(new Float32Array(size(s)), s));
    const grads = [f32Array(rng, 9, -2, 2), null, Float64Array.from([NaN, -0.25, 7])];
    setGrads(params, grads);
    clipGradValue(params, 0.5);
    await expectClose(params[0].grad!, grads[0]!.map((v) => Math.min(0.5, Math.max(-0.5, v))), 'clamped');
    expect(params[1].grad).toBeNull();
    const last = await params[2].grad!.data();
    expect(Number.isNaN(last[0])).toBe(true);
    expect(Array.from(last.slice(1))).toEqual([-0.25, 0.5]);
    for (const p of params) p.grad?.dispose();
    disposeAll(params);
    expect(() => clipGradValue([], NaN)).toThrow(/clipGradValue: clipValue must be a non-negative number/);
  });
});
