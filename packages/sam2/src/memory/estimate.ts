/**
 * GPU memory estimate of the SAM 2 image path, from the config alone (no device): the weights
 * (f32, or f16 for the Linear/Conv weights), and the activation peak of one encoder pass and of
 * one decoder call. The encoder's peak comes from replaying how this implementation allocates:
 * every op output is a new buffer (reshape is a view; permute, slice, pad and transpose copy),
 * each Hiera block's intermediates are freed when the block ends, and attention/MLP work is cut
 * into row chunks where an intermediate would exceed the largest storage binding. Weights are
 * counted with the pool's bucket rounding. Checked against `measureEncoder` (what
 * `sam2 info --measure` prints; test/memory.test.ts) on lavapipe, 2026-12-07, after attention
 * stopped copying its heads: the fixture's tiny config at 256 −5.5%, Hiera-T at 256 −7.7% (f16
 * weights).
 */
import { bucketSize, MATERIALIZED_SCORE_BYTES } from '@rpsam2/tensor';
import type { Sam2Config } from '../config.js';
import { Sam2Model } from '../model/sam2-model.js';

/** The parameter count (elements) of one module of the model, by state-dict prefix. */
export interface ModuleParams {
  /** State-dict prefix (e.g. 'image_encoder.trunk'). */
  name: string;
  parameters: number;
}

/**
 * The result of {@link estimateMemory}: parameter counts and GPU memory (bytes) of the image path
 * at one image size, for f32 and f16 weights.
 */
export interface MemoryEstimate {
  imageSize: number;
  /** Parameter elements of the image path, total and per top-level module. */
  parameters: number;
  modules: ModuleParams[];
  /** Pool bytes of the weights stored f32, and with `dtype: 'f16'` (Linear/Conv weights as f16). */
  weightsF32: number;
  weightsF16: number;
  /** Peak bytes of the encoder's activations above the weights (one image). */
  encoderActivations: number;
  /** Bytes of one image's cached features (image embedding + two high-resolution maps). */
  features: number;
  /** Peak bytes of one decoder call (one object, 4 mask tokens) above weights and features, without the full-size masks. */
  decoderActivations: number;
  /** Total peaks: weights + max(encoder, features + decoder) (+ the largest f32 copy of an f16 weight, for f16). */
  peakF32: number;
  peakF16: number;
}

const F = 4; // bytes per f32

/** Parameter counts per top-level module and per trunk/neck. */
export function parameterBreakdown(model: Sam2Model): ModuleParams[] {
  const groups = ['image_encoder.trunk', 'image_encoder.neck', 'sam_prompt_encoder', 'sam_mask_decoder', 'no_mem_embed'];
  const out = groups.map((name) => ({ name, parameters: 0 }));
  for (const [key, slot] of model.namedParams()) {
    const g = out.find((o) => key === o.name || key.startsWith(o.name + '.'));
    const n = slot.shape.reduce((a, b) => a * b, 1);
    if (g) g.parameters += n;
    else out.push({ name: key, parameters: n });
  }
  return out;
}

/** A live/peak counter of f32 values, replaying the allocation order of a forward pass. */
class LiveSet {
  live = 0;
  peak = 0;
  alloc(n: number): void {
    this.live += n;
    this.peak = Math.max(this.peak, this.live);
  }
  free(n: number): void {
    this.live -= n;
  }
}

/**
 * Whether attention over heads of dim `headDim` and `queries` queries (per window) keeps no score
 * matrix on the device the estimate is for (the register kernel: `packedAttentionUsesRegisterKernel`
 * of @rpsam2/tensor on the current device). Without a device the estimate assumes scores: an
 * upper bound.
 */
export type NoScores = (headDim: number, queries: number) => boolean;

/**
 * One Hiera block on an h×w×c input (already live), as `MultiScaleBlock.forward` allocates:
 * the windows' attention and the MLP run in row chunks when their largest intermediate would
 * exceed `maxBinding` (see nn/chunk.ts). Leaves only the block's output live.
 */
