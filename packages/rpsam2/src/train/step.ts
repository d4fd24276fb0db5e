/**
 * One RP-SAM2 training step on a batch of objects, each with k clicks (all on the GPU, SAM 2
 * frozen):
 *
 *   1. the prompt encoder's sparse tokens of all O·k clicks (constant);
 *   2. the shift block on all clicks at once, grouped by object: the cross-attention of an
 *      object's k·T click tokens reads that object's image tokens (memory [O, hw, d]), which is
 *      exactly the per-click computation of `ShiftBlock.forward`, without copying the memory
 *      per click;
 *   3. the refined clicks are detached into a leaf r; SAM 2's prompt encoder + mask decoder and
 *      the compound loss run on r in chunks of whole objects (so that the decoder's largest
 *      activation, [clicks, C/8, 4g, 4g], stays within the adapter's binding limit), and each
 *      chunk's backward adds its part of dL/dr and frees its graph (only the Dice term needs the
 *      decoder: with it switched off, as in the ablations, the decoder does not run);
 *   4. one backward through the shift block with dL/dr as the seed (plus, with the pointer head
 *      and `coverWeight`, the cover term on the block's attention: see {@link StepOptions}).
 *
 * Splitting at r gives the same gradient as one backward through the whole chain (the chain
 * rule) and keeps at most one chunk's decoder graph alive. The loss is the mean over objects of
 * each object's compound loss (itself a mean over its clicks).
 */
import {
  add,
  addScalar,
  backward,
  cat,
  clamp,
  expand,
  getBackend,
  greater,
  interpolate,
  log,
  matmul,
  mul,
  mulScalar,
  noGrad,
  permute,
  relu,
  reshape,
  sigmoid,
  slice,
  sum,
  tanh,
  tensor,
  tidy,
  type Tensor,
} from '@rpsam2/tensor';
import { clickPrompt, decodeBest, type ImageFeatures, type Sam2Model } from '@rpsam2/sam2';
import { refineStepsOf, type ShiftBlock } from '../shift-block/shift-block.js';
import { compoundLoss, PAPER_LOSS, type CompoundLossConfig } from '../loss/compound-loss.js';
import { clickTokens } from '../pipeline/rpsam2.js';
import { maskCentroid, maskToF32, sampleClicks } from '../candidates/clicks.js';
import { reachableCandidates, type CandidateGrid } from '../candidates/candidates.js';

/** One object's training targets, resident on the GPU. */
export interface ObjectTargets {
  /** Its image's features ([1, …]; may be shared by several objects, not owned here). */
  features: ImageFeatures;
  /** [H, W] of the original image. */
  origHW: [number, number];
  /** [1, 1, H, W] ground truth (0/1). */
  gt: Tensor;
  /** [1, 1, 4g, 4g] ground truth on SAM 2's low-res grid. */
  targetLowRes: Tensor;
  /** [C, 2] candidates, normalised; null when the object has none. */
  candidates: Tensor | null;
  /** Host copy of the mask (click sampling). */
  mask: Uint8Array;
  /** The candidate grid with its per-point Dice (reachable candidates); null when not kept. */
  grid: CandidateGrid | null;
  /** The mask's centroid, normalised [x, y] (the distance term's 'centroid' target). */
  centroid: [number, number];
}

/** The distance term's target: the grid's candidates or the step towards the mask centroid. */
export type DistTarget = 'candidates' | 'centroid';

/** An object of a batch and its clicks, normalised [k·2] (x/W, y/H). */
export interface StepObject {
  target: ObjectTargets;
  clicks: Float32Array;
}

/**
 * Options of one training step ({@link forwardBackward}): the loss, the decoder chunking, the distance
 * term's target, the cover term and timing.
 */
