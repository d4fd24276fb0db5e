/**
 * Initial weights for training SAM 2 from scratch (the official models start from a pretrained
 * Hiera, so their code has no from-scratch recipe; this follows PyTorch's layer defaults where a
 * layer has one and ViT practice elsewhere):
 * - Linear weights of the trunk: truncated normal, std 0.02 (ViT/Hiera style, keeps the residual
 *   stream small at the start);
 * - every other Linear / Conv / ConvTranspose weight: PyTorch's default U(±1/√fan_in) (fan_in of a
 *   transposed conv is out·k·k, as PyTorch computes it from dim 1);
 * - biases 0, norm scales 1;
 * - embeddings (point labels, tokens, no-mask): N(0, 1) as `nn.Embedding`;
 * - the prompt encoder's Gaussian matrix: N(0, 1) (a fixed buffer, never trained);
 * - positional embeddings and `no_mem_embed`: truncated normal, std 0.02;
 * - the mask decoder's cross-attentions (token→image, image→token, final): query and key
 *   projections tied at the start, W_q = W_k = 2·O with O a random matrix with orthonormal rows
 *   ("mimetic" initialisation). Reading the click needs a token's query to find the image keys
 *   at the click's position, i.e. W_qᵀW_k to match the click's Fourier features with the image's;
 *   independent random projections give a dot product of random sign and near-uniform attention,
 *   while a tied pair makes W_qᵀW_k positive semi-definite, so attention starts out peaked where
 *   query and key agree. Measured on one memorised frame (clicks only, 160 steps at 256 px):
 *   mDSC 0.56 with independent projections, 0.79 tied; on a stream of frames it is not enough
 *   by itself (the decoder still learns click-independent masks; issue #6's notes).
 */
import { SeededRandom, tensor, type Module } from '@rpsam2/tensor';
import { Sam2Model } from '../model/sam2-model.js';

/** Names of parameters drawn from N(0, 1) (nn.Embedding and the Gaussian PE matrix). */
const UNIT_NORMAL = /(point_embeddings\.\d+|not_a_point_embed|no_mask_embed|iou_token|mask_tokens|obj_score_token)\.weight$|positional_encoding_gaussian_matrix$/;
/** Query projections of the decoder's cross-attentions (their key projections are tied to them at init). */
const CROSS_ATTENTION_QUERY = /transformer\..*(cross_attn|final_attn).*\.q_proj\.weight$/;
/** Scale of the tied orthonormal query/key rows. */
const MIMETIC_SCALE = 2;
/** Parameters with a small truncated-normal start. */
const SMALL_NORMAL = /(^|\.)(pos_embed|pos_embed_window|no_mem_embed)$/;

/** How one parameter is initialised (exported for tests). */
export function initRule(name: string, shape: readonly number[]): { kind: 'zeros' | 'ones' | 'normal' | 'trunc' | 'uniform'; scale: number } {
  const leaf = name.slice(name.lastIndexOf('.') + 1);
  if (UNIT_NORMAL.test(name)) return { kind: 'normal', scale: 1 };
  if (SMALL_NORMAL.test(name)) return { kind: 'trunc', scale: 0.02 };
  if (shape.length === 1) return leaf === 'weight' ? { kind: 'ones', scale: 1 } : { kind: 'zeros', scale: 0 };
  if (leaf === 'bias') return { kind: 'zeros', scale: 0 };
  if (shape.length === 2 && name.includes('.trunk.')) return { kind: 'trunc', scale: 0.02 };
  // Conv weights [out, in, k, k]; transposed conv weights [in, out, k, k] (PyTorch's fan_in uses dim 1 either way).
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  const fanIn = shape[1] * receptive;
  return { kind: 'uniform', scale: 1 / Math.sqrt(fanIn) };
}

/**
 * Replaces every parameter of `module` with a fresh from-scratch initialisation (f32), seeded.
 * Names must be the official state-dict names (as {@link Module.namedParams} gives them).
 */