function simulateBlock(m: LiveSet, h: number, w: number, c: number, cOut: number, ws: number, pooled: boolean, hidden: number, heads: number, maxBinding: number, noScores: NoScores): { h: number; w: number } {
  const start = m.live;
  const n = h * w;
  const s = pooled ? 2 : 1;
  const [ho, wo] = [Math.ceil(h / s), Math.ceil(w / s)];
  const no = ho * wo;
  const [hp, wp] = ws > 0 ? [Math.ceil(h / ws) * ws, Math.ceil(w / ws) * ws] : [h, w];
  const np = hp * wp;
  const npo = np / (s * s);
  const padded = hp !== h || wp !== w;
  m.alloc(n * c); // norm1
  if (c !== cOut) {
    m.alloc(n * cOut); // shortcut projection
    if (pooled) m.alloc(no * cOut); // max pool, channels last
  }
  if (ws > 0) m.alloc((padded ? np * c : 0) + np * c); // pad, window permute
  // Attention over token groups of `t` tokens (pooled to t/s²), as packedAttention runs it
  // without gradients: the packed qkv projection, the pooled q (its slice and the channels-last
  // pool), the output written in place; a materialised chunk of scores and its probabilities are
  // transient (none where the register kernel runs: `noScores`). Then the output projection.
  const beforeAttention = (t: number) => {
    const to = t / (s * s);
    return 3 * t * cOut + (pooled ? t * cOut + to * cOut : 0) + to * cOut;
  };
  const scoreTransient = (t: number) => {
    const keys = ws > 0 ? ws * ws : np;
    if (noScores(cOut / heads, keys / (s * s))) return 0;
    const scores = (t / keys) * heads * (keys / (s * s)) * keys;
    return 2 * Math.min(scores, Math.min(MATERIALIZED_SCORE_BYTES, maxBinding) / 4);
  };
  const afterAttention = (t: number) => (t / (s * s)) * cOut;
  const attention = (t: number) => {
    m.alloc(beforeAttention(t));
    m.alloc(scoreTransient(t));
    m.free(scoreTransient(t));
    m.alloc(afterAttention(t));
    return beforeAttention(t) + afterAttention(t);
  };
  const rows = ws > 0 ? Math.max(1, Math.floor(maxBinding / (4 * ws * ws * 3 * cOut))) : Infinity;
  const windows = ws > 0 ? np / (ws * ws) : 1;
  if (windows > rows) {
    for (let done = 0; done < windows; done += rows) {
      const t = Math.min(rows, windows - done) * ws * ws;
      m.alloc(t * c); // the chunk's slice
      const live = t * c + attention(t); // and its intermediates
      m.free(live - (t / (s * s)) * cOut); // all but its output
    }
    m.alloc(npo * cOut); // cat
    m.free(npo * cOut); // the chunk outputs
  } else {
    attention(np);
  }
  if (ws > 0) m.alloc(npo * cOut + (padded ? no * cOut : 0)); // unpartition (+ crop)
  m.alloc(2 * no * cOut); // residual add, norm2
  const mlpRows = Math.max(1, Math.floor(maxBinding / (4 * hidden)));
  if (no > mlpRows) {
    for (let done = 0; done < no; done += mlpRows) {
      const t = Math.min(mlpRows, no - done);
      m.alloc(t * cOut + 2 * t * hidden + t * cOut); // slice, fc1, gelu, fc2
      m.free(t * cOut + 2 * t * hidden);
    }
    m.alloc(no * cOut); // cat
    m.free(no * cOut);
  } else {
    m.alloc(2 * no * hidden + no * cOut); // fc1, gelu, fc2
  }
  m.alloc(no * cOut); // residual add: the output
  // The block's scope ends: only its output stays; the caller then frees the input.
  m.free(m.live - start - no * cOut);
  m.free(n * c);
  return { h: ho, w: wo };
}

/**
 * Bytes of the encoder's activation peak for `imageSize` (default the config's) on a device
 * whose largest storage binding is `maxBinding` (which decides the chunking; default 128 MiB).
 */
