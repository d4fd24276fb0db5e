/**
 * The one place where prompts become model input: clicks and boxes in original-image pixels (or
 * normalised to [0, 1]) → model-frame points [B, N, 2] with their labels and the padding point
 * ({@link promptPoints}) → the prompt encoder's sparse tokens ({@link promptTokens}) → the mask
 * decoder ({@link decodePrompt}). `Sam2ImagePredictor.decode`, RP-SAM2's click tokens and
 * refined-click decode, its training step and the candidate search all go through here.
 */
import { cat, keep, mul, reshape, tensor, type Tensor } from '@rpsam2/tensor';
import type { ImageFeatures, Sam2Model } from '../model/sam2-model.js';
import type { DecodeResult, Prompt } from './image-predictor.js';
import { clickProblem } from './transforms.js';

/**
 * Prompt coordinates → model-frame points [B, N, 2] and labels: boxes first (labels 2, 3), then
 * the clicks (1 positive, 0 negative), then the padding point (0, 0) with label −1, as the
 * official predictor does. Pixels are scaled by S/W and S/H (`normalizeCoords`, default), points
 * normalised to [0, 1] by S (S = `imageSize`, the model's input size). Differentiable w.r.t. a
 * points tensor.
 */
export function promptPoints(p: Prompt, origHW: readonly [number, number], imageSize: number): { points: Tensor; labels: number[][] } {
  const [h, w] = origHW;
  const s = imageSize;
  const normalize = p.normalizeCoords ?? true;
  const sx = normalize ? s / w : s;
  const sy = normalize ? s / h : s;
  const parts: Tensor[] = [];
  let labels: number[][] | null = null;
  const boxes = p.box === undefined ? null : (Array.isArray(p.box[0]) ? (p.box as number[][]) : [p.box as number[]]);
  if (boxes) {
    for (const b of boxes) {
      if (b.length !== 4) throw new Error(`predict: a box must be [x0, y0, x1, y1], got [${b}]`);
      if (!b.every(Number.isFinite)) throw new Error(`predict: box [${b}]: the corners must be finite numbers in pixels`);
    }
    parts.push(tensor(boxes.flatMap((b) => [b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy]), [boxes.length, 2, 2]));
    labels = boxes.map(() => [2, 3]);
  }
  if (p.points !== undefined) {
    let pts: Tensor;
    let lab: number[][];
    if ((p.points as Tensor).isTensor) {
      const t = p.points as Tensor;
      if (t.rank !== 3 || t.shape[2] !== 2) throw new Error(`predict: points tensor must be [B, N, 2], got [${t.shape}]`);
      pts = mul(t, tensor([sx, sy], [2]));
      lab = toBatch(p.labels, t.shape[0], t.shape[1]);
    } else {
      const arr = p.points as number[][] | number[][][];
      const batched = Array.isArray(arr[0]?.[0]);
      const objs = (batched ? arr : [arr]) as number[][][];
      const n = objs[0]?.length ?? 0;
      if (objs.some((o) => o.length !== n || o.some((q) => q.length !== 2))) throw new Error('predict: every object needs the same number of [x, y] points');
      // NaN or ±Infinity would pass through the encoder silently and give a meaningless mask.
      for (const q of objs.flat()) {
        const bad = clickProblem(q[0], q[1]);
        if (bad) throw new Error(`predict: ${bad}; give [x, y] in pixels`);
      }
      pts = tensor(objs.flatMap((o) => o.flatMap(([x, y]) => [x * sx, y * sy])), [objs.length, n, 2]);
      lab = toBatch(p.labels, objs.length, n);
    }
    if (labels && labels.length !== pts.shape[0]) {
      if (labels.length === 1) labels = Array.from({ length: pts.shape[0] }, () => [2, 3]);
      else throw new Error(`predict: ${labels.length} boxes but ${pts.shape[0]} point sets`);
    }
    if (parts.length && parts[0].shape[0] !== pts.shape[0]) parts[0] = tidyExpand(parts[0], pts.shape[0]);
    parts.push(pts);
    labels = labels ? labels.map((l, i) => [...l, ...lab[i]]) : lab;
  }
  if (!labels) throw new Error('predict: give at least one click or a box');
  const b = labels.length;
  parts.push(tensor(new Float32Array(b * 2), [b, 1, 2]));
  labels = labels.map((l) => [...l, -1]);
  return { points: parts.length === 1 ? parts[0] : cat(parts, 1), labels };
}

/**
 * The prompt of one positive click per object, normalised to [0, 1]: clicks [B, 2] as (x/W, y/H)
 * (e.g. RP-SAM2's refined clicks), multimask output. Differentiable w.r.t. `clicks`.
 */
export function clickPrompt(clicks: Tensor): Prompt {
  if (clicks.rank !== 2 || clicks.shape[1] !== 2) throw new RangeError(`clickPrompt: clicks [${clicks.shape}] must be [B, 2]`);
  const b = clicks.shape[0];
  return { points: reshape(clicks, [b, 1, 2]), labels: Array.from({ length: b }, () => [1]), normalizeCoords: false, multimaskOutput: true };
}

/** The prompt encoder's sparse tokens [B, N + 1, C] of a prompt's points (with the padding point). */
export function promptTokens(model: Sam2Model, p: Prompt, origHW: readonly [number, number]): Tensor {
  const { points, labels } = promptPoints(p, origHW, model.cfg.imageSize);
  return model.promptEncoder.embedPoints(points, labels);
}

/**
 * Prompt encoder + mask decoder on an image's features (batch 1, broadcast, or one per object):
 * differentiable w.r.t. a points tensor. `origHW` scales pixel prompts (unused for normalised
 * ones). Call inside `tidy`.
 */
export function decodePrompt(model: Sam2Model, features: ImageFeatures, p: Prompt, origHW: readonly [number, number]): DecodeResult {
  const pe = model.promptEncoder;
  const sparse = promptTokens(model, p, origHW);
  const b = sparse.shape[0];
  let dense: Tensor;
  if (p.maskInput) {
    const m = p.maskInput.rank === 3 ? p.maskInput.view([1, ...p.maskInput.shape]) : p.maskInput;
    dense = pe.embedMask(m);
  } else dense = pe.noMaskEmbedding();
  const raw = model.maskDecoder.predictMasks(features.imageEmbed, pe.denseEncoding(), sparse, dense, features.highRes, pe.denseEncodingTokens());
  const { masks, iou } = model.maskDecoder.selectMasks(raw, p.multimaskOutput ?? true, { hqTokenOnly: p.hqTokenOnly ?? false });
  return { sparse, dense, raw, lowRes: masks, iou };
}

function toBatch(labels: number[] | number[][] | undefined, b: number, n: number): number[][] {
  if (labels === undefined) throw new Error('predict: points need labels (1 = positive, 0 = negative)');
  const l = (Array.isArray(labels[0]) ? labels : [labels]) as number[][];
  if (l.length !== b || l.some((r) => r.length !== n)) throw new Error(`predict: labels must be ${b}×${n} to match the points`);
  for (const r of l) for (const v of r) if (v !== 0 && v !== 1) throw new Error(`predict: click labels must be 0 or 1, got ${v}`);
  return l;
}

function tidyExpand(t: Tensor, b: number): Tensor {
  return keep(cat(Array.from({ length: b }, () => t), 0));
}
