import { describe, expect, it } from 'vitest';
import { backward, relL2Error, tensor, type Tensor } from '@rpsam2/tensor';
import { SAM2_TRAINING_LOSS, sam2Loss, sam2MultiStepLoss, type Sam2LossOptions } from '../src/train/losses.js';
import { centralDiff, mulberry32 } from '../../tensor/test/support/numeric.js';

// ---- a float64 reference of MultiStepMultiMasksAndIous (one step), written out term by term ----

interface Case {
  b: number;
  k: number;
  h: number;
  w: number;
  /** [B, K, H, W] logits */
  masks: number[];
  /** [B, H, W] 0/1 */
  targets: number[];
  /** [B, K] */
  ious: number[];
  /** [B] */
  obj: number[];
}

interface RefOptions {
  wMask: number;
  wDice: number;
  wIou: number;
  wObj: number;
  alpha: number;
  gamma: number;
  allIou: boolean;
  l1: boolean;
  predObj: boolean;
  numObjects?: number;
}

const OFFICIAL: RefOptions = { wMask: 20, wDice: 1, wIou: 1, wObj: 1, alpha: 0.25, gamma: 2, allIou: true, l1: true, predObj: true };

const sig = (x: number) => 1 / (1 + Math.exp(-x));
/** BCE with logits, in a form exact for large |x|. */
const bce = (x: number, t: number) => Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));

function focalElem(x: number, t: number, alpha: number, gamma: number): number {
  const p = sig(x);
  const pt = p * t + (1 - p) * (1 - t);
  let l = bce(x, t) * Math.pow(1 - pt, gamma);
  if (alpha >= 0) l *= alpha * t + (1 - alpha) * (1 - t);
  return l;
}

function reference(c: Case, o: RefOptions) {
  const { b, k, h, w } = c;
  const hw = h * w;
  const n = Math.max(o.numObjects ?? b, 1);
  let focal = 0;
  let dice = 0;
  let iou = 0;
  let objScore = 0;
  const chosen: number[] = [];
  for (let i = 0; i < b; i++) {
    const t = c.targets.slice(i * hw, (i + 1) * hw);
    const fk: number[] = [];
    const dk: number[] = [];
    const ik: number[] = [];
    for (let j = 0; j < k; j++) {
      const x = c.masks.slice((i * k + j) * hw, (i * k + j + 1) * hw);
      let f = 0;
      let inter = 0;
      let ss = 0;
      let ts = 0;
      let pi = 0;
      let pu = 0;
      for (let q = 0; q < hw; q++) {
        f += focalElem(x[q], t[q], o.alpha, o.gamma);
        const s = sig(x[q]);
        inter += s * t[q];
        ss += s;
        ts += t[q];
        const pb = x[q] > 0;
        const gb = t[q] > 0.5; // soft targets binarise at one half
        if (pb && gb) pi++;
        if (pb || gb) pu++;
      }
      fk.push(f / hw / n);
      // For 0/1 targets Σs + Σt − ‖s − t‖₁ = 2·Σ s·t.
      dk.push((1 - (2 * inter + 1) / (ss + ts + 1)) / n);
      const actual = pi / Math.max(pu, 1);
      const e = c.ious[i * k + j] - actual;
      ik.push((o.l1 ? Math.abs(e) : e * e) / n);
    }
    let best = 0;
    for (let j = 1; j < k; j++) if (fk[j] * o.wMask + dk[j] * o.wDice < fk[best] * o.wMask + dk[best] * o.wDice) best = j;
    chosen.push(best);
    const present = o.predObj ? (t.some((v) => v > 0) ? 1 : 0) : 1;
    focal += fk[best] * present;
    dice += dk[best] * present;
    iou += (k > 1 && o.allIou ? ik.reduce((a, v) => a + v, 0) / k : ik[best]) * present;
    if (o.predObj) objScore += bce(c.obj[i], present) / n;
  }
  const total = o.wMask * focal + o.wDice * dice + o.wIou * iou + o.wObj * objScore;
  return { total, focal, dice, iou, objScore, chosen };
}

/** Random logits in ±3 away from 0 (the binarised IoU must not flip under finite differences). */
function logits(count: number, r: () => number): number[] {
  return Array.from({ length: count }, () => {
    const v = (r() * 2 - 1) * 3;
    return Math.abs(v) < 0.05 ? v + Math.sign(v || 1) * 0.1 : v;
  });
}

