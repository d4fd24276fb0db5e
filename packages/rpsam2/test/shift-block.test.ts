import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SafetensorsFile, SeededRandom, add, backward, logit, maxAbsError, mul, relL2Error, sum, tensor, tidy } from '@rpsam2/tensor';
import { fileSource } from '@rpsam2/tensor/node';
import { PAPER_SHIFT_BLOCK, ShiftBlock, shiftBlockConfigFromSpec, shiftBlockParamCount, type ShiftBlockConfig } from '../src/shift-block/shift-block.js';
import { shiftBlockRef, type Params, type RefInputs } from './reference/shift-block-ref.js';

const fixtures = new URL('../../../../shared/fixtures/', import.meta.url).pathname;

/** Random f32-representable parameters (weights ±0.4, norm weights 1 ± 0.2, scale ±1). */
function randomParams(block: ShiftBlock, seed: number): Params {
  const rng = new SeededRandom(seed);
  const p: Params = new Map();
  for (const [name, slot] of block.namedParams()) {
    const n = slot.shape.reduce((a, b) => a * b, 1);
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      // The pointer head's σ near 0.3 so that the locality term matters on a 3×3 grid.
      const r = /norm\d\.weight$/.test(name)
        ? 1 + rng.uniform(-0.2, 0.2)
        : name === 'scale'
          ? rng.uniform(-1, 1)
          : name === 'pointer_log_sigma'
            ? Math.log(0.3) + rng.uniform(-0.2, 0.2)
            : rng.uniform(-0.4, 0.4);
      v[i] = Math.fround(r);
    }
    p.set(name, v);
  }
  return p;
}

function setParams(block: ShiftBlock, p: Params): void {
  for (const [name, slot] of block.namedParams()) {
    slot.value?.dispose();
    slot.value = tensor(Float32Array.from(p.get(name)!), slot.shape, { requiresGrad: true, name });
  }
}

const f64 = (n: number, rng: SeededRandom, lo = -1, hi = 1) => Float64Array.from({ length: n }, () => Math.fround(rng.uniform(lo, hi)));

