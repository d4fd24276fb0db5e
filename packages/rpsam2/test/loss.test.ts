import { describe, expect, it } from 'vitest';
import { argmaxOneHot, backward, relL2Error, sum, tensor, tidy, type Tensor } from '@rpsam2/tensor';
import { PAPER_LOSS, compoundLoss, diceTerm, distTerm, outTerm } from '../src/loss/compound-loss.js';
import { oneHotToIndices, selectByIou } from '../src/pipeline/select-mask.js';
import { centralDiff } from '../../tensor/test/support/numeric.js';

// ---- float64 references of the three terms (the spec's formulas, written out) ----

function diceRef(logits: number[], target: number[], b: number, smooth = 1): number {
  const n = logits.length / b;
  let total = 0;
  for (let s = 0; s < b; s++) {
    let inter = 0;
    let ss = 0;
    let ts = 0;
    for (let i = s * n; i < (s + 1) * n; i++) {
      const p = 1 / (1 + Math.exp(-logits[i]));
      inter += p * target[i];
      ss += p;
      ts += target[i];
    }
    total += 1 - (2 * inter + smooth) / (ss + ts + smooth);
  }
  return total / b;
}

function distRef(points: number[], cands: number[], theta = 15): number {
  let total = 0;
  for (let i = 0; i < points.length; i += 2) {
    let best = Infinity;
    for (let j = 0; j < cands.length; j += 2) {
      best = Math.min(best, 0.5 * (Math.exp(theta * Math.abs(points[i] - cands[j])) + Math.exp(theta * Math.abs(points[i + 1] - cands[j + 1])) - 2));
    }
    total += best;
  }
  return total / (points.length / 2);
}

/** grid_sample(gt, 2p − 1, bilinear, zeros, align_corners False) at normalised p. */
function sampleRef(gt: number[], h: number, w: number, x: number, y: number): number {
  const ix = x * w - 0.5;
  const iy = y * h - 0.5;
  const x0 = Math.floor(ix);
  const y0 = Math.floor(iy);
  const tx = ix - x0;
  const ty = iy - y0;
  const at = (xx: number, yy: number) => (xx < 0 || yy < 0 || xx >= w || yy >= h ? 0 : gt[yy * w + xx]);
  return (1 - ty) * ((1 - tx) * at(x0, y0) + tx * at(x0 + 1, y0)) + ty * ((1 - tx) * at(x0, y0 + 1) + tx * at(x0 + 1, y0 + 1));
}

function outRef(gt: number[], h: number, w: number, points: number[]): number {
  let total = 0;
  for (let i = 0; i < points.length; i += 2) {
    const m = sampleRef(gt, h, w, points[i], points[i + 1]);
    total += m < 0.5 ? -Math.log(Math.max(m, 1e-6)) : 0;
  }
  return total / (points.length / 2);
}

/** Runs `fn` on a leaf made from `x`, returns the value and the leaf's gradient. */
async function valueAndGrad(x: number[], shape: number[], fn: (t: Tensor) => Tensor): Promise<{ value: number; grad: Float32Array }> {
  const leaf = tensor(x, shape, { requiresGrad: true });
  try {
    const y = tidy(() => fn(leaf));
    const value = await y.item();
    backward(y);
    y.dispose();
    return { value, grad: await leaf.grad!.data() };
  } finally {
    leaf.dispose();
  }
}

// A 4×5 ground truth: a small blob.
const H = 4;
const W = 5;
// prettier-ignore
const GT = [
  0, 0, 0, 0, 0,
  0, 1, 1, 0, 0,
  0, 1, 1, 1, 0,
  0, 0, 0, 0, 0,
];

