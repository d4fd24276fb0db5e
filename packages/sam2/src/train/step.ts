/**
 * One SAM 2 training step on a batch of frames, as the official trainer does it for images:
 * the encoder runs with gradients on every frame; each frame's objects get a first prompt (one
 * click drawn uniformly from the object's pixels in the frame, or a jittered box), decoded with
 * multimask output for a single click (best of three in the loss; with `multimaskProbability`
 * < 1 some single clicks use the single-mask token) and with the single-mask token otherwise; some objects get a correction round — a click drawn from the error region of the
 * first prediction, added to the first prompt, single-mask token. Every round's loss counts
 * (summed over rounds and objects, divided by the number of objects, as the official
 * MultiStepMultiMasksAndIous).
 *
 * The loss is computed, as the official trainer does, on the decoder's low-resolution logits
 * upsampled bilinearly (as inference upsamples them) — by `lossUpsample` (default 4: the full
 * S×S input) — against soft targets (the fraction of each loss-grid cell inside the object).
 * A loss on the low-res grid itself would be cheaper but cannot teach objects thinner than half a
 * cell: their coverage stays below 0.5 everywhere, so the best low-res logit is negative and the
 * upsampled mask empty (surgical instruments are often that thin at S/4).
 */
import { add, backward, cat, interpolate, keep, noGrad, slice, tensor, tidy, type Tensor } from '@rpsam2/tensor';
import type { Sam2Model } from '../model/sam2-model.js';
import { preprocess } from '../predictor/transforms.js';
import { maskCoverage, type TrainSample } from './data.js';
import { sam2Loss, type Sam2LossWeights } from './losses.js';
import { correctionClick, firstClick, noisyBox, type PromptRng } from './prompt-sampler.js';

/** Prompting and loss settings of a step. */
export interface StepOptions {
  /** Objects prompted per frame (instruments first, then anatomy). */
  objectsPerImage: number;
  /**
   * At most this many anatomy objects per frame (default: no limit). Anatomy (one cornea, one
   * pupil per frame) can be segmented without looking at the click; instruments of the same
   * frame cannot, so they are what teaches the decoder to follow the prompt.
   */
  maxAnatomyPerImage?: number;
  /**
   * Independent first prompts per object (each its own decoder batch entry). The decoder is cheap
   * next to the encoder, so several prompts per encoded frame teach prompt-following faster (SAM
   * trains with up to 64 masks per image).
   */
  promptsPerObject?: number;
  /**
   * Probability that an object's first prompt is a box instead of a click (SAM draws a box or
   * clicks with equal probability; boxes localise the object and teach the decoder to use the
   * prompt's position sooner).
   */
  boxProbability: number;
  /** Probability that an object gets a correction round. */
  correctionProbability: number;
  /**
   * Probability that a single-click first prompt is decoded with the three multimask tokens and
   * the best-of-three loss (default 1, as the official trainer); otherwise the single-mask token
   * decodes it. With few objects per frame, three mask slots can become three classes ("every
   * instrument", "pupil", "cornea") that score well on best-of-three whatever the click, so the
   * loss alone never asks the decoder to read the click; a single-mask share does.
   */
  multimaskProbability?: number;
  /**
   * The loss compares the low-res logits upsampled by this factor (1, 2 or 4; default 4, i.e. at
   * the S×S input resolution as the official trainer) with the targets at that resolution.
   */
  lossUpsample?: number;
  /**
   * The IoU head's loss: 'mse' (default; as SAM's paper) or 'l1' (the SAM 2.1 training config).
   * From scratch, L1 traps the head: early masks have IoU ≈ 0 for most prompts, L1 fits their
   * median, and Adam's sign-like steps keep pushing the sigmoid down until it saturates at 0 for
   * every mask (seen in training: every predicted IoU 0.00, so inference picks a mask at random).
   * The squared error fits the mean, which stays inside the sigmoid's range.
   */
  iouLoss?: 'mse' | 'l1';
  /** Loss weights (default: the official focal 20, Dice 1, IoU 1, object score 1). */
  weights?: Partial<Sam2LossWeights>;
  /**
   * Run the image encoder without gradients (default false): only the prompt encoder and the
   * mask decoder learn (the decoder's high-res convolutions run with the encoder and stay as
   * they are). The trainer leaves the frozen parameters out of the optimizer.
   */
  freezeEncoder?: boolean;
  /**
   * Keep the prompt encoder out of the optimizer too (default false): with `freezeEncoder`, only
   * the mask decoder learns (fine-tuning a trained SAM 2's decoder on new masks).
   */
  freezePromptEncoder?: boolean;
}

/** What a step measured (host numbers; loss terms unweighted, summed over rounds). */
export interface StepStats {
  loss: number;
  focal: number;
  dice: number;
  iou: number;
  objScore: number;
  /** Mean IoU (on the low-res grid) of the first-round mask picked by predicted IoU, as inference picks it. */
  firstRoundIou: number;
  objects: number;
}