export interface StepOptions {
  /** Loss weights and switches (default: the paper's, all terms on). */
  loss?: Partial<CompoundLossConfig>;
  /** Clicks per decoder pass (default: as many whole objects as fit the binding limit). */
  decodeChunkClicks?: number;
  /**
   * Distance term against the candidates each click can reach (see `reachableCandidates`): the
   * per-axis reach in normalised units (0: the object's global candidates, the paper's), with
   * tolerance `reachEpsilon` (default 0.005). Needs the objects' `grid`.
   */
  candidateReach?: number;
  reachEpsilon?: number;
  /**
   * What the distance term pulls a click towards: 'candidates' (the grid's, see
   * `candidateReach`) or 'centroid' — the point `candidateReach` towards the object's mask
   * centroid on each axis (the click itself when it is closer). The centroid target needs no
   * candidate grid and changes smoothly with the click.
   */
  distTarget?: DistTarget;
  /**
   * Weight of the cover term (0 or absent: off; needs the pointer head): the cross-entropy
   * −Σ_j c_j log a_j between the object's token cover c (the share of its mask in each image
   * token) and the pointer's attention a over the image tokens, averaged over clicks and objects.
   * It tells the pointer which tokens belong to the clicked object, 1024 numbers per click
   * instead of the distance term's two.
   */
  coverWeight?: number;
  /** Sync the GPU between phases and report their times (slower; for benchmarks). */
  timing?: boolean;
}

/** Phase times of a step in ms (with `timing`). */
export interface StepTimings {
  shiftFwd: number;
  decoderFwd: number;
  decoderBwd: number;
  shiftBwd: number;
}

/** Loss values of a step (means over the batch's objects); null for switched-off terms. */
export interface StepResult {
  total: number;
  dice: number | null;
  dist: number | null;
  out: number | null;
  /** The cover term (weighted), null when off. */
  cover: number | null;
  clicks: number;
  objects: number;
  timings?: StepTimings;
}

/**
 * k clicks on the mask (H×W), uniform without replacement, normalised; when the mask has fewer
 * than k pixels its pixels are repeated so that every object has exactly k clicks.
 */
export function objectClicks(mask: Uint8Array, h: number, w: number, k: number, seed: number): Float32Array {
  const px = sampleClicks(mask, h, w, k, seed);
  const n = px.length / 2;
  if (n === 0) throw new Error(`objectClicks: the mask (${h}×${w}) is empty`);
  const out = new Float32Array(2 * k);
  for (let i = 0; i < k; i++) {
    const j = i % n;
    out[2 * i] = px[2 * j] / w;
    out[2 * i + 1] = px[2 * j + 1] / h;
  }
  return out;
}

/** Uploads one object's targets (the caller owns the tensors: {@link disposeTargets}). */
export function makeTargets(model: Sam2Model, features: ImageFeatures, origHW: [number, number], mask: Uint8Array, candidatesNorm: Float32Array, grid: CandidateGrid | null = null): ObjectTargets {
  const [h, w] = origHW;
  if (mask.length !== h * w) throw new RangeError(`makeTargets: mask has ${mask.length} values for ${h}×${w}`);
  return noGrad(() => {
    const gt = tensor(maskToF32(mask), [1, 1, h, w]);
    const low = model.gridSize * 4;
    const targetLowRes = interpolate(gt, { size: [low, low], mode: 'bilinear', alignCorners: false });
    const c = candidatesNorm.length / 2;
    const candidates = c > 0 ? tensor(candidatesNorm, [c, 2]) : null;
    return { features, origHW, gt, targetLowRes, candidates, mask, grid, centroid: maskCentroid(mask, h, w) };
  });
}

/**
 * The share of an H×W mask's pixels in each cell of a g×g grid over the image (row-major; all
 * zero for an empty mask): the pointer's attention target, in the token layout of SAM 2's
 * square-resized image.
 */