export function initTrainingWeights(module: Module, seed = 0): void {
  // Separate normal and uniform streams with these exact seeds: trained runs depend on the values.
  const normals = new SeededRandom(seed);
  const uniforms = new SeededRandom(seed + 0x5bd1e995);
  for (const [name, slot] of module.namedParams()) {
    const n = slot.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const rule = initRule(name, slot.shape);
    for (let i = 0; i < n; i++) {
      switch (rule.kind) {
        case 'ones':
          data[i] = 1;
          break;
        case 'normal':
          data[i] = normals.normal() * rule.scale;
          break;
        case 'trunc': {
          let x = normals.normal();
          while (Math.abs(x) > 2) x = normals.normal();
          data[i] = x * rule.scale;
          break;
        }
        case 'uniform':
          data[i] = (2 * uniforms.next() - 1) * rule.scale;
          break;
        default:
          break;
      }
    }
    slot.value?.dispose();
    slot.value = tensor(data, slot.shape, { name });
  }
  tieCrossAttention(module, new SeededRandom(seed + 99));
}

/** Sets each decoder cross-attention's W_q and W_k to one scaled matrix with orthonormal rows. */
function tieCrossAttention(module: Module, rng: SeededRandom): void {
  const params = new Map(module.namedParams());
  for (const [name, slot] of params) {
    if (!CROSS_ATTENTION_QUERY.test(name)) continue;
    const [rows, cols] = slot.shape;
    const w = Float32Array.from(orthonormalRows(rows, cols, rng), (v) => v * MIMETIC_SCALE);
    for (const n of [name, name.replace(/q_proj\.weight$/, 'k_proj.weight')]) {
      const target = params.get(n);
      if (!target) throw new Error(`initTrainingWeights: ${n} has no key projection to tie`);
      target.value?.dispose();
      target.value = tensor(w.slice(), target.shape, { name: n });
    }
  }
}

/** A rows×cols matrix (rows ≤ cols) of Gaussian rows made orthonormal by Gram–Schmidt (float64). */
export function orthonormalRows(rows: number, cols: number, rng: SeededRandom): Float64Array {
  if (rows > cols) throw new RangeError(`orthonormalRows: ${rows} rows cannot be orthonormal in ${cols} dimensions`);
  const o = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const row = o.subarray(i * cols, (i + 1) * cols);
    for (let j = 0; j < cols; j++) row[j] = rng.normal();
    for (let k = 0; k < i; k++) {
      const prev = o.subarray(k * cols, (k + 1) * cols);
      let d = 0;
      for (let j = 0; j < cols; j++) d += row[j] * prev[j];
      for (let j = 0; j < cols; j++) row[j] -= d * prev[j];
    }
    let norm = 0;
    for (let j = 0; j < cols; j++) norm += row[j] * row[j];
    norm = Math.sqrt(norm);
    for (let j = 0; j < cols; j++) row[j] /= norm;
  }
  return o;
}

/**
 * Parameters that `Sam2Model.forwardImage` uses (the trunk, the neck, `no_mem_embed`, the
 * decoder's high-res convolutions): frozen together when a training step freezes the encoder.
 */
export function isEncoderParam(name: string): boolean {
  return /^(image_encoder\.|no_mem_embed$|sam_mask_decoder\.conv_s[01]\.)/.test(name);
}

/** Whether a parameter belongs to the prompt encoder (frozen with `freezePromptEncoder`). */
export function isPromptEncoderParam(name: string): boolean {
  return name.startsWith('sam_prompt_encoder.');
}

/**
 * Gives the prompt encoder and the mask decoder fresh from-scratch weights (the values
 * `initTrainingWeights(model, seed)` gives them), keeping the encoder path ({@link isEncoderParam})
 * as it is: a new decoder on a trained, frozen encoder. Call `promptEncoder.prepare()` after.
 */
export function reinitialiseDecoder(model: Sam2Model, seed = 0): void {
  const fresh = new Sam2Model(model.cfg);
  try {
    initTrainingWeights(fresh, seed);
    const replacements = new Map(fresh.namedParams());
    for (const [name, slot] of model.namedParams()) {
      if (isEncoderParam(name)) continue;
      const from = replacements.get(name);
      if (!from?.value) throw new Error(`reinitialiseDecoder: no fresh value for ${name}`);
      slot.value?.dispose();
      slot.value = from.value;
      from.value = null;
    }
  } finally {
    fresh.dispose();
  }
}