/** A prompt in model-frame pixel coordinates. */
interface PromptPoints {
  points: [number, number][];
  labels: number[];
}

/** One prompted object of the step. */
interface StepObject {
  image: number;
  /** Soft target on the low-res grid (picks correction clicks, measures the first round's IoU). */
  target: Float32Array;
  /** Soft target on the loss grid. */
  lossTarget: Float32Array;
  first: PromptPoints;
  /** Whether the first round decodes with the multimask tokens (a single click, drawn per `multimaskProbability`). */
  multimask: boolean;
  corrected: boolean;
}

/** Picks the objects of a frame: instruments in random order, then anatomy, up to `max` (one draw per object). */
function chooseObjects(sample: TrainSample, max: number, maxAnatomy: number, rng: PromptRng): number[] {
  const drawn = sample.objects.map((o, i) => ({ o, i, r: rng.next() })).filter((e) => e.o.mask.some((v) => v !== 0));
  const order = (kind: 'instrument' | 'anatomy') =>
    drawn
      .filter((e) => e.o.kind === kind)
      .sort((a, b) => a.r - b.r)
      .map((e) => e.i);
  return [...order('instrument'), ...order('anatomy').slice(0, maxAnatomy)].slice(0, max);
}

/** The first prompt of an object, drawn in frame pixels and mapped to the model frame as the predictor maps clicks. */
function firstPrompt(mask: Uint8Array, width: number, height: number, size: number, box: boolean, rng: PromptRng): PromptPoints {
  const m = { width, height, data: mask };
  const [sx, sy] = [size / width, size / height];
  if (box) {
    // The official jitter is 10% of the side, at most 20 px at 1024: scale the cap with the frame.
    const [x0, y0, x1, y1] = noisyBox(m, rng, 0.1, (20 * Math.max(width, height)) / 1024);
    return { points: [[x0 * sx, y0 * sy], [x1 * sx, y1 * sy]], labels: [2, 3] };
  }
  const c = firstClick(m, rng);
  return { points: [[c.x * sx, c.y * sy]], labels: [1] };
}

/**
 * Runs forward and backward for one batch (gradients accumulate into the parameters' `.grad`;
 * the caller clips and steps the optimizer). Returns the step's statistics.
 */