export function tokenCover(mask: Uint8Array, h: number, w: number, g: number): Float32Array {
  const counts = new Float64Array(g * g);
  let total = 0;
  for (let y = 0; y < h; y++) {
    const row = Math.min(g - 1, Math.floor(((y + 0.5) * g) / h)) * g;
    for (let x = 0; x < w; x++) {
      if (!mask[y * w + x]) continue;
      counts[row + Math.min(g - 1, Math.floor(((x + 0.5) * g) / w))]++;
      total++;
    }
  }
  return Float32Array.from(counts, (v) => (total ? v / total : 0));
}

/**
 * The point at most `reach` (per axis, normalised) from each click towards `centroid`: the
 * 'centroid' distance target, [k·2] for clicks [k·2].
 */
export function centroidTargets(clicks: Float32Array, centroid: [number, number], reach: number): Float32Array {
  const step = (d: number) => Math.max(-reach, Math.min(reach, d));
  return Float32Array.from(clicks, (v, i) => v + step(centroid[i % 2] - v));
}

/** Frees the tensors of {@link makeTargets} (not the shared features). */
export function disposeTargets(t: ObjectTargets): void {
  t.gt.dispose();
  t.targetLowRes.dispose();
  t.candidates?.dispose();
}

/** The sparse prompt tokens of single positive clicks: the pipeline's one function (re-exported for this module's users). */
export { clickTokens };

/**
 * The shift block on O objects × k clicks: sparse [O·k, T, d], embeds [O, d, h, w] (object o's
 * image), clicks [O·k, 2] normalised, grouped by object (rows o·k … o·k + k − 1). Returns the
 * refined clicks [O·k, 2] and the shift. Same result as `block.forward` per object.
 */
export function shiftForwardGrouped(block: ShiftBlock, sparse: Tensor, embeds: Tensor, clicks: Tensor, k: number): { refined: Tensor; delta: Tensor; attention: Tensor | null } {
  const { dModel: d, tokens: t, imageTokens } = block.config;
  const o = embeds.shape[0];
  const b = sparse.shape[0];
  if (sparse.rank !== 3 || sparse.shape[1] !== t || sparse.shape[2] !== d || b !== o * k) {
    throw new RangeError(`shiftForwardGrouped: sparse [${sparse.shape}] must be [${o}·${k}, ${t}, ${d}] for embeds [${embeds.shape}] and ${k} clicks per object`);
  }
  if (embeds.rank !== 4 || embeds.shape[1] !== d || embeds.shape[2] * embeds.shape[3] !== imageTokens) {
    throw new RangeError(`shiftForwardGrouped: embeds [${embeds.shape}] must be [O, ${d}, h, w] with h·w = ${imageTokens}`);
  }
  if (clicks.rank !== 2 || clicks.shape[0] !== b || clicks.shape[1] !== 2) throw new RangeError(`shiftForwardGrouped: clicks [${clicks.shape}] must be [${b}, 2]`);
  const memory = add(permute(reshape(embeds, [o, d, imageTokens]), [0, 2, 1]), block.iPos.get('i_pos'));
  let x = add(sparse, block.pPos.get('p_pos'));
  for (const layer of block.layers) {
    let h = layer.norm1.forward(add(x, layer.selfAttn.selfAttention(x)));
    // Object o's k clicks (k·T tokens) attend to its image: one query batch per object.
    const ca = reshape(layer.multiheadAttn.crossAttention(reshape(h, [o, k * t, d]), memory), [b, t, d]);
    h = layer.norm2.forward(add(h, ca));
    x = layer.norm3.forward(add(h, layer.linear2.forward(relu(layer.linear1.forward(h)))));
  }
  const { delta, attention } = block.shift(x, memory, clicks);
  return { refined: clamp(add(clicks, delta), 0, 1), delta, attention };
}

/**
 * weight · mean over clicks of −Σ_j c_j log a_j (attention [O·k, N] over a g×g token grid, each
 * object's {@link tokenCover} c repeated over its k clicks; made here, only when the term is on).
 */
