import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noGrad, relL2Error, tensor, tidy, type Tensor } from '@rpsam2/tensor';
import { loadWeights, type ImageFeatures, type Sam2Model } from '@rpsam2/sam2';
import { ShiftBlock } from '../src/shift-block/shift-block.js';
import { RpSam2 } from '../src/pipeline/rpsam2.js';
import { disposeTargets, forwardBackward, makeTargets, objectClicks, shiftForwardGrouped, clickTokens, stackEmbeds, tokenCover, type StepObject } from '../src/train/step.js';
import { maskToF32 } from '../src/candidates/clicks.js';
import { RP_DIR, TINY_SHIFT, disposeFeatures, fixtureImage, loadTinySam2, open } from './helpers/tiny-sam2.js';

describe('training step on the tiny256 fixture', () => {
  let model: Sam2Model;
  let img: Awaited<ReturnType<typeof fixtureImage>>;
  let flipped: ImageFeatures;

  beforeAll(async () => {
    model = await loadTinySam2();
    img = await fixtureImage(model);
    // A second "image": the fixture's features with the spatial axes flipped (cheap, distinct).
    flipped = noGrad(() => tidy(() => {
      const flip = (t: Tensor) => tensor(new Float32Array(t.size).map((_, i) => Math.sin(i * 0.37)), t.shape);
      return { imageEmbed: flip(img.features.imageEmbed), highRes: [flip(img.features.highRes[0]), flip(img.features.highRes[1])] as [Tensor, Tensor] };
    }));
  }, 120_000);

  afterAll(() => {
    disposeFeatures(img.features);
    disposeFeatures(flipped);
    model.dispose();
  });

  async function grads(block: ShiftBlock): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const [n, s] of block.namedParams()) out.set(n, s.value!.grad ? await s.value!.grad.data() : new Float32Array(0));
    return out;
  }

  function zero(block: ShiftBlock): void {
    for (const p of block.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  it('reproduces the fixture: golden loss and every parameter gradient (grouped shift block, detached decoder chunks)', async () => {
    const golden = await open(RP_DIR + 'golden.safetensors');
    const block = new ShiftBlock(TINY_SHIFT);
    await loadWeights(block, await open(RP_DIR + 'shift_block.safetensors'));
    block.setTrainable(true);
    const cand = await golden.readF32('candidates.norm');
    const target = makeTargets(model, img.features, img.hw, img.mask, cand);
    try {
      const clicks = await golden.readF32('clicks_norm');
      const r = await forwardBackward(model, block, [{ target, clicks }], { decodeChunkClicks: 4 });
      expect(r.clicks).toBe(10);
      expect(Math.abs(r.total - (await golden.readF32('loss.total'))[0])).toBeLessThan(1e-3);
      expect(Math.abs(r.dice! - (await golden.readF32('loss.dice'))[0])).toBeLessThan(1e-3);
      expect(Math.abs(r.dist! - (await golden.readF32('loss.dist'))[0])).toBeLessThan(1e-3);
      expect(Math.abs(r.out! - (await golden.readF32('loss.out'))[0])).toBeLessThan(1e-3);
      const g = await grads(block);
      const bad: string[] = [];
      for (const [n, v] of g) {
        const e = relL2Error(v, await golden.readF32(`grad.${n}`));
        if (!(e <= 1e-2)) bad.push(`${n}: ${e}`);
      }
      expect(bad).toEqual([]);
      zero(block);
    } finally {
      disposeTargets(target);
      block.dispose();
    }
  });

  it.each(['linear', 'pointer'] as const)('the grouped forward equals ShiftBlock.forward per object (%s head)', async (head) => {
    // A random (not zero) query projection, so that the pointer head's content term is exercised.
    const block = new ShiftBlock({ ...TINY_SHIFT, head }).init(3);
    const [h, w] = img.hw;
    const c1 = objectClicks(img.mask, h, w, 3, 1);
    const c2 = objectClicks(img.mask, h, w, 3, 2);
    const [grouped, a, b] = noGrad(() =>
      tidy(() => {
        const clicks = tensor([...c1, ...c2], [6, 2]);
        const sparse = clickTokens(model, clicks);
        const embeds = stackEmbeds([{ features: img.features }, { features: flipped }]);
        const g = shiftForwardGrouped(block, sparse, embeds, clicks, 3).refined;
        const rp = new RpSam2({ model, getFeatures: () => img.features } as never, block);
        const ta = tensor(c1, [3, 2]);
        const ra = block.forward(rp.clickTokens(ta), img.features.imageEmbed, ta).refined;
        const tb = tensor(c2, [3, 2]);
        const rb = block.forward(rp.clickTokens(tb), flipped.imageEmbed, tb).refined;
        return [g, ra, rb];
      }),
    );
    const gd = await grouped.data();
    const want = [...(await a.data()), ...(await b.data())];
    for (let i = 0; i < 12; i++) expect(Math.abs(gd[i] - want[i])).toBeLessThan(1e-5);
    grouped.dispose();
    a.dispose();
    b.dispose();
    block.dispose();
  });

  it('a batch of objects on two images: one step = the mean of per-object steps, with and without decoder chunking', async () => {
    const block = new ShiftBlock(TINY_SHIFT).init(5, { requiresGrad: true });
    const [h, w] = img.hw;
    const cands = [Float32Array.from([0.3, 0.6, 0.35, 0.62]), Float32Array.from([0.5, 0.5])];
    const targets = [makeTargets(model, img.features, img.hw, img.mask, cands[0]), makeTargets(model, flipped, img.hw, img.mask, cands[1])];
    const batch: StepObject[] = targets.map((t, i) => ({ target: t, clicks: objectClicks(img.mask, h, w, 4, 10 + i) }));
    try {
      const joint = await forwardBackward(model, block, batch);
      const gJoint = await grads(block);
      zero(block);
      const chunked = await forwardBackward(model, block, batch, { decodeChunkClicks: 4 });
      const gChunked = await grads(block);
      zero(block);
      // Separately: grads accumulate over the two calls (each a mean over 1 object) = 2 × joint.
      const s1 = await forwardBackward(model, block, [batch[0]]);
      const s2 = await forwardBackward(model, block, [batch[1]]);
      const gSep = await grads(block);
      zero(block);
      expect(Math.abs(joint.total - chunked.total)).toBeLessThan(1e-5);
      expect(Math.abs(joint.total - (s1.total + s2.total) / 2)).toBeLessThan(1e-5);
      for (const [n, v] of gJoint) {
        expect(relL2Error(gChunked.get(n)!, v), n).toBeLessThan(1e-4);
        expect(relL2Error(gSep.get(n)!.map((x) => x / 2), v), n).toBeLessThan(1e-4);
      }
    } finally {
      targets.forEach(disposeTargets);
      block.dispose();
    }
  });
  it('the cover term: its value is the cross-entropy of the token cover against the pointer attention (float64 on the host), and its gradient adds to the distance term\'s (central differences)', async () => {
    const block = new ShiftBlock({ ...TINY_SHIFT, head: 'pointer' }).init(8, { requiresGrad: true });
    const [h, w] = img.hw;
    const targets = [makeTargets(model, img.features, img.hw, img.mask, new Float32Array(0)), makeTargets(model, flipped, img.hw, img.mask, new Float32Array(0))];
    const batch: StepObject[] = targets.map((t, i) => ({ target: t, clicks: objectClicks(img.mask, h, w, 3, 20 + i) }));
    const opts = { loss: { useDice: false, useDist: true, useOut: false }, distTarget: 'centroid' as const, candidateReach: 0.1 };
    const logSigma = () => block.pointer!.logSigma.get('pointer_log_sigma');
    try {
      const distOnly = await forwardBackward(model, block, batch, opts);
      expect(distOnly.cover).toBeNull();
      const gDist = await grads(block);
      zero(block);
      const both = await forwardBackward(model, block, batch, { ...opts, coverWeight: 0.5 });
      const gBoth = await grads(block);
      zero(block);
      expect(Math.abs(both.total - distOnly.total - both.cover!)).toBeLessThan(1e-5);
      // The value, from the attention read back and the cover computed here.
      const att = noGrad(() => tidy(() => {
        const clicks = tensor(Float32Array.from([...batch[0].clicks, ...batch[1].clicks]), [6, 2]);
        return shiftForwardGrouped(block, clickTokens(model, clicks), stackEmbeds(batch.map((x) => x.target)), clicks, 3).attention!;
      }));
      const a = await att.data();
      att.dispose();
      const n = model.gridSize * model.gridSize;
      let ce = 0;
      for (let c = 0; c < 6; c++) {
        const cover = tokenCover(img.mask, h, w, model.gridSize);
        for (let j = 0; j < n; j++) if (cover[j] > 0) ce -= cover[j] * Math.log(a[c * n + j] + 1e-9);
      }
      expect(both.cover!).toBeCloseTo((0.5 * ce) / 6, 4);
      // d cover / d log σ: the gradient difference vs central differences of the cover value.
      const analytic = gBoth.get('pointer_log_sigma')![0] - gDist.get('pointer_log_sigma')![0];
      const base = (await logSigma().data())[0];
      const coverAt = async (v: number) => {
        const slot = block.pointer!.logSigma;
        slot.value!.dispose();
        slot.value = tensor([v], [1], { requiresGrad: true, name: 'pointer_log_sigma' });
        const r = await forwardBackward(model, block, batch, { ...opts, coverWeight: 0.5 });
        zero(block);
        return r.cover!;
      };
      const eps = 1e-2;
      const numeric = ((await coverAt(base + eps)) - (await coverAt(base - eps))) / (2 * eps);
      await coverAt(base);
      expect(Math.abs(analytic)).toBeGreaterThan(1e-3);
      expect(Math.abs(analytic - numeric)).toBeLessThan(2e-2 * Math.abs(numeric) + 1e-3);
      const linear = new ShiftBlock(TINY_SHIFT).init(1, { requiresGrad: true });
      await expect(forwardBackward(model, linear, batch, { ...opts, coverWeight: 1 })).rejects.toThrow(/needs the pointer head/);
      linear.dispose();
    } finally {
      targets.forEach(disposeTargets);
      block.dispose();
    }
  });

  it('tokenCover: the mask\'s share per cell of the image grid, summing to 1', () => {
    // 4×6 image, 2×2 grid: cells are 2 rows × 3 columns.
    const mask = Uint8Array.from([
      1, 1, 0, 0, 0, 0,
      0, 0, 0, 0, 0, 1,
      0, 0, 0, 0, 0, 0,
      1, 0, 0, 0, 0, 0,
    ]);
    expect(Array.from(tokenCover(mask, 4, 6, 2))).toEqual([0.5, 0.25, 0.25, 0]);
    expect(Array.from(tokenCover(new Uint8Array(24), 4, 6, 2))).toEqual([0, 0, 0, 0]);
    expect(Array.from(maskToF32(Uint8Array.from([0, 3, 1, 255])))).toEqual([0, 1, 1, 1]);
  });
});