export async function trainStep(model: Sam2Model, samples: TrainSample[], options: StepOptions, rng: PromptRng): Promise<StepStats> {
  const S = model.cfg.imageSize;
  const L = model.promptEncoder.maskInputSize; // the decoder's low-res grid (S/4)
  const cell = S / L;
  const up = options.lossUpsample ?? 4;
  if (![1, 2, 4].includes(up)) throw new Error(`trainStep: lossUpsample must be 1, 2 or 4, got ${up}`);
  const G = L * up; // side of the loss grid
  const mmP = options.multimaskProbability ?? 1;
  if (!(mmP >= 0 && mmP <= 1)) throw new Error(`trainStep: multimaskProbability must be in [0, 1], got ${mmP}`);
  const objects: StepObject[] = [];
  samples.forEach((sample, image) => {
    const { width, height } = sample.image;
    for (const k of chooseObjects(sample, options.objectsPerImage, options.maxAnatomyPerImage ?? Infinity, rng)) {
      const mask = sample.objects[k].mask;
      const target = maskCoverage(mask, width, height, L);
      const lossTarget = up === 1 ? target : maskCoverage(mask, width, height, G);
      for (let j = 0; j < (options.promptsPerObject ?? 1); j++) {
        const box = rng.next() < options.boxProbability;
        objects.push({
          image,
          target,
          lossTarget,
          first: firstPrompt(mask, width, height, S, box, rng),
          multimask: !box && (mmP >= 1 || rng.next() < mmP),
          corrected: rng.next() < options.correctionProbability,
        });
      }
    }
  });
  if (objects.length === 0) throw new Error('trainStep: no frame of the batch has an object to prompt');
  const n = objects.length;
  const targets = (objs: StepObject[]) => {
    const t = new Float32Array(objs.length * G * G);
    objs.forEach((o, i) => t.set(o.lossTarget, i * G * G));
    return tensor(t, [objs.length, 1, G, G]);
  };

  type Terms = { total: Tensor; focal: Tensor; dice: Tensor; iou: Tensor; objScore: Tensor };
  const terms: Terms[] = [];
  let firstIouSum = 0;
  const firstMasks = new Map<StepObject, Uint8Array>();
  const encode = () => tidy(() => model.forwardImage(cat(samples.map((s) => preprocess(s.image, S)), 0)));
  const features = options.freezeEncoder ? noGrad(encode) : encode();
  try {
    /** Decodes one group (one frame, one prompt shape) and returns its loss terms and outputs. */
    const decodeGroup = (objs: StepObject[], prompts: PromptPoints[], multimask: boolean) =>
      tidy(() => {
        const img = objs[0].image;
        const pick = (t: Tensor) => slice(t, [{ start: img, end: img + 1 }]);
        const pe = model.promptEncoder;
        // As SAM 2 always does (boxes travel as corner points): a padding point (label −1) ends every prompt.
        const pts = tensor(prompts.flatMap((p) => [...p.points.flat(), 0, 0]), [objs.length, prompts[0].points.length + 1, 2]);
        const sparse = pe.embedPoints(pts, prompts.map((p) => [...p.labels, -1]));
        const raw = model.maskDecoder.predictMasks(
          pick(features.imageEmbed),
          pe.denseEncoding(),
          sparse,
          pe.noMaskEmbedding(),
          [pick(features.highRes[0]), pick(features.highRes[1])],
          pe.denseEncodingTokens(),
        );
        const tokens = multimask ? { start: 1 } : { start: 0, end: 1 };
        const logits = slice(raw.masks, [null, tokens]);
        const iou = slice(raw.iou, [null, tokens]);
        // Every group divides by the step's object count, so the groups' losses add up to the official normalisation.
        const lossLogits = up === 1 ? logits : interpolate(logits, { size: [G, G], mode: 'bilinear', alignCorners: false });
        const loss = sam2Loss({ masks: lossLogits, iou, objectScore: raw.objectScore }, targets(objs), { weights: options.weights, numObjects: n, iouUseL1Loss: options.iouLoss === 'l1' });
        const t: Terms = { total: keep(loss.total), focal: keep(loss.focal), dice: keep(loss.dice), iou: keep(loss.iou), objScore: keep(loss.objScore) };
        return { terms: t, logits: keep(logits), predIou: keep(iou) };
      });

    for (const round of [1, 2] as const) {
      for (let img = 0; img < samples.length; img++) {
        // One decoder call per prompt shape (tokens per prompt, multimask or not).
        const shapes = new Set(objects.filter((o) => o.image === img).map((o) => `${o.first.points.length}:${o.multimask}`));
        for (const shape of shapes) {
          const objs = objects.filter((o) => o.image === img && `${o.first.points.length}:${o.multimask}` === shape && (round === 1 || o.corrected));
          if (objs.length === 0) continue;
          const prompts =
            round === 1
              ? objs.map((o) => o.first)
              : objs.map((o) => {
                  // The correction click comes from the error of the first-round mask (on the low-res grid), at the cell's centre.
                  const gt = { width: L, height: L, data: Uint8Array.from(o.target, (v) => (v >= 0.5 ? 1 : 0)) };
                  const c = correctionClick(gt, { width: L, height: L, data: firstMasks.get(o)! }, rng);
                  return { points: [...o.first.points, [(c.x + 0.5) * cell - 0.5, (c.y + 0.5) * cell - 0.5]], labels: [...o.first.labels, c.label] } as PromptPoints;
                });
          const r = decodeGroup(objs, prompts, round === 1 && objs[0].multimask);
          terms.push(r.terms);
          try {
            if (round === 1) {
              // The mask inference would return (highest predicted IoU) seeds the correction click.
              const [logits, predIou] = [await r.logits.data(), await r.predIou.data()];
              const k = r.logits.shape[1];
              objs.forEach((o, i) => {
                let best = 0;
                for (let j = 1; j < k; j++) if (predIou[i * k + j] > predIou[i * k + best]) best = j;
                const m = new Uint8Array(L * L);
                const off = (i * k + best) * L * L;
                let inter = 0;
                let uni = 0;
                for (let p = 0; p < L * L; p++) {
                  m[p] = logits[off + p] > 0 ? 1 : 0;
                  const t = o.target[p] >= 0.5 ? 1 : 0;
                  inter += m[p] & t;
                  uni += m[p] | t;
                }
                firstIouSum += uni > 0 ? inter / uni : 1;
                firstMasks.set(o, m);
              });
            }
          } finally {
            r.logits.dispose();
            r.predIou.dispose();
          }
        }
      }
    }
    const total = tidy(() => terms.map((t) => t.total).reduce((a, b) => add(a, b)));
    try {
      backward(total);
      const sumOf = async (key: keyof Terms) => {
        let s = 0;
        for (const t of terms) s += (await t[key].data())[0];
        return s;
      };
      return {
        loss: (await total.data())[0],
        focal: await sumOf('focal'),
        dice: await sumOf('dice'),
        iou: await sumOf('iou'),
        objScore: await sumOf('objScore'),
        firstRoundIou: firstIouSum / n,
        objects: n,
      };
    } finally {
      total.dispose();
    }
  } finally {
    for (const t of terms) for (const v of Object.values(t)) if (!v.isDisposed) v.dispose();
    features.imageEmbed.dispose();
    features.highRes.forEach((t) => t.dispose());
  }
}