function coverLoss(attention: Tensor, batch: readonly StepObject[], k: number, weight: number): Tensor {
  const n = attention.shape[1];
  const g = Math.round(Math.sqrt(n));
  const cover = new Float32Array(batch.length * k * n);
  batch.forEach((ob, i) => {
    const c = tokenCover(ob.target.mask, ob.target.origHW[0], ob.target.origHW[1], g);
    for (let j = 0; j < k; j++) cover.set(c, (i * k + j) * n);
  });
  // log(a + 1e-9): the softmax's tail underflows to 0 in f32 where the cover is 0 anyway.
  return mulScalar(sum(mul(tensor(cover, [batch.length * k, n]), log(addScalar(attention, 1e-9)))), -weight / (batch.length * k));
}

/** The image embeddings of a batch's objects stacked [O, C, g, g] (no copy for one object). */
export function stackEmbeds(objects: readonly { features: ImageFeatures }[]): Tensor {
  const e = objects.map((o) => o.features.imageEmbed);
  // reshape: a new view of the same storage, so the caller may dispose it like the cat result.
  return noGrad(() => (e.length === 1 ? reshape(e[0], e[0].shape) : cat(e, 0)));
}

/**
 * Per-click features of a chunk of objects (k clicks each): batch 1 when they all share one
 * image (the decoder broadcasts it), else each object's features repeated k times.
 */
function chunkFeatures(objs: readonly ObjectTargets[], k: number): ImageFeatures {
  const first = objs[0].features;
  if (objs.every((o) => o.features === first)) return first;
  const rep = (pick: (f: ImageFeatures) => Tensor) => cat(objs.map((o) => { const t = pick(o.features); return expand(t, [k, ...t.shape.slice(1)]); }), 0);
  return { imageEmbed: rep((f) => f.imageEmbed), highRes: [rep((f) => f.highRes[0]), rep((f) => f.highRes[1])] };
}

/**
 * SAM 2 (prompt encoder + mask decoder, multimask) on normalised clicks [B, 2] with features of
 * batch 1 or B; returns the best-IoU low-res logits [B, 1, 4g, 4g], differentiable w.r.t. the
 * clicks: SAM 2's `decodeBest` on `clickPrompt(clicks)`, the path `Sam2ImagePredictor.decodeBest` takes.
 */
export function decodeClicks(model: Sam2Model, clicks: Tensor, features: ImageFeatures): { selected: Tensor; iou: Tensor; oneHot: Tensor } {
  const { selected, iou, oneHot } = decodeBest(model, features, clickPrompt(clicks), [1, 1]);
  return { selected, iou, oneHot };
}

/** One single-point target per click: the step towards the object's centroid. */
function centroidCandidates(t: ObjectTargets, clicks: Float32Array, reach: number): Tensor[] {
  const c = centroidTargets(clicks, t.centroid, reach);
  return Array.from({ length: clicks.length / 2 }, (_, i) => tensor(c.subarray(2 * i, 2 * i + 2), [1, 2]));
}

/** One reachable-candidate tensor per click of an object (its global candidates where none is in reach). */
function perClickCandidates(t: ObjectTargets, clicks: Float32Array, reach: number, epsilon: number): Tensor[] {
  const out: Tensor[] = [];
  for (let i = 0; i < clicks.length / 2; i++) {
    const c = reachableCandidates(t.grid!, [clicks[2 * i], clicks[2 * i + 1]], reach, epsilon);
    out.push(c && c.length ? tensor(c, [c.length / 2, 2]) : t.candidates!);
  }
  return out;
}

/**
 * Clicks per decoder pass that keep the decoder's largest activation, [clicks, C/8, 4g, 4g] f32,
 * within half the binding limit (chunks are whole objects, at least one, so an object's k clicks
 * may exceed it: 10 clicks at 1024 px are 84 MB, within lavapipe's 128 MiB).
 */
export function autoDecodeChunk(model: Sam2Model): number {
  const g = model.gridSize;
  const perClick = 4 * (model.dim / 8) * 16 * g * g;
  return Math.max(1, Math.floor(getBackend().maxBinding / 2 / perClick));
}