describe('compound loss: the Dice term', () => {
  const logits = [0, 2, -1, 1, -2, 0.5, 3, 0];
  const target = [1, 1, 0, 0, 0, 1, 1, 1];

  it('is the mean of per-click soft Dice losses (not one Dice over the batch)', async () => {
    // Hand-computed (σ sums in float64): sample 0 → 0.3009225025, sample 1 → 0.1685711361.
    const want = (0.3009225025 + 0.1685711361) / 2;
    expect(diceRef(logits, target, 2)).toBeCloseTo(want, 6);
    const t = tensor(target, [2, 1, 2, 2]);
    try {
      const { value, grad } = await valueAndGrad(logits, [2, 1, 2, 2], (l) => diceTerm(l, t));
      expect(value).toBeCloseTo(want, 6);
      // A batch-level Dice would differ:
      expect(Math.abs(diceRef(logits, target, 1) - want)).toBeGreaterThan(1e-3);
      const numeric = centralDiff((x) => diceRef(x, target, 2), logits);
      expect(relL2Error(grad, numeric)).toBeLessThan(1e-5);
    } finally {
      t.dispose();
    }
  });

  it('broadcasts a single low-res target over the clicks', async () => {
    const t1 = tensor(target.slice(0, 4), [1, 1, 2, 2]);
    try {
      const { value } = await valueAndGrad(logits, [2, 1, 2, 2], (l) => diceTerm(l, t1));
      expect(value).toBeCloseTo(diceRef(logits, [...target.slice(0, 4), ...target.slice(0, 4)], 2), 6);
    } finally {
      t1.dispose();
    }
  });
});

describe('compound loss: the distance term', () => {
  const points = [0.5, 0.5, 0.2, 0.9];
  const cands = [0.6, 0.5, 0.5, 0.3, 0.25, 0.85];

  it('takes the nearest candidate under the exponential distance, θ = 15', async () => {
    // p0 → c0: 0.5(e^1.5 + e^0 − 2); p1 → c2: 0.5(2e^0.75 − 2).
    const want = (0.5 * (Math.exp(1.5) - 1) + (Math.exp(0.75) - 1)) / 2;
    expect(want).toBeCloseTo(1.4289222759, 9);
    expect(distRef(points, cands)).toBeCloseTo(want, 10);
    const c = tensor(cands, [3, 2]);
    try {
      const { value, grad } = await valueAndGrad(points, [2, 2], (p) => distTerm(p, c, 15));
      expect(value).toBeCloseTo(want, 5);
      // d/dp = 0.5·0.5·θ·e^{θ|d|}·sign(d): p0.x −3.75e^1.5, p0.y 0 (|0|), p1.x −3.75e^0.75, p1.y +3.75e^0.75
      const hand = [-3.75 * Math.exp(1.5), 0, -3.75 * Math.exp(0.75), 3.75 * Math.exp(0.75)];
      expect(relL2Error(grad, hand)).toBeLessThan(1e-5);
    } finally {
      c.dispose();
    }
  });

  it('matches central differences away from ties', async () => {
    const p2 = [0.41, 0.57, 0.13, 0.88, 0.7, 0.2];
    const c = tensor(cands, [3, 2]);
    try {
      const { grad } = await valueAndGrad(p2, [3, 2], (p) => distTerm(p, c, 15));
      expect(relL2Error(grad, centralDiff((x) => distRef(x, cands), p2))).toBeLessThan(1e-4);
    } finally {
      c.dispose();
    }
  });
});

describe('compound loss: the distance term with one candidate set per click', () => {
  const sets = [[0.6, 0.5], [0.25, 0.85, 0.45, 0.55], [0.7, 0.25, 0.66, 0.1, 0.9, 0.9]];
  const p3 = [0.41, 0.57, 0.13, 0.88, 0.7, 0.2];
  // The reference: each click against its own set only.
  const ref = (x: number[]) => sets.reduce((a, c, i) => a + distRef(x.slice(2 * i, 2 * i + 2), c), 0) / sets.length;

  it('averages each click against its own set (value and central differences)', async () => {
    const cs = sets.map((c) => tensor(c, [c.length / 2, 2]));
    try {
      const { value, grad } = await valueAndGrad(p3, [3, 2], (p) => distTerm(p, cs, 15));
      expect(value).toBeCloseTo(ref(p3), 5);
      // Differs from the shared set's value: click 0 would otherwise take a nearer point of set 1.
      expect(Math.abs(ref(p3) - distRef(p3, sets.flat()))).toBeGreaterThan(0.01);
      expect(relL2Error(grad, centralDiff(ref, p3))).toBeLessThan(1e-4);
    } finally {
      for (const c of cs) c.dispose();
    }
  });

  it('refuses a set count that is not the click count', () => {
    const c = tensor([0.5, 0.5], [1, 2]);
    const p = tensor(p3, [3, 2]);
    try {
      expect(() => distTerm(p, [c, c], 15)).toThrow(/2 candidate sets for 3 clicks/);
    } finally {
      c.dispose();
      p.dispose();
    }
  });
});