export function encoderActivationBytes(cfg: Sam2Config, imageSize = cfg.imageSize, maxBinding = 128 * 2 ** 20, noScores: NoScores = () => false): number {
  const t = cfg.trunk;
  let h = imageSize / 4;
  let w = imageSize / 4;
  let c = t.embedDim;
  const m = new LiveSet();
  // Pixels, the patch embedding (conv output + NHWC permute) and the positional embedding
  // (bicubic background, tiled window, their sum, NHWC permute) stay until the pass ends; the
  // sum with the patch embedding is the first block's input.
  m.alloc(3 * imageSize * imageSize + 6 * h * w * c + h * w * c);
  const stageEnds = t.stages.map((_, i) => t.stages.slice(0, i + 1).reduce((a, b) => a + b, 0) - 1);
  const qPoolBlocks = stageEnds.slice(0, -1).map((e) => e + 1).slice(0, t.qPool);
  let stage = 0;
  const depth = stageEnds[stageEnds.length - 1] + 1;
  for (let i = 0; i < depth; i++) {
    let cOut = c;
    const ws = t.globalAttBlocks.includes(i) ? 0 : t.windowSpec[stage];
    if (i > 0 && stageEnds.includes(i - 1)) {
      cOut = Math.floor(c * t.dimMul);
      stage++;
    }
    const heads = Math.floor(t.numHeads * t.headMul ** stage);
    ({ h, w } = simulateBlock(m, h, w, c, cOut, ws, qPoolBlocks.includes(i), Math.floor(cOut * t.mlpRatio), heads, maxBinding, noScores));
    c = cOut;
    if (stageEnds.includes(i)) m.alloc(h * w * c); // the stage's NCHW output
  }
  m.free(h * w * c); // the last block's output
  // Neck + high-res convs: a lateral conv per level, upsample + sum on the top-down levels,
  // conv_s0/conv_s1 and the no-mem add; on top of the stage outputs.
  const d = cfg.neck.dModel;
  const sizes = t.stages.map((_, i) => (imageSize / 4 / 2 ** i) ** 2);
  m.alloc(sizes.reduce((a, n) => a + 3 * n * d, 0) + sizes[0] * (d / 8) + sizes[1] * (d / 4) + sizes[2] * d);
  return m.peak * F;
}

/** Bytes of one image's cached features. */
export function featureBytes(cfg: Sam2Config, imageSize = cfg.imageSize): number {
  const g = imageSize / 16;
  const d = cfg.neck.dModel;
  return (d * g * g + (d / 8) * 16 * g * g + (d / 4) * 4 * g * g) * F;
}

/** Bytes of one decoder call's activations (one object). */
export function decoderActivationBytes(cfg: Sam2Config, imageSize = cfg.imageSize): number {
  const g = imageSize / 16;
  const d = cfg.neck.dModel;
  const cg = d * g * g;
  // Image side of the two-way transformer: src, pos, flattened keys/pos, per layer the k/v
  // projections at half width, the attention output and norms; then the ×4 upscaling with the
  // high-res adds and the 4 masks at 4g×4g.
  const transformer = 4 * cg + 2 * (6 * cg) + 3 * cg;
  const upscale = 5 * cg + 6 * cg;
  const masks = 2 * 4 * 16 * g * g;
  return (transformer + upscale + masks) * F;
}

/**
 * The estimate for a config (at its image size, or `imageSize`); `maxBinding` is the device's
 * largest storage binding (128 MiB by default, as lavapipe and browsers' default limits), which
 * decides where the encoder chunks its work; `noScores` says where its attention keeps no score
 * matrices (see {@link NoScores}; default: everywhere scores, an upper bound).
 */
export function estimateMemory(cfg: Sam2Config, imageSize = cfg.imageSize, maxBinding = 128 * 2 ** 20, noScores: NoScores = () => false): MemoryEstimate {
  const model = new Sam2Model({ ...cfg, imageSize });
  let parameters = 0;
  let weightsF16 = 0;
  let weightsF32 = 0;
  let largestHalf = 0;
  for (const [, slot] of model.namedParams()) {
    const n = slot.shape.reduce((a, b) => a * b, 1);
    parameters += n;
    if (slot.halfOk) largestHalf = Math.max(largestHalf, n * 4);
    // As the pool allocates them: rounded up to its bucket sizes.
    weightsF32 += bucketSize(Math.max(4, n * 4));
    weightsF16 += bucketSize(Math.max(4, n * (slot.halfOk ? 2 : 4)));
  }
  const encoderActivations = encoderActivationBytes(cfg, imageSize, maxBinding, noScores);
  const features = featureBytes(cfg, imageSize);
  const decoderActivations = decoderActivationBytes(cfg, imageSize);
  const act = Math.max(encoderActivations, features + decoderActivations);
  return {
    imageSize,
    parameters,
    modules: parameterBreakdown(model),
    weightsF32,
    weightsF16,
    encoderActivations,
    features,
    decoderActivations,
    peakF32: weightsF32 + act,
    // With f16 weights each layer widens its weight to f32 for its op (one at a time).
    peakF16: weightsF16 + act + largestHalf,
  };
}

/** "1.23 GiB" style sizes. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[i]}`;
}