/** Splits O objects into chunks of whole objects with at most `maxClicks` clicks (≥ 1 object each). */
export function chunkObjects(o: number, k: number, maxClicks: number): [number, number][] {
  const per = Math.max(1, Math.floor(maxClicks / k));
  const out: [number, number][] = [];
  for (let s = 0; s < o; s += per) out.push([s, Math.min(o, s + per)]);
  return out;
}

async function syncTime(timing: boolean, t0: number): Promise<number> {
  if (!timing) return 0;
  await getBackend().sync();
  return performance.now() - t0;
}

/**
 * Forward and backward of one step (see the module comment): adds d loss / d parameter to the
 * shift block's parameters' `.grad` (they must require grad). Does not step an optimizer.
 */
export async function forwardBackward(model: Sam2Model, block: ShiftBlock, batch: readonly StepObject[], options: StepOptions = {}): Promise<StepResult> {
  if (batch.length === 0) throw new Error('forwardBackward: empty batch');
  const k = batch[0].clicks.length / 2;
  if (!Number.isInteger(k) || k < 1 || batch.some((o) => o.clicks.length !== 2 * k)) {
    throw new RangeError(`forwardBackward: every object needs the same number of clicks (got ${batch.map((o) => o.clicks.length / 2).join(', ')})`);
  }
  const loss = { ...PAPER_LOSS, ...options.loss };
  const reach = options.candidateReach ?? 0;
  const toCentroid = options.distTarget === 'centroid';
  const coverWeight = options.coverWeight ?? 0;
  if (coverWeight > 0 && !block.pointer) throw new Error("forwardBackward: the cover term (coverWeight > 0) needs the pointer head (shiftHead 'pointer')");
  if (toCentroid && !(reach > 0)) throw new Error('forwardBackward: the centroid target needs candidateReach > 0 (how far a click may move towards the centroid)');
  if (!toCentroid && reach > 0 && batch.some((x) => !x.target.grid)) throw new Error('forwardBackward: candidateReach needs each object\'s candidate grid (makeTargets(…, grid))');
  const o = batch.length;
  const b = o * k;
  const timing = options.timing ?? false;
  const times: StepTimings = { shiftFwd: 0, decoderFwd: 0, decoderBwd: 0, shiftBwd: 0 };
  if (timing) await getBackend().sync();

  const allClicks = new Float32Array(2 * b);
  batch.forEach((ob, i) => allClicks.set(ob.clicks, 2 * i * k));
  const owned: Tensor[] = [];
  try {
    let t0 = performance.now();
    const clicks = tensor(allClicks, [b, 2]);
    owned.push(clicks);
    const sparse = clickTokens(model, clicks);
    owned.push(sparse);
    const embeds = stackEmbeds(batch.map((x) => x.target));
    owned.push(embeds);
    const shifted = tidy(() => {
      const f = shiftForwardGrouped(block, sparse, embeds, clicks, k);
      return { refined: f.refined, cover: coverWeight > 0 ? coverLoss(f.attention!, batch, k, coverWeight) : null };
    });
    const refined = shifted.refined;
    owned.push(refined);
    if (shifted.cover) owned.push(shifted.cover);
    // r: the refined clicks as a leaf; the decoder chunks accumulate dL/dr into r.grad.
    const r = noGrad(() => mulScalar(refined, 1));
    r.requiresGrad = true;
    owned.push(r);
    times.shiftFwd = await syncTime(timing, t0);

    const chunks = chunkObjects(o, k, options.decodeChunkClicks ?? autoDecodeChunk(model));
    const parts: { total: Tensor; dice: Tensor | null; dist: Tensor | null; out: Tensor | null }[] = [];
    for (const [s, e] of chunks) {
      t0 = performance.now();
      const objs = batch.slice(s, e).map((x) => x.target);
      const part = tidy(() => {
        const rc = slice(r, [{ start: s * k, end: e * k }]);
        // Only the Dice term needs SAM 2's masks: without it the decoder is skipped.
        const dec = loss.useDice ? decodeClicks(model, rc, chunkFeatures(objs, k)) : null;
        const terms = { total: [] as Tensor[], dice: [] as Tensor[], dist: [] as Tensor[], out: [] as Tensor[] };
        objs.forEach((t, j) => {
          const rows = { start: j * k, end: (j + 1) * k };
          const useDist = loss.useDist && (toCentroid || t.candidates !== null);
          const objClicks = batch[s + j].clicks;
          const l = compoundLoss(
            {
              refined: slice(rc, [rows]),
              selectedLogits: dec ? slice(dec.selected, [rows]) : undefined,
              targetLowRes: t.targetLowRes,
              candidates: toCentroid ? centroidCandidates(t, objClicks, reach) : useDist && reach > 0 ? perClickCandidates(t, objClicks, reach, options.reachEpsilon ?? 0.005) : t.candidates ?? undefined,
              gt: t.gt,
            },
            { ...loss, useDist },
          );
          terms.total.push(l.total);
          if (l.dice) terms.dice.push(l.dice);
          if (l.dist) terms.dist.push(l.dist);
          if (l.out) terms.out.push(l.out);
        });
        // Mean over the whole batch's objects: each chunk adds its share.
        const mean = (ts: Tensor[]) => (ts.length ? mulScalar(ts.slice(1).reduce((a, x) => add(a, x), ts[0]), 1 / o) : null);
        return { total: mean(terms.total)!, dice: mean(terms.dice), dist: mean(terms.dist), out: mean(terms.out) };
      });
      parts.push(part);
      for (const v of Object.values(part)) if (v) owned.push(v);
      times.decoderFwd += await syncTime(timing, t0);
      t0 = performance.now();
      backward(part.total);
      times.decoderBwd += await syncTime(timing, t0);
    }
    t0 = performance.now();
    if (!r.grad) throw new Error('forwardBackward: no gradient reached the refined clicks');
    if (shifted.cover) {
      // Σ refined·dL/dr + cover: its gradient is the chain rule's through r plus the cover term's.
      const rGrad = r.grad;
      const seed = tidy(() => add(sum(mul(refined, rGrad)), shifted.cover!));
      owned.push(seed);
      backward(seed);
    } else backward(refined, { grad: r.grad });
    times.shiftBwd = await syncTime(timing, t0);

    const read = async (pick: (p: (typeof parts)[number]) => Tensor | null): Promise<number | null> => {
      const ts = parts.map(pick).filter((t): t is Tensor => t !== null);
      if (!ts.length) return null;
      const vs = await Promise.all(ts.map((t) => t.item()));
      return vs.reduce((a, v) => a + v, 0);
    };
    const coverValue = shifted.cover ? await shifted.cover.item() : null;
    const result: StepResult = {
      total: (await read((p) => p.total))! + (coverValue ?? 0),
      dice: loss.useDice ? await read((p) => p.dice) : null,
      dist: loss.useDist ? await read((p) => p.dist) : null,
      out: loss.useOut ? await read((p) => p.out) : null,
      cover: coverValue,
      clicks: b,
      objects: o,
    };
    if (timing) result.timings = times;
    return result;
  } finally {
    for (const t of owned) t.dispose();
  }
}