/** Object 0: a blob; object 1: empty; object 2: all positive; further ones random. */
function makeCase(k: number, seed: number, b = 3, h = 5, w = 7): Case {
  const r = mulberry32(seed);
  const targets: number[] = [];
  for (let i = 0; i < b; i++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (i === 0) targets.push((x - 3) ** 2 / 6 + (y - 2) ** 2 / 3 <= 1 ? 1 : 0);
        else if (i === 1) targets.push(0);
        else if (i === 2) targets.push(1);
        else targets.push(r() < 0.4 ? 1 : 0);
      }
    }
  }
  return {
    b,
    k,
    h,
    w,
    masks: logits(b * k * h * w, r),
    targets,
    ious: Array.from({ length: b * k }, () => 0.05 + 0.9 * r()),
    obj: Array.from({ length: b }, () => (r() * 2 - 1) * 4),
  };
}

function toOptions(o: RefOptions): Sam2LossOptions {
  return {
    weights: { mask: o.wMask, dice: o.wDice, iou: o.wIou, objScore: o.wObj },
    focalAlpha: o.alpha,
    focalGamma: o.gamma,
    supervisedAllIou: o.allIou,
    iouUseL1Loss: o.l1,
    predObjScores: o.predObj,
    numObjects: o.numObjects,
  };
}

function expectClose(got: number, want: number, what: string, rtol = 2e-5): void {
  expect(Math.abs(got - want), `${what}: got ${got}, want ${want}`).toBeLessThanOrEqual(rtol * Math.max(1, Math.abs(want)));
}

/** Runs the GPU loss on leaves made from the case; returns the terms, the choice and the gradients. */
async function runGpu(c: Case, options: Sam2LossOptions) {
  const masks = tensor(c.masks, [c.b, c.k, c.h, c.w], { requiresGrad: true });
  const iou = tensor(c.ious, [c.b, c.k], { requiresGrad: true });
  const objectScore = tensor(c.obj, [c.b, 1], { requiresGrad: true });
  const targets = tensor(c.targets, [c.b, 1, c.h, c.w]);
  try {
    const r = sam2Loss({ masks, iou, objectScore }, targets, options);
    try {
      const out = {
        total: await r.total.item(),
        focal: await r.focal.item(),
        dice: await r.dice.item(),
        iou: await r.iou.item(),
        objScore: await r.objScore.item(),
        chosen: Array.from(await r.chosen.intData()),
        detached: [r.focal, r.dice, r.iou, r.objScore].every((t) => !t.requiresGrad),
        gMasks: null as Float32Array | null,
        gIou: null as Float32Array | null,
        gObj: null as Float32Array | null,
      };
      backward(r.total);
      out.gMasks = masks.grad ? await masks.grad.data() : null;
      out.gIou = iou.grad ? await iou.grad.data() : null;
      out.gObj = objectScore.grad ? await objectScore.grad.data() : null;
      return out;
    } finally {
      for (const t of [r.total, r.focal, r.dice, r.iou, r.objScore, r.chosen]) t.dispose();
    }
  } finally {
    for (const t of [masks, iou, objectScore, targets]) t.dispose();
  }
}

/** Forward terms and every gradient of the GPU loss against the float64 reference. */
async function checkAgainstReference(c: Case, o: RefOptions): Promise<void> {
  const want = reference(c, o);
  const got = await runGpu(c, toOptions(o));
  for (const key of ['total', 'focal', 'dice', 'iou', 'objScore'] as const) expectClose(got[key], want[key], key);
  expect(got.chosen).toEqual(want.chosen);
  expect(got.detached).toBe(true);
  const fdMasks = centralDiff((m) => reference({ ...c, masks: m }, o).total, c.masks);
  const fdIou = centralDiff((v) => reference({ ...c, ious: v }, o).total, c.ious);
  const fdObj = centralDiff((v) => reference({ ...c, obj: v }, o).total, c.obj);
  expect(relL2Error(got.gMasks, fdMasks)).toBeLessThan(2e-3);
  expect(relL2Error(got.gIou, fdIou)).toBeLessThan(1e-4);
  if (o.predObj && o.wObj !== 0) expect(relL2Error(got.gObj, fdObj)).toBeLessThan(1e-4);
  else expect(got.gObj).toBeNull();
}