describe('ShiftBlock: configuration and parameters', () => {
  it('the paper configuration has 10,522,628 trainable parameters (closed form = module tree)', () => {
    const block = new ShiftBlock(PAPER_SHIFT_BLOCK);
    const n = block.paramCount();
    console.log(`paper shift block: ${n.toLocaleString('en-US')} parameters`);
    expect(n).toBe(10_522_628);
    expect(shiftBlockParamCount(PAPER_SHIFT_BLOCK)).toBe(n);
    expect(n).toBeGreaterThanOrEqual(10.5e6);
    expect(n).toBeLessThanOrEqual(12.1e6);
    // 6 layers × 18 tensors + p_pos, i_pos, head.weight, head.bias, scale
    expect(block.namedParams().length).toBe(6 * 18 + 5);
  });

  it('the pointer head: closed-form count = module tree, no Linear head, and it starts as nearly no shift', async () => {
    const cfg: ShiftBlockConfig = { dModel: 16, heads: 2, ffn: 8, layers: 1, tokens: 2, imageTokens: 32 * 32, scaleInit: 0.1, head: 'pointer' };
    const block = new ShiftBlock(cfg).init(2, { zeroHead: true });
    try {
      expect(block.paramCount()).toBe(shiftBlockParamCount(cfg));
      expect(shiftBlockParamCount(cfg) - shiftBlockParamCount({ ...cfg, head: 'linear' })).toBe(2 * (16 * 16 + 16) + 1 - (2 * 2 * 16 + 2));
      const names = block.namedParams().map(([k]) => k);
      expect(names).toContain('pointer_q.weight');
      expect(names).toContain('pointer_log_sigma');
      expect(names.some((k) => k.startsWith('head.'))).toBe(false);
      // Zero query: the target is the σ-weighted mean of token centres around the click, which for
      // an interior click is the click up to the grid's discretisation.
      const rng = new SeededRandom(4);
      const clicks = [0.31, 0.52, 0.7, 0.25];
      const out = tidy(() => block.forward(tensor(f64(2 * 2 * 16, rng).map(Math.fround) as unknown as Float32Array, [2, 2, 16]), tensor(Float32Array.from(f64(16 * 1024, rng)), [1, 16, 32, 32]), tensor(clicks, [2, 2])).delta);
      const delta = await out.data();
      out.dispose();
      for (const v of delta) expect(Math.abs(v)).toBeLessThan(0.004);
      expect(() => new ShiftBlock({ ...cfg, imageTokens: 6 })).toThrow(/square token grid/);
    } finally {
      block.dispose();
    }
  });

  it('names and shapes match the PyTorch state dict of the fixture', async () => {
    const dir = `${fixtures}rpsam2/tiny256/`;
    const spec = JSON.parse(readFileSync(dir + 'spec.json', 'utf8'));
    const file = await SafetensorsFile.open(fileSource(dir + 'shift_block.safetensors'));
    const block = new ShiftBlock(shiftBlockConfigFromSpec(spec.shift_block));
    const ours = Object.fromEntries(block.namedParams().map(([k, s]) => [k, [...s.shape]]));
    const theirs = Object.fromEntries(file.keys().map((k) => [k, file.entry(k).shape]));
    expect(ours).toEqual(theirs);
    expect(block.paramCount()).toBe(shiftBlockParamCount(block.config));
  });

  it('rejects bad configs and inputs with messages that name the shapes', () => {
    expect(() => new ShiftBlock({ ...PAPER_SHIFT_BLOCK, heads: 3 })).toThrow(/3 heads must divide dModel 256/);
    expect(() => new ShiftBlock({ ...PAPER_SHIFT_BLOCK, scaleInit: 1 })).toThrow(/scaleInit/);
    const block = new ShiftBlock({ dModel: 8, heads: 2, ffn: 4, layers: 1, tokens: 2, imageTokens: 4, scaleInit: 0.1 }).init(1);
    const s = tensor(new Float32Array(16), [1, 2, 8]);
    const e = tensor(new Float32Array(8 * 6), [1, 8, 2, 3]);
    const c = tensor([0.5, 0.5], [1, 2]);
    try {
      expect(() => block.forward(s, e, c)).toThrow(/image embedding \[1,8,2,3\] must be \[B, 8, h, w\] with h·w = 4/);
    } finally {
      for (const t of [s, e, c]) t.dispose();
      block.dispose();
    }
  });

  it('init is seeded and follows PyTorch-style rules', async () => {
    const cfg: ShiftBlockConfig = { dModel: 16, heads: 4, ffn: 24, layers: 2, tokens: 2, imageTokens: 9, scaleInit: 0.1 };
    const a = new ShiftBlock(cfg).init(3);
    const b = new ShiftBlock(cfg).init(3);
    const c = new ShiftBlock(cfg).init(4);
    try {
      const get = async (m: ShiftBlock, k: string) => m.namedParams().find(([n]) => n === k)![1].get().data();
      expect(await get(a, 'layers.1.linear1.weight')).toEqual(await get(b, 'layers.1.linear1.weight'));
      expect(await get(a, 'layers.1.linear1.weight')).not.toEqual(await get(c, 'layers.1.linear1.weight'));
      const inProj = await get(a, 'layers.0.self_attn.in_proj_weight');
      const bound = Math.sqrt(6 / (16 + 48));
      expect(Math.max(...inProj.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...inProj.map(Math.abs))).toBeGreaterThan(0.9 * bound);
      expect([...(await get(a, 'layers.0.self_attn.in_proj_bias'))].every((v) => v === 0)).toBe(true);
      expect([...(await get(a, 'layers.0.multihead_attn.out_proj.bias'))].every((v) => v === 0)).toBe(true);
      expect([...(await get(a, 'layers.0.norm2.weight'))].every((v) => v === 1)).toBe(true);
      const l2 = await get(a, 'layers.0.linear2.bias');
      expect(Math.max(...l2.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(24));
      const scale = await get(a, 'scale');
      expect(scale[0]).toBeCloseTo(logit(0.1), 6);
      expect(1 / (1 + Math.exp(-scale[1]))).toBeCloseTo(0.1, 6);
      const iPos = await get(a, 'i_pos');
      expect(Math.max(...iPos.map(Math.abs))).toBeLessThanOrEqual(0.04 + 1e-7);
    } finally {
      a.dispose();
      b.dispose();
      c.dispose();
    }
  });

  it('zeroHead: the block starts as the identity, the other draws unchanged, and the head still gets a gradient', async () => {
    const cfg: ShiftBlockConfig = { dModel: 8, heads: 2, ffn: 12, layers: 2, tokens: 2, imageTokens: 6, scaleInit: 0.1 };
    const plain = new ShiftBlock(cfg).init(7);
    const zero = new ShiftBlock(cfg).init(7, { zeroHead: true, requiresGrad: true });
    const rng = new SeededRandom(9);
    const sparse = tensor(Float32Array.from({ length: 3 * 2 * 8 }, () => rng.normal()), [3, 2, 8]);
    const embed = tensor(Float32Array.from({ length: 8 * 6 }, () => rng.normal()), [1, 8, 2, 3]);
    const clickValues = [0.2, 0.7, 0.5, 0.5, 0.9, 0.1];
    const clicks = tensor(clickValues, [3, 2]);
    try {
      for (const [name, slot] of zero.namedParams()) {
        const z = await slot.get().data();
        const p = await plain.namedParams().find(([n]) => n === name)![1].get().data();
        if (name.startsWith('head.')) {
          expect(z.every((v) => v === 0), name).toBe(true);
          expect(p.some((v) => v !== 0), name).toBe(true);
        } else expect(z, name).toEqual(p);
      }
      const out = tidy(() => {
        const o = zero.forward(sparse, embed, clicks);
        return { ...o, loss: sum(mul(o.refined, o.refined)) };
      });
      expect([...(await out.delta.data())].every((v) => v === 0)).toBe(true);
      expect([...(await out.refined.data())]).toEqual(clickValues.map(Math.fround));
      backward(out.loss);
      for (const t of Object.values(out)) t.dispose();
      // d loss / d head.bias = 2·P·sigmoid(scale) per axis at delta = 0 (tanh'(0) = 1), summed over clicks.
      const gb = await zero.head!.bias!.get().grad!.data();
      const s = 0.1;
      expect(gb[0]).toBeCloseTo(2 * s * (0.2 + 0.5 + 0.9), 5);
      expect(gb[1]).toBeCloseTo(2 * s * (0.7 + 0.5 + 0.1), 5);
      expect([...(await zero.head!.weight.get().grad!.data())].some((v) => v !== 0)).toBe(true);
    } finally {
      for (const t of [sparse, embed, clicks]) t.dispose();
      plain.dispose();
      zero.dispose();
    }
  });

  it('paper configuration: initialised forward on a 64×64 image embedding keeps |delta| ≤ 0.1 and P′ in [0, 1]', async () => {
    const block = new ShiftBlock().init(0);
    const rng = new SeededRandom(5);
    const b = 4;
    const sparse = tensor(Float32Array.from({ length: b * 2 * 256 }, () => rng.normal()), [b, 2, 256]);
    const embed = tensor(Float32Array.from({ length: 256 * 4096 }, () => rng.normal()), [1, 256, 64, 64]);
    const clicks = tensor([0.5, 0.5, 0.01, 0.99, 0.3, 0.7, 0.999, 0.001], [b, 2]);
    try {
      const t0 = performance.now();
      const out = tidy(() => block.forward(sparse, embed, clicks));
      const delta = await out.delta.data();
      const refined = await out.refined.data();
      console.log(`paper shift block forward, B = ${b}, 4096 image tokens: ${(performance.now() - t0).toFixed(0)} ms`);
      expect(Math.max(...delta.map(Math.abs))).toBeLessThanOrEqual(0.1 + 1e-6);
      expect(refined.every((v) => v >= 0 && v <= 1)).toBe(true);
      for (const t of Object.values(out)) t.dispose();
    } finally {
      for (const t of [sparse, embed, clicks]) t.dispose();
      block.dispose();
    }
  });
});

describe('ShiftBlock vs a float64 CPU reference', () => {
  const linearCfg: ShiftBlockConfig = { dModel: 8, heads: 2, ffn: 12, layers: 2, tokens: 2, imageTokens: 6, scaleInit: 0.5 };
  const pointerCfg: ShiftBlockConfig = { ...linearCfg, imageTokens: 9, head: 'pointer' };

  it.each([
    ['linear head, a shared image (memory batch 1)', 1, linearCfg],
    ['linear head, one image per click (memory batch B)', 3, linearCfg],
    ['pointer head, a shared image (memory batch 1)', 1, pointerCfg],
    ['pointer head, one image per click (memory batch B)', 3, pointerCfg],
  ])('forward and every parameter gradient (central differences in float64): %s', async (_, embedBatch, cfg) => {
    const b = 3;
    const hw = cfg.imageTokens;
    const block = new ShiftBlock(cfg);
    const p = randomParams(block, 11 + embedBatch);
    setParams(block, p);
    const rng = new SeededRandom(21);
    // The second click sits at the border so that the clamp is active on some axis.
    const x: RefInputs = {
      sparse: f64(b * 2 * 8, rng),
      embed: f64(embedBatch * 8 * hw, rng),
      embedBatch,
      clicks: Float64Array.from([0.4, 0.6, 0, 1, 0.7, 0.2]),
      batch: b,
    };
    const uR = f64(2 * b, rng);
    const uD = f64(2 * b, rng);
    const uT = f64(b * 2 * 8, rng);
    const lossOf = (pp: Params): number => {
      const r = shiftBlockRef(pp, cfg, x);
      let s = 0;
      r.refined.forEach((v, i) => (s += v * uR[i]));
      r.delta.forEach((v, i) => (s += v * uD[i]));
      r.tokens.forEach((v, i) => (s += v * uT[i]));
      return s;
    };
    const want = shiftBlockRef(p, cfg, x);
    const T = (d: Float64Array, shape: number[]) => tensor(Float32Array.from(d), shape);
    const inputs = [T(x.sparse, [b, 2, 8]), T(x.embed, [embedBatch, 8, hw === 9 ? 3 : 2, 3]), T(x.clicks, [b, 2]), T(uR, [b, 2]), T(uD, [b, 2]), T(uT, [b, 2, 8])];
    const [sparse, embed, clicks, ur, ud, ut] = inputs;
    try {
      const out = tidy(() => {
        const o = block.forward(sparse, embed, clicks);
        const loss = add(add(sum(mul(o.refined, ur)), sum(mul(o.delta, ud))), sum(mul(o.tokens, ut)));
        return { ...o, loss };
      });
      for (const [k, w] of [['tokens', want.tokens], ['delta', want.delta], ['refined', want.refined]] as const) {
        const e = maxAbsError(await out[k].data(), w);
        expect(e.err, `${k}: max abs error ${e.err}`).toBeLessThanOrEqual(1e-5 * Math.max(1, e.scale));
      }
      // Linear head: the clamp is active on the border click for at least one axis. Pointer head:
      // the step never leaves the segment from the click to a target inside the grid, so never.
      expect(want.refined.some((v, i) => v !== x.clicks[i] + want.delta[i])).toBe(cfg.head !== 'pointer');
      backward(out.loss);
      for (const t of Object.values(out)) t.dispose();
      const h = 1e-6;
      for (const [name, slot] of block.namedParams()) {
        const v = p.get(name)!;
        const numeric = new Float64Array(v.length);
        for (let i = 0; i < v.length; i++) {
          const orig = v[i];
          v[i] = orig + h;
          const lp = lossOf(p);
          v[i] = orig - h;
          const lm = lossOf(p);
          v[i] = orig;
          numeric[i] = (lp - lm) / (2 * h);
        }
        const g = slot.get(name).grad;
        expect(g, `${name}: no gradient`).not.toBeNull();
        const e = relL2Error(await g!.data(), numeric);
        expect(e, `${name}: GPU gradient vs float64 central differences, relative L2 ${e}`).toBeLessThanOrEqual(1e-3);
      }
    } finally {
      for (const t of inputs) t.dispose();
      block.dispose();
    }
  }, 300_000);

  it('the reference reproduces PyTorch on the fixture (tokens_out, delta, refined_norm)', async () => {
    const dir = `${fixtures}rpsam2/tiny256/`;
    const spec = JSON.parse(readFileSync(dir + 'spec.json', 'utf8'));
    const cfg2 = shiftBlockConfigFromSpec(spec.shift_block);
    const weights = await SafetensorsFile.open(fileSource(dir + 'shift_block.safetensors'));
    const golden = await SafetensorsFile.open(fileSource(dir + 'golden.safetensors'));
    const sam2 = await SafetensorsFile.open(fileSource(`${fixtures}sam2/${spec.sam2_fixture}/golden.safetensors`));
    const p: Params = new Map();
    for (const k of weights.keys()) p.set(k, Float64Array.from(await weights.readF32(k)));
    const read = async (f: SafetensorsFile, k: string) => Float64Array.from(await f.readF32(k));
    const b = golden.entry('clicks_norm').shape[0];
    const r = shiftBlockRef(p, cfg2, {
      sparse: await read(golden, 'sparse_in'),
      embed: await read(sam2, 'embed.image_embed'),
      embedBatch: 1,
      clicks: await read(golden, 'clicks_norm'),
      batch: b,
    });
    for (const [k, got] of [['tokens_out', r.tokens], ['delta', r.delta], ['refined_norm', r.refined]] as const) {
      const e = maxAbsError(got, await golden.readF32(k));
      expect(e.err, `${k}: ${e.err}`).toBeLessThanOrEqual(1e-5 * Math.max(1, e.scale));
    }
  });
});