/** Evaluation of clicks on objects (no gradient): per click Dice at the original size. */
export interface ClickEval {
  /** Per object, per click: Dice of SAM 2's best-IoU mask from the refined click vs the ground truth. */
  refinedDice: Float32Array[];
  /** The same for the raw click (without the shift block). */
  rawDice: Float32Array[];
  /** Refined clicks, normalised [k·2] per object. */
  refined: Float32Array[];
}

/**
 * Dice at the original size (logits bilinearly upsampled, > 0) of SAM 2's best-IoU multimask
 * output for clicks [k·2] (normalised) of one object; no gradient.
 */
async function diceOfClicks(model: Sam2Model, t: ObjectTargets, clicks: Float32Array): Promise<Float32Array> {
  const k = clicks.length / 2;
  const [h, w] = t.origHW;
  const out = noGrad(() =>
    tidy(() => {
      const c = tensor(clicks, [k, 2]);
      const { selected } = decodeClicks(model, c, t.features);
      const pred = reshape(greater(interpolate(selected, { size: [h, w], mode: 'bilinear', alignCorners: false }), 0), [k, h * w]);
      return { inter: matmul(pred, reshape(t.gt, [h * w, 1])), area: sum(pred, 1), gtArea: sum(t.gt) };
    }),
  );
  try {
    const [iv, av, gv] = await Promise.all([out.inter.data(), out.area.data(), out.gtArea.item()]);
    return Float32Array.from({ length: k }, (_, i) => (av[i] + gv === 0 ? 1 : (2 * iv[i]) / (av[i] + gv)));
  } finally {
    out.inter.dispose();
    out.area.dispose();
    out.gtArea.dispose();
  }
}

