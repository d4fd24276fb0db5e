/**
 * RP-SAM2's shift block: a small transformer decoder that reads the prompt encoder's sparse
 * tokens of a click (the click token and the padding token) and the frozen SAM 2 image
 * embedding, and predicts a bounded shift of the click:
 *
 *   mem   = flatten(image_embed) [B, hw, d] + i_pos
 *   x     = sparse [B, T, d] + p_pos
 *   x     = layer_L(…layer_1(x, mem)…, mem)            (TransformerDecoderLayer, post-norm)
 *   delta = tanh(head(flatten(x))) · sigmoid(scale)     (per axis, normalised units)
 *   P'    = clamp(P + delta, 0, 1)                       (P = (x/W, y/H))
 *
 * With the pointer head (`head: 'pointer'`, ours, not the paper's) the shift points at a place in
 * the image instead of being read off the tokens: the click token attends over the image tokens
 * with a content term and a Gaussian locality term around the click, and the shift is the bounded
 * step to the attention-weighted mean of the token centres:
 *
 *   a     = softmax(q(x₀)·k(mem)/√d − |t_j − P|² / (2σ²))   (t_j: token centres, normalised)
 *   delta = tanh((Σ a_j t_j − P) / s) · s,  s = sigmoid(scale)
 *
 * A centroid of attended tokens is what the distance term's centroid target asks for, so the head
 * holds that prior instead of having to learn it from a few thousand objects.
 *
 * Parameter names follow the PyTorch module (`layers.K.self_attn.in_proj_weight`, `p_pos`,
 * `i_pos`, `head.weight`, `scale`, …) so that its state dict loads by key.
 */
import {
  SeededRandom,
  add,
  clamp,
  div,
  exp,
  matmul,
  mul,
  mulScalar,
  permute,
  reshape,
  sigmoid,
  slice,
  softmax,
  sub,
  tanh,
  tensor,
  transpose,
  truncNormalInit,
  uniformInit,
  xavierBound,
  linearDefaultBound,
  logit,
  Linear,
  Module,
  type ParamSlot,
  type Tensor,
} from '@rpsam2/tensor';
import { TransformerDecoderLayer } from './decoder-layer.js';

/** Sizes of a shift block. */
export interface ShiftBlockConfig {
  /** Token width d (SAM 2's transformer width: 256 for every official size). */
  dModel: number;
  /** Attention heads (must divide dModel). */
  heads: number;
  /** Hidden width of each layer's feed-forward network. */
  ffn: number;
  /** Number of decoder layers. */
  layers: number;
  /** Prompt tokens per click (the click token and the padding token: 2). */
  tokens: number;
  /** Image tokens h·w of the image embedding (64·64 for a 1024 input). */
  imageTokens: number;
  /** Initial per-axis bound of the shift, sigmoid(scale) (scale starts at logit(scaleInit)). */
  scaleInit: number;
  /** LayerNorm epsilon (default 1e-5, PyTorch's). */
  eps?: number;
  /**
   * Output head: 'linear' (the paper's, default: a Linear on the flattened tokens) or 'pointer'
   * (the step to an attention-weighted mean of image-token centres; see the module comment).
   */
  head?: ShiftHead;
  /**
   * How many times inference applies the block (default 1, the paper's): each further step
   * encodes the refined click again and shifts it once more, so a block whose steps fall short of
   * its target (an uncertain regression shrinks them) gets closer. Training is on one step.
   */
  refineSteps?: number;
}

/** The largest {@link ShiftBlockConfig.refineSteps} accepted. */
export const MAX_REFINE_STEPS = 8;

/** A block's refine steps (1 when its config has none); throws for a value outside 1…{@link MAX_REFINE_STEPS}. */
export function refineStepsOf(config: Pick<ShiftBlockConfig, 'refineSteps'>): number {
  const n = config.refineSteps ?? 1;
  if (!Number.isInteger(n) || n < 1 || n > MAX_REFINE_STEPS) throw new RangeError(`ShiftBlock: refineSteps must be an integer in 1…${MAX_REFINE_STEPS}, got ${JSON.stringify(config.refineSteps)}`);
  return n;
}