describe('sam2Loss against a float64 reference of the official loss', () => {
  it('defaults to the official SAM 2.1 training config', () => {
    // The reference's OFFICIAL settings, with the object-score loss as plain BCE (α −1, γ 0).
    expect(SAM2_TRAINING_LOSS).toEqual({ ...toOptions(OFFICIAL), focalAlphaObjScore: -1, focalGammaObjScore: 0 });
  });

  it('K = 3, B = 3 (blob, empty and all-positive targets), official settings: terms, choice, gradients', async () => {
    const c = makeCase(3, 11);
    // The reference itself: an empty target zeroes that object's mask/Dice/IoU terms.
    const without1: Case = {
      ...c,
      b: 2,
      masks: [...c.masks.slice(0, 105), ...c.masks.slice(210)],
      targets: [...c.targets.slice(0, 35), ...c.targets.slice(70)],
      ious: [...c.ious.slice(0, 3), ...c.ious.slice(6)],
      obj: [c.obj[0], c.obj[2]],
    };
    const noEmpty = reference(without1, { ...OFFICIAL, wObj: 0, numObjects: 3 });
    const all = reference(c, { ...OFFICIAL, wObj: 0 });
    expect(all.total).toBeCloseTo(noEmpty.total, 12);
    await checkAgainstReference(c, OFFICIAL);
  });

  it('K = 1, B = 3, official settings', async () => {
    const c = makeCase(1, 12);
    const want = reference(c, OFFICIAL);
    expect(want.chosen).toEqual([0, 0, 0]);
    await checkAgainstReference(c, OFFICIAL);
  });

  it('K = 3 with MSE on the chosen mask only (supervisedAllIou false, iouUseL1Loss false), 4 objects', async () => {
    const c = makeCase(3, 13, 4, 6, 3);
    await checkAgainstReference(c, { ...OFFICIAL, allIou: false, l1: false });
  });

  it('without object scores: empty targets count, no object-score term, no gradient to the score', async () => {
    const c = makeCase(3, 14);
    const o = { ...OFFICIAL, predObj: false };
    expect(reference(c, o).objScore).toBe(0);
    await checkAgainstReference(c, o);
  });

  it('other focal α/γ, weights and numObjects', async () => {
    const c = makeCase(3, 15);
    await checkAgainstReference(c, { ...OFFICIAL, alpha: -1, gamma: 1.5, wMask: 5, wDice: 2, wIou: 0.5, wObj: 3, numObjects: 7 });
  });

  it('picks the best of three masks on a hand-made case, with no gradient to the others', async () => {
    // 2×3 images. Object 0's target is the left column; object 1's is everything.
    const h = 2;
    const w = 3;
    const t0 = [1, 0, 0, 1, 0, 0];
    const t1 = [1, 1, 1, 1, 1, 1];
    const empty = Array(6).fill(-6);
    const exact0 = t0.map((v) => (v ? 6 : -6));
    const full = Array(6).fill(6);
    // Object 0: masks (empty, exact, full) → 1. Object 1: (exact0, empty, full) → 2.
    const masks = [...empty, ...exact0, ...full, ...exact0, ...empty, ...full];
    const c: Case = { b: 2, k: 3, h, w, masks, targets: [...t0, ...t1], ious: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5], obj: [1, 1] };
    const o = { ...OFFICIAL, wIou: 0, wObj: 0 };
    expect(reference(c, o).chosen).toEqual([1, 2]);
    const got = await runGpu(c, toOptions(o));
    expect(got.chosen).toEqual([1, 2]);
    // Only the chosen channel of each object gets a gradient from the focal and Dice terms.
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++) {
        const g = Array.from(got.gMasks!.slice((i * 3 + j) * 6, (i * 3 + j + 1) * 6));
        const chosen = j === [1, 2][i];
        expect(g.some((v) => v !== 0), `object ${i} mask ${j}`).toBe(chosen);
      }
    }
    // supervisedAllIou: the IoU gradient reaches every mask; without it, only the chosen one.
    const all = await runGpu(c, toOptions(OFFICIAL));
    expect(Array.from(all.gIou!).every((v) => v !== 0)).toBe(true);
    const one = await runGpu(c, toOptions({ ...OFFICIAL, allIou: false }));
    expect(Array.from(one.gIou!).map((v) => v !== 0)).toEqual([false, true, false, false, false, true]);
  });

  it('actual IoU of the binarised mask: a one-pixel exact match is 1, empty with empty is 0 (union clamped to 1)', async () => {
    const c: Case = { b: 2, k: 1, h: 2, w: 2, masks: [5, -5, -5, -5, -5, -5, -5, -5], targets: [1, 0, 0, 0, 0, 0, 0, 0], ious: [0.25, 0.75], obj: [0, 0] };
    const o = { ...OFFICIAL, predObj: false };
    // L1: (|0.25 − 1| + |0.75 − 0|) / 2 objects.
    expect(reference(c, o).iou).toBeCloseTo(0.75, 12);
    const got = await runGpu(c, toOptions(o));
    expectClose(got.iou, 0.75, 'iou');
    expect(Array.from(got.gIou!)).toEqual([-0.5, 0.5]);
  });

  it('actual IoU of soft targets counts a cell as inside from coverage one half', async () => {
    // Coverage 0.3 is outside, 0.6 inside: the predicted cell 0 matches the binarised target exactly.
    const c: Case = { b: 1, k: 1, h: 1, w: 3, masks: [5, -5, -5], targets: [0.6, 0.3, 0], ious: [1], obj: [0] };
    const o = { ...OFFICIAL, predObj: false };
    expect(reference(c, o).iou).toBeCloseTo(0, 12);
    expectClose((await runGpu(c, toOptions(o))).iou, 0, 'iou');
  });

  it('ties go to the first mask, as torch.argmin', async () => {
    const same = [2, -2, 1, -1];
    const c: Case = { b: 1, k: 3, h: 2, w: 2, masks: [...same, ...same, ...same], targets: [1, 0, 1, 0], ious: [0.2, 0.4, 0.6], obj: [0] };
    expect((await runGpu(c, toOptions(OFFICIAL))).chosen).toEqual([0]);
  });
});