describe('compound loss: the outside-the-mask term', () => {
  // Pixel centres ((x + 0.5)/W, (y + 0.5)/H) read one pixel; (3.75, 2) pixels is a quarter inside.
  const points = [
    1.5 / W, 1.5 / H, // inside: m = 1 → 0
    4.5 / W, 0.5 / H, // outside: m = 0 → −log 1e-6
    3.75 / W, 2.5 / H, // m = 0.75 → 0
    4.25 / W, 2.5 / H, // m = 0.25 → −log 0.25
  ];

  it('samples the ground truth at P′ and penalises −log m where m < 0.5', async () => {
    const g = tensor(GT, [1, 1, H, W]);
    const p = tensor(points, [4, 2], { requiresGrad: true });
    try {
      const { loss, mHat } = tidy(() => outTerm(g, p));
      const m = await mHat.data();
      expect([...m].map((v) => +v.toFixed(5))).toEqual([1, 0, 0.75, 0.25]);
      const want = (-Math.log(1e-6) - Math.log(0.25)) / 4;
      expect(want).toBeCloseTo(3.8004512298, 9);
      expect(await loss.item()).toBeCloseTo(want, 5);
      backward(loss);
      const grad = await p.grad!.data();
      // Only click 3 has a gradient: d/dx = −(1/m)·W·(0 − 1)/4 = 5; d/dy = −(1/m)·H·(−0.25)/4 = 1.
      // (y sits on a pixel row, where the kernel takes the lower-row side of the bilinear kink.)
      expect([...grad].map((v) => +v.toFixed(4))).toEqual([0, 0, 0, 0, 0, 0, 5, 1]);
      loss.dispose();
      mHat.dispose();
    } finally {
      g.dispose();
      p.dispose();
    }
  });

  it('matches central differences off the pixel grid, with a GT batch per click or shared', async () => {
    const pts = [0.81, 0.57, 0.33, 0.21, 0.95, 0.66, 0.52, 0.45];
    const g1 = tensor(GT, [1, 1, H, W]);
    const g4 = tensor([...GT, ...GT, ...GT, ...GT], [4, 1, H, W]);
    try {
      for (const g of [g1, g4]) {
        const { value, grad } = await valueAndGrad(pts, [4, 2], (p) => outTerm(g, p).loss);
        expect(value).toBeCloseTo(outRef(GT, H, W, pts), 5);
        expect(relL2Error(grad, centralDiff((x) => outRef(GT, H, W, x), pts))).toBeLessThan(1e-4);
      }
    } finally {
      g1.dispose();
      g4.dispose();
    }
  });
});