/** Refined clicks (normalised) of k clicks per object, grouped as in training, after the block's refineSteps; no gradient. */
export async function refineClicks(model: Sam2Model, block: ShiftBlock, objects: readonly StepObject[]): Promise<Float32Array[]> {
  const k = objects[0].clicks.length / 2;
  const b = objects.length * k;
  const all = new Float32Array(2 * b);
  objects.forEach((ob, i) => all.set(ob.clicks, 2 * i * k));
  const steps = refineStepsOf(block.config);
  const refined = noGrad(() =>
    tidy(() => {
      let clicks = tensor(all, [b, 2]);
      const embeds = stackEmbeds(objects.map((x) => x.target));
      for (let s = 0; s < steps; s++) clicks = shiftForwardGrouped(block, clickTokens(model, clicks), embeds, clicks, k).refined;
      return clicks;
    }),
  );
  try {
    const d = await refined.data();
    return objects.map((_, i) => d.slice(2 * i * k, 2 * (i + 1) * k));
  } finally {
    refined.dispose();
  }
}

/**
 * Validation: for each object its clicks are refined and SAM 2 segments from the refined click
 * (multimask, best predicted IoU, as the paper); Dice against the ground truth at the original
 * size. With `raw`, the raw clicks are scored too.
 */
export async function evaluateClicks(model: Sam2Model, block: ShiftBlock, objects: readonly StepObject[], options: { raw?: boolean; groupSize?: number } = {}): Promise<ClickEval> {
  const res: ClickEval = { refinedDice: [], rawDice: [], refined: [] };
  const group = options.groupSize ?? 8;
  for (let s = 0; s < objects.length; s += group) {
    const part = objects.slice(s, s + group);
    const refined = await refineClicks(model, block, part);
    for (let j = 0; j < part.length; j++) {
      res.refined.push(refined[j]);
      res.refinedDice.push(await diceOfClicks(model, part[j].target, refined[j]));
      if (options.raw) res.rawDice.push(await diceOfClicks(model, part[j].target, part[j].clicks));
    }
  }
  return res;
}

/**
 * Whether a click (pixels, continuous) lies in the candidate region of an object: within half a
 * grid step (per axis) of a candidate grid point, i.e. in the grid cell a candidate stands for.
 */
export function inCandidateRegion(xPx: number, yPx: number, gridPx: Float32Array, isCandidate: Uint8Array, gridStep: number): boolean {
  const r = gridStep / 2;
  for (let i = 0; i < isCandidate.length; i++) {
    if (!isCandidate[i]) continue;
    if (Math.abs(xPx - gridPx[2 * i]) <= r && Math.abs(yPx - gridPx[2 * i + 1]) <= r) return true;
  }
  return false;
}