describe('sam2MultiStepLoss', () => {
  it('sums every term over the steps (the official _forward), with one choice per step', async () => {
    const a = makeCase(3, 21);
    const b = makeCase(1, 22);
    const targets = tensor(a.targets, [3, 1, 5, 7]);
    const leaves = [a, b].map((c) => ({
      masks: tensor(c.masks, [c.b, c.k, c.h, c.w], { requiresGrad: true }),
      iou: tensor(c.ious, [c.b, c.k], { requiresGrad: true }),
      objectScore: tensor(c.obj, [c.b, 1], { requiresGrad: true }),
    }));
    try {
      const r = sam2MultiStepLoss(leaves, targets);
      try {
        const ra = reference(a, OFFICIAL);
        const rb = reference({ ...b, targets: a.targets }, OFFICIAL);
        expectClose(await r.total.item(), ra.total + rb.total, 'total');
        expectClose(await r.focal.item(), ra.focal + rb.focal, 'focal');
        expectClose(await r.objScore.item(), ra.objScore + rb.objScore, 'objScore');
        expect(r.chosen).toHaveLength(2);
        expect(Array.from(await r.chosen[0].intData())).toEqual(ra.chosen);
        expect(Array.from(await r.chosen[1].intData())).toEqual([0, 0, 0]);
        backward(r.total);
        const fd = centralDiff((v) => reference({ ...b, targets: a.targets, ious: v }, OFFICIAL).total, b.ious);
        expect(relL2Error(await leaves[1].iou.grad!.data(), fd)).toBeLessThan(1e-4);
      } finally {
        for (const t of [r.total, r.focal, r.dice, r.iou, r.objScore, ...r.chosen]) t.dispose();
      }
    } finally {
      targets.dispose();
      for (const l of leaves) for (const t of Object.values(l)) t.dispose();
    }
  });
});

describe('sam2Loss input checks', () => {
  it('names the bad shape or option', () => {
    const masks = tensor(Array(2 * 3 * 4 * 4).fill(0), [2, 3, 4, 4]);
    const iou = tensor(Array(6).fill(0), [2, 3]);
    const objectScore = tensor([0, 0], [2, 1]);
    const targets = tensor(Array(32).fill(0), [2, 1, 4, 4]);
    const badTargets = tensor(Array(32).fill(0), [2, 4, 4]);
    const badIou = tensor(Array(2).fill(0), [2, 1]);
    try {
      expect(() => sam2Loss({ masks, iou, objectScore }, badTargets)).toThrow(/targets .*\[2, 4, 4\].* must be \[2, 1, 4, 4\]/);
      expect(() => sam2Loss({ masks, iou: badIou, objectScore }, targets)).toThrow(/iou .* must be \[2, 3\]/);
      expect(() => sam2Loss({ masks: iou, iou, objectScore }, targets)).toThrow(/masks .* must be \[B, K, H, W\]/);
      expect(() => sam2Loss({ masks, iou, objectScore }, targets, { weights: { mask: 0, dice: 0, iou: 0, objScore: 0 } })).toThrow(/every loss weight is 0/);
      expect(() => sam2Loss({ masks, iou, objectScore }, targets, { focalGamma: -1 })).toThrow(/focalGamma must be ≥ 0/);
      expect(() => sam2Loss({ masks, iou, objectScore }, targets, { numObjects: NaN })).toThrow(/numObjects/);
      expect(() => sam2MultiStepLoss([], targets)).toThrow(/non-empty/);
    } finally {
      for (const t of [masks, iou, objectScore, targets, badTargets, badIou]) t.dispose();
    }
  });
});