describe('compound loss: weights and ablation switches', () => {
  const points = [0.81, 0.57, 0.33, 0.21];
  const cands = [0.6, 0.5, 0.4, 0.45];
  const logits = [0.3, -1, 2, 0.1, 1, 1, -0.5, 0];
  const low = [1, 0, 1, 1];

  async function run(cfg: Parameters<typeof compoundLoss>[1]) {
    const refined = tensor(points, [2, 2], { requiresGrad: true });
    const sel = tensor(logits, [2, 1, 2, 2], { requiresGrad: true });
    const gt = tensor(GT, [1, 1, H, W]);
    const target = tensor(low, [1, 1, 2, 2]);
    const candidates = tensor(cands, [2, 2]);
    try {
      const out = tidy(() => compoundLoss({ refined, selectedLogits: sel, targetLowRes: target, candidates, gt }, cfg));
      const vals = {
        total: await out.total.item(),
        dice: out.dice ? await out.dice.item() : null,
        dist: out.dist ? await out.dist.item() : null,
        out: out.out ? await out.out.item() : null,
      };
      backward(out.total);
      const grads = { refined: await refined.grad!.data(), sel: sel.grad ? await sel.grad.data() : null };
      for (const t of Object.values(out)) t?.dispose();
      return { vals, grads };
    } finally {
      for (const t of [refined, sel, gt, target, candidates]) t.dispose();
    }
  }

  it('total = α·dice + β·dist + γ·out with the paper constants and with others', async () => {
    const dice = diceRef(logits, [...low, ...low], 2);
    const dist = distRef(points, cands);
    const out = outRef(GT, H, W, points);
    const paper = await run({});
    expect(PAPER_LOSS).toMatchObject({ alpha: 1, beta: 0.1, gamma: 1, theta: 15 });
    expect(paper.vals.dice).toBeCloseTo(dice, 5);
    expect(paper.vals.dist).toBeCloseTo(dist, 5);
    expect(paper.vals.out).toBeCloseTo(out, 5);
    expect(paper.vals.total).toBeCloseTo(dice + 0.1 * dist + out, 5);
    const other = await run({ alpha: 0.5, beta: 2, gamma: 0.25, theta: 10 });
    expect(other.vals.total).toBeCloseTo(0.5 * dice + 2 * distRef(points, cands, 10) + 0.25 * out, 4);
    // The full gradient w.r.t. the clicks matches central differences of the float64 total.
    const total = (x: number[]) => 0.1 * distRef(x, cands) + outRef(GT, H, W, x);
    expect(relL2Error(paper.grads.refined, centralDiff(total, points))).toBeLessThan(1e-4);
  });

  it('each switch removes its term from the value and the gradient', async () => {
    const full = await run({});
    const noDice = await run({ useDice: false });
    const noDist = await run({ useDist: false });
    const noOut = await run({ useOut: false });
    const onlyDist = await run({ useDice: false, useOut: false });
    expect(noDice.vals.dice).toBeNull();
    expect(noDice.grads.sel).toBeNull();
    expect(noDice.vals.total).toBeCloseTo(full.vals.total - full.vals.dice!, 5);
    expect(noDist.vals.dist).toBeNull();
    expect(noDist.vals.total).toBeCloseTo(full.vals.total - 0.1 * full.vals.dist!, 5);
    expect(noOut.vals.out).toBeNull();
    expect(noOut.vals.total).toBeCloseTo(full.vals.total - full.vals.out!, 5);
    const distGrad = centralDiff((x) => 0.1 * distRef(x, cands), points);
    expect(relL2Error(onlyDist.grads.refined, distGrad)).toBeLessThan(1e-4);
    await expect(run({ useDice: false, useDist: false, useOut: false })).rejects.toThrow(/every term is switched off/);
  });
});

describe('mask selection by predicted IoU', () => {
  it('takes the first maximum per click, without gradient through the choice', async () => {
    const iou = tensor([0.1, 0.3, 0.3, 0.5, 0.2, 0.1, 0.2, 0.2, 0.9], [3, 3]);
    const masks = tensor(Array.from({ length: 3 * 3 * 4 }, (_, i) => i), [3, 3, 2, 2], { requiresGrad: true });
    try {
      const oh = argmaxOneHot(iou);
      expect(await oneHotToIndices(oh)).toEqual(Int32Array.from([1, 0, 2]));
      oh.dispose();
      const sel = tidy(() => selectByIou(masks, iou));
      expect(Array.from(await sel.logits.data())).toEqual([4, 5, 6, 7, 12, 13, 14, 15, 32, 33, 34, 35]);
      const total = tidy(() => sum(sel.logits));
      backward(total);
      total.dispose();
      const g = await masks.grad!.data();
      expect(Array.from(g)).toEqual(Array.from({ length: 36 }, (_, i) => (i >= 4 && i < 8) || (i >= 12 && i < 16) || i >= 32 ? 1 : 0));
      sel.logits.dispose();
      sel.oneHot.dispose();
    } finally {
      iou.dispose();
      masks.dispose();
    }
  });
});
