/**
 * GPU memory estimate of the SAM 2 image path, from the config alone (no device): the weights
 * (f32, or f16 for the Linear/Conv weights), and the activation peak of one encoder pass and of
 * one decoder call, modelled on how this implementation allocates: every op output is a new
 * buffer (reshape is a view; permute, slice, pad and transpose copy), and each Hiera block's
 * intermediates are freed when the block ends. Weights are counted with the pool's bucket
 * rounding; activation sizes are mostly powers of two times small factors, where the rounding
 * adds little. Checked against `measureEncoder` (what `sam2 info --measure` prints): the
 * activation estimate is 0–10% above the measured peak for the tiny fixture config and Hiera-T
 * at 256–1024 (test/memory.test.ts).
 */
import { bucketSize } from '@rpsam2/tensor';
import type { Sam2Config } from '../config.js';
import { Sam2Model } from '../model/sam2-model.js';

export interface ModuleParams {
  /** State-dict prefix (e.g. 'image_encoder.trunk'). */
  name: string;
  parameters: number;
}

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
  /** Total peaks: weights + max(encoder, features + decoder). */
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

/** Floats allocated by one Hiera block (input h×w×c, output channels cOut). */
function blockFloats(h: number, w: number, c: number, cOut: number, ws: number, pooled: boolean): { floats: number; h: number; w: number } {
  const n = h * w;
  const s = pooled ? 2 : 1;
  const [ho, wo] = [Math.ceil(h / s), Math.ceil(w / s)];
  const no = ho * wo;
  let hp = h;
  let wp = w;
  if (ws > 0) {
    hp = Math.ceil(h / ws) * ws;
    wp = Math.ceil(w / ws) * ws;
  }
  const np = hp * wp;
  const npo = np / (s * s);
  const padded = hp !== h || wp !== w;
  let f = n * c; // norm1
  if (c !== cOut) f += n * cOut + (pooled ? 2 * n * cOut + 2 * no * cOut : 0); // shortcut proj (+ pool through NCHW)
  if (ws > 0) f += (padded ? np * c : 0) + np * c; // pad + window permute
  f += np * 3 * cOut; // qkv
  f += 3 * np * cOut; // q, k, v slices
  if (pooled) f += np * cOut + 2 * npo * cOut; // q pool through NCHW
  f += npo * cOut + 2 * np * cOut; // head transposes
  f += 3 * npo * cOut; // attention, transpose back, proj
  if (ws > 0) f += npo * cOut + (padded ? no * cOut : 0); // unpartition (+ crop)
  f += no * cOut * (1 + 1 + 4 + 4 + 1 + 1); // add, norm2, fc1, gelu, fc2, add
  return { floats: f, h: ho, w: wo };
}

/** Bytes of the encoder's activation peak for `imageSize` (default the config's). */
export function encoderActivationBytes(cfg: Sam2Config, imageSize = cfg.imageSize): number {
  const t = cfg.trunk;
  let h = imageSize / 4;
  let w = imageSize / 4;
  let c = t.embedDim;
  // Pixels, the patch embedding (conv output + NHWC permute) and the positional embedding
  // (bicubic background, tiled window, their sum, NHWC permute) stay until the pass ends.
  const persistent0 = 3 * imageSize * imageSize + 6 * h * w * c;
  let persistent = persistent0;
  let peak = persistent + h * w * c;
  const stageEnds = t.stages.map((_, i) => t.stages.slice(0, i + 1).reduce((a, b) => a + b, 0) - 1);
  const qPoolBlocks = stageEnds.slice(0, -1).map((e) => e + 1).slice(0, t.qPool);
  let stage = 0;
  const depth = stageEnds[stageEnds.length - 1] + 1;
  const stageOut: number[] = [];
  for (let i = 0; i < depth; i++) {
    let cOut = c;
    const ws = t.globalAttBlocks.includes(i) ? 0 : t.windowSpec[stage];
    if (i > 0 && stageEnds.includes(i - 1)) {
      cOut = Math.floor(c * t.dimMul);
      stage++;
    }
    const b = blockFloats(h, w, c, cOut, ws, qPoolBlocks.includes(i));
    // The block's input and everything it allocates are live at its end.
    peak = Math.max(peak, persistent + h * w * c + b.floats);
    [h, w, c] = [b.h, b.w, cOut];
    if (stageEnds.includes(i)) {
      persistent += h * w * c; // the stage's NCHW output
      stageOut.push(h * w * c);
    }
  }
  // Neck + high-res convs: a lateral conv per level, upsample + sum on the top-down levels,
  // conv_s0/conv_s1 and the no-mem add; on top of the stage outputs.
  const d = cfg.neck.dModel;
  const sizes = t.stages.map((_, i) => (imageSize / 4 / 2 ** i) ** 2);
  const neck = sizes.reduce((a, n) => a + 3 * n * d, 0) + sizes[0] * (d / 8) + sizes[1] * (d / 4) + sizes[2] * d;
  peak = Math.max(peak, persistent + neck);
  return peak * F;
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

/** The estimate for a config (at its image size, or `imageSize`). */
export function estimateMemory(cfg: Sam2Config, imageSize = cfg.imageSize): MemoryEstimate {
  const model = new Sam2Model({ ...cfg, imageSize });
  let parameters = 0;
  let weightsF16 = 0;
  let weightsF32 = 0;
  for (const [, slot] of model.namedParams()) {
    const n = slot.shape.reduce((a, b) => a * b, 1);
    parameters += n;
    // As the pool allocates them: rounded up to its bucket sizes.
    weightsF32 += bucketSize(Math.max(4, n * 4));
    weightsF16 += bucketSize(Math.max(4, n * (slot.halfOk ? 2 : 4)));
  }
  const encoderActivations = encoderActivationBytes(cfg, imageSize);
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
    peakF16: weightsF16 + act,
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