/** The shift block's output head (see {@link ShiftBlockConfig.head}). */
export type ShiftHead = 'linear' | 'pointer';

/** The pointer head's locality width σ at init (normalised units: about 1.6 tokens of a 32×32 grid). */
export const POINTER_SIGMA_INIT = 0.05;

/** The paper's shift block: d = 256, 8 heads, FFN 2048, 6 layers, 2 tokens, 64×64 image tokens, scale 0.1. */
export const PAPER_SHIFT_BLOCK: Readonly<ShiftBlockConfig> = Object.freeze({
  dModel: 256,
  heads: 8,
  ffn: 2048,
  layers: 6,
  tokens: 2,
  imageTokens: 64 * 64,
  scaleInit: 0.1,
});

/** A config from the snake_case `shift_block` section of an RP-SAM2 fixture's spec.json. */
export function shiftBlockConfigFromSpec(s: Record<string, unknown>): ShiftBlockConfig {
  const num = (key: string): number => {
    const v = s[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`shift block spec: '${key}' must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  return {
    dModel: num('d_model'),
    heads: num('heads'),
    ffn: num('ffn'),
    layers: num('layers'),
    tokens: num('tokens'),
    imageTokens: num('image_tokens'),
    scaleInit: num('scale_init'),
  };
}

/**
 * Trainable elements of a shift block, in closed form:
 * layers·(2·(3d² + 3d + d² + d) + (d·f + f) + (f·d + d) + 6d) + T·d + N·d + (2·T·d + 2) + 2.
 * The paper config has 10,522,628.
 */
export function shiftBlockParamCount(c: ShiftBlockConfig): number {
  const { dModel: d, ffn: f, layers, tokens: t, imageTokens: n } = c;
  const attention = 3 * d * d + 3 * d + d * d + d;
  const layer = 2 * attention + (d * f + f) + (f * d + d) + 3 * 2 * d;
  // Pointer head: q and k projections (d² + d each) and log σ, instead of the Linear(T·d, 2).
  const head = c.head === 'pointer' ? 2 * (d * d + d) + 1 : 2 * t * d + 2;
  return layers * layer + t * d + n * d + head + 2;
}

/** Options of {@link ShiftBlock.init}. */
export interface ShiftBlockInitOptions {
  requiresGrad?: boolean;
  /**
   * Start the output head at zero: the block starts as the identity (no shift). For the pointer
   * head: the query projection at zero, so that it starts as the locality term alone (a step to the
   * mean of the token centres near the click: nearly none).
   */
  zeroHead?: boolean;
  /**
   * Initial image-token positions `i_pos`, token-major [imageTokens·d] (e.g. SAM 2's dense
   * positional encoding, the Fourier basis its prompt encoder also uses for the click) instead of
   * N(0, 0.02²) draws.
   */
  positions?: Float32Array;
  /**
   * Tie each cross-attention's key projection to its query projection (W_k = W_q, both scaled by
   * this factor; 0: off), so that a click token first attends to image tokens whose positions
   * match its own encoding.
   */
  tieCrossAttention?: number;
}

/** What {@link ShiftBlock.forward} returns (all owned by the caller / the enclosing tidy). */
export interface ShiftBlockOutput {
  /** [B, 2] refined clicks P' = clamp(P + delta, 0, 1), normalised (x/W, y/H). */
  refined: Tensor;
  /** [B, 2] the shift tanh(head(·))·sigmoid(scale) before clamping. */
  delta: Tensor;
  /** [B, T, d] the prompt tokens after the last decoder layer. */
  tokens: Tensor;
}

/**
 * RP-SAM2's shift block: a small transformer decoder over a click's sparse prompt tokens and the
 * frozen image embedding that predicts a bounded shift of the click (see the module comment).
 * PyTorch's parameter names; `dispose()` frees its weights.
 */
export class ShiftBlock extends Module {
  readonly pPos: ParamSlot;
  readonly iPos: ParamSlot;
  readonly layers: TransformerDecoderLayer[];
  /** The paper's output head (null with the pointer head). */
  readonly head: Linear | null;
  /** The pointer head's projections and log σ (null with the linear head). */
  readonly pointer: { q: Linear; k: Linear; logSigma: ParamSlot } | null;
  readonly scale: ParamSlot;
  readonly config: Readonly<ShiftBlockConfig>;

  constructor(config: ShiftBlockConfig = PAPER_SHIFT_BLOCK) {
    super();
    // `head` and `refineSteps` stay absent at their defaults, so that configs written before them compare equal.
    const c = { eps: 1e-5, ...config };
    if (c.head !== undefined && c.head !== 'linear' && c.head !== 'pointer') throw new RangeError(`ShiftBlock: head must be 'linear' or 'pointer', got ${JSON.stringify(c.head)}`);
    const grid = Math.round(Math.sqrt(c.imageTokens));
    if (c.head === 'pointer' && grid * grid !== c.imageTokens) throw new RangeError(`ShiftBlock: the pointer head needs a square token grid, got ${c.imageTokens} image tokens`);
    for (const k of ['dModel', 'heads', 'ffn', 'layers', 'tokens', 'imageTokens'] as const) {
      if (!Number.isInteger(c[k]) || c[k] < 1) throw new RangeError(`ShiftBlock: ${k} must be a positive integer, got ${c[k]}`);
    }
    refineStepsOf(c);
    if (c.dModel % c.heads !== 0) throw new RangeError(`ShiftBlock: ${c.heads} heads must divide dModel ${c.dModel}`);
    if (!(c.scaleInit > 0 && c.scaleInit < 1)) throw new RangeError(`ShiftBlock: scaleInit ${c.scaleInit} must lie in (0, 1) (it is sigmoid(scale))`);
    this.config = Object.freeze(c);
    this.pPos = this.param('p_pos', [1, c.tokens, c.dModel]);
    this.iPos = this.param('i_pos', [1, c.imageTokens, c.dModel]);
    this.layers = this.list(
      'layers',
      Array.from({ length: c.layers }, () => new TransformerDecoderLayer(c.dModel, c.heads, c.ffn, c.eps)),
    );
    if (c.head === 'pointer') {
      this.head = null;
      this.pointer = {
        q: this.child('pointer_q', new Linear(c.dModel, c.dModel)),
        k: this.child('pointer_k', new Linear(c.dModel, c.dModel)),
        logSigma: this.param('pointer_log_sigma', [1]),
      };
    } else {
      this.head = this.child('head', new Linear(c.tokens * c.dModel, 2));
      this.pointer = null;
    }
    this.scale = this.param('scale', [2]);
  }

  /**
   * Fills every parameter with a seeded initialisation close to PyTorch's defaults:
   * `in_proj_weight` xavier_uniform (as nn.MultiheadAttention), `in_proj_bias` and
   * `out_proj.bias` zero, other Linear layers (out_proj.weight, linear1/2, head) U(±1/√fan_in) for
   * weight and bias (nn.Linear), LayerNorm weight 1 / bias 0, the learned position embeddings
   * `p_pos` and `i_pos` truncated N(0, 0.02²), and `scale` = logit(scaleInit) so that the shift
   * starts bounded by scaleInit per axis. Replaces loaded values.
   *
   * With `zeroHead`, `head.weight` and `head.bias` start at zero instead, so that the block starts
   * as the identity (delta = 0: the refined click is the click) and training moves away from SAM 2's
   * own behaviour rather than from a random shift of up to scaleInit. `positions` and
   * `tieCrossAttention` start the cross-attention localised (see {@link ShiftBlockInitOptions}).
   * The other draws are unchanged.
   */
  init(seed = 0, options: ShiftBlockInitOptions = {}): this {
    const { dModel: d, imageTokens } = this.config;
    if (options.positions && options.positions.length !== imageTokens * d) {
      throw new RangeError(`ShiftBlock.init: positions hold ${options.positions.length} values, expected ${imageTokens}·${d} (token-major)`);
    }
    const rng = new SeededRandom(seed);
    for (const [name, slot] of this.namedParams()) {
      const n = slot.shape.reduce((a, b) => a * b, 1);
      const leaf = name.slice(name.lastIndexOf('.') + 1);
      let data: Float32Array;
      if (name === 'p_pos' || name === 'i_pos') data = truncNormalInit(rng, n, 0.02);
      else if (name === 'scale') data = new Float32Array(n).fill(logit(this.config.scaleInit));
      else if (name === 'pointer_log_sigma') data = new Float32Array(n).fill(Math.log(POINTER_SIGMA_INIT));
      else if (leaf === 'in_proj_weight') data = uniformInit(rng, n, xavierBound(slot.shape[1], slot.shape[0]));
      else if (leaf === 'in_proj_bias' || name.endsWith('out_proj.bias')) data = new Float32Array(n);
      else if (/norm\d\.weight$/.test(name)) data = new Float32Array(n).fill(1);
      else if (/norm\d\.bias$/.test(name)) data = new Float32Array(n);
      else if (leaf === 'weight') data = uniformInit(rng, n, linearDefaultBound(slot.shape[1]));
      else if (leaf === 'bias') {
        // nn.Linear's bias bound uses the weight's fan-in: find the sibling weight's shape.
        const weight = this.namedParams().find(([k]) => k === name.replace(/bias$/, 'weight'));
        data = uniformInit(rng, n, linearDefaultBound(weight ? weight[1].shape[1] : 0));
      } else throw new Error(`ShiftBlock.init: no rule for parameter '${name}'`);
      if (options.zeroHead && (name === 'head.weight' || name === 'head.bias' || name === 'pointer_q.weight' || name === 'pointer_q.bias')) data = new Float32Array(n);
      if (options.positions && name === 'i_pos') data = Float32Array.from(options.positions);
      const tie = options.tieCrossAttention ?? 0;
      if (tie > 0 && /^layers\.\d+\.multihead_attn\.in_proj_weight$/.test(name)) {
        // Rows [0, d) are W_q, [d, 2d) W_k: W_k = W_q, both scaled, so q·k starts as a scaled x·m.
        for (let i = 0; i < d * d; i++) data[i] *= tie;
        data.copyWithin(d * d, 0, d * d);
      }
      slot.value?.dispose();
      slot.value = tensor(data, slot.shape, { name, requiresGrad: options.requiresGrad ?? false });
    }
    return this;
  }

  /** Every parameter tensor (in state-dict order); throws if weights are not loaded. */
  parameters(): Tensor[] {
    return this.namedParams().map(([n, s]) => s.get(n));
  }

  /** Marks every parameter as trainable (requiresGrad) or frozen. */
  setTrainable(trainable: boolean): void {
    for (const p of this.parameters()) p.requiresGrad = trainable;
  }

  /**
   * sparse [B, T, d] prompt tokens (the click's sparse embedding: click token + padding token),
   * imageEmbed [1 or B, d, h, w] (h·w = imageTokens; batch 1 is shared by all clicks),
   * clicks [B, 2] normalised (x/W, y/H) → refined clicks, shift and output tokens.
   */
  forward(sparse: Tensor, imageEmbed: Tensor, clicks: Tensor): ShiftBlockOutput {
    const { dModel: d, tokens: t, imageTokens } = this.config;
    if (sparse.rank !== 3 || sparse.shape[1] !== t || sparse.shape[2] !== d) {
      throw new RangeError(`ShiftBlock: sparse tokens [${sparse.shape}] must be [B, ${t}, ${d}]`);
    }
    const b = sparse.shape[0];
    if (imageEmbed.rank !== 4 || imageEmbed.shape[1] !== d || imageEmbed.shape[2] * imageEmbed.shape[3] !== imageTokens) {
      throw new RangeError(`ShiftBlock: image embedding [${imageEmbed.shape}] must be [B, ${d}, h, w] with h·w = ${imageTokens}`);
    }
    if (imageEmbed.shape[0] !== b && imageEmbed.shape[0] !== 1) {
      throw new RangeError(`ShiftBlock: image embedding batch ${imageEmbed.shape[0]} must be 1 or the click batch ${b} (sparse [${sparse.shape}])`);
    }
    if (clicks.rank !== 2 || clicks.shape[0] !== b || clicks.shape[1] !== 2) {
      throw new RangeError(`ShiftBlock: clicks [${clicks.shape}] must be [${b}, 2] (normalised x/W, y/H)`);
    }
    const bi = imageEmbed.shape[0];
    const memory = add(permute(reshape(imageEmbed, [bi, d, imageTokens]), [0, 2, 1]), this.iPos.get('i_pos'));
    let x = add(sparse, this.pPos.get('p_pos'));
    for (const layer of this.layers) x = layer.forward(x, memory);
    const { delta } = this.shift(x, memory, clicks);
    const refined = clamp(add(clicks, delta), 0, 1);
    return { refined, delta, tokens: x };
  }

  /**
   * The output head: tokens x [B, T, d] after the last layer, the memory [O, N, d] their clicks
   * attended to (O = 1 or O objects of B/O consecutive clicks each), clicks [B, 2] → the shift
   * [B, 2], bounded per axis by sigmoid(scale), and the pointer head's attention over the image
   * tokens [B, N] (null for the linear head).
   */
  shift(x: Tensor, memory: Tensor, clicks: Tensor): { delta: Tensor; attention: Tensor | null } {
    const { dModel: d, tokens: t } = this.config;
    const b = x.shape[0];
    const bound = sigmoid(this.scale.get('scale'));
    if (!this.pointer) return { delta: mul(tanh(this.head!.forward(reshape(x, [b, t * d]))), bound), attention: null };
    const [o, n] = memory.shape;
    if (b % o !== 0) throw new RangeError(`ShiftBlock: ${b} clicks cannot be grouped over a memory batch of ${o}`);
    const k = b / o;
    // The click token (token 0) of each of an object's k clicks queries that object's image tokens.
    const q = reshape(this.pointer.q.forward(reshape(slice(x, [null, { start: 0, end: 1 }]), [b, d])), [o, k, d]);
    const content = mulScalar(matmul(q, transpose(this.pointer.k.forward(memory), 1, 2)), 1 / Math.sqrt(d)); // [o, k, n]
    // −|t_j − P|²/(2σ²) up to a per-row constant (|P|², which softmax ignores): (t_j·P − |t_j|²/2)/σ².
    const centres = tokenCentres(n);
    const p = reshape(clicks, [o, k, 2]);
    const near = sub(matmul(p, centres.transposed), centres.halfSquaredNorm); // [o, k, n]
    const invVar = exp(mulScalar(this.pointer.logSigma.get('pointer_log_sigma'), -2));
    const attention = softmax(add(content, mul(near, invVar)), -1);
    const target = reshape(matmul(attention, centres.points), [b, 2]);
    return { delta: mul(tanh(div(sub(target, clicks), bound)), bound), attention: reshape(attention, [b, n]) };
  }
}

/** Normalised centres (x, y) of an n = g×g token grid, row-major: [1, n, 2], its transpose [1, 2, n] and |t|²/2 [1, 1, n]. */
function tokenCentres(n: number): { points: Tensor; transposed: Tensor; halfSquaredNorm: Tensor } {
  const g = Math.round(Math.sqrt(n));
  const pts = new Float32Array(2 * n);
  const tr = new Float32Array(2 * n);
  const half = new Float32Array(n);
  for (let r = 0; r < g; r++) {
    for (let c = 0; c < g; c++) {
      const j = r * g + c;
      const x = (c + 0.5) / g;
      const y = (r + 0.5) / g;
      pts[2 * j] = x;
      pts[2 * j + 1] = y;
      tr[j] = x;
      tr[n + j] = y;
      half[j] = (x * x + y * y) / 2;
    }
  }
  return { points: tensor(pts, [1, n, 2]), transposed: tensor(tr, [1, 2, n]), halfSquaredNorm: tensor(half, [1, 1, n]) };
}
