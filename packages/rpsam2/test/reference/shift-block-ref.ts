/**
 * A float64 CPU reference of the shift block's forward pass (torch.nn.TransformerDecoderLayer
 * semantics, post-norm, ReLU, batch_first), written for clarity: tests compare the GPU module
 * against it and differentiate it by central finite differences.
 */
import type { ShiftBlockConfig } from '../../src/shift-block/shift-block.js';

export type Params = Map<string, Float64Array>;

/** x [n, inF] · wᵀ + b → [n, outF] */
export function linearRef(x: Float64Array, w: Float64Array, b: Float64Array | null, n: number, inF: number, outF: number): Float64Array {
  const y = new Float64Array(n * outF);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < outF; o++) {
      let s = b ? b[o] : 0;
      for (let k = 0; k < inF; k++) s += x[i * inF + k] * w[o * inF + k];
      y[i * outF + o] = s;
    }
  }
  return y;
}

function layerNormRef(x: Float64Array, w: Float64Array, b: Float64Array, n: number, d: number, eps: number): Float64Array {
  const y = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let k = 0; k < d; k++) m += x[i * d + k];
    m /= d;
    let v = 0;
    for (let k = 0; k < d; k++) v += (x[i * d + k] - m) ** 2;
    v /= d;
    const r = 1 / Math.sqrt(v + eps);
    for (let k = 0; k < d; k++) y[i * d + k] = (x[i * d + k] - m) * r * w[k] + b[k];
  }
  return y;
}

const addRef = (a: Float64Array, b: Float64Array): Float64Array => a.map((v, i) => v + b[i]);

/** nn.MultiheadAttention: q [B, Lq, d], kv [Bm, Lk, d] (Bm = 1 is shared) → [B, Lq, d]. */
function mhaRef(p: Params, pre: string, q: Float64Array, kv: Float64Array, b: number, lq: number, bm: number, lk: number, d: number, heads: number): Float64Array {
  const w = p.get(`${pre}.in_proj_weight`)!;
  const bias = p.get(`${pre}.in_proj_bias`)!;
  const wq = w.subarray(0, d * d);
  const wk = w.subarray(d * d, 2 * d * d);
  const wv = w.subarray(2 * d * d, 3 * d * d);
  const Q = linearRef(q, wq, bias.subarray(0, d), b * lq, d, d);
  const K = linearRef(kv, wk, bias.subarray(d, 2 * d), bm * lk, d, d);
  const V = linearRef(kv, wv, bias.subarray(2 * d, 3 * d), bm * lk, d, d);
  const dh = d / heads;
  const o = new Float64Array(b * lq * d);
  const scores = new Float64Array(lk);
  for (let n = 0; n < b; n++) {
    const m = bm === 1 ? 0 : n;
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < lq; i++) {
        let mx = -Infinity;
        for (let j = 0; j < lk; j++) {
          let s = 0;
          for (let c = 0; c < dh; c++) s += Q[(n * lq + i) * d + h * dh + c] * K[(m * lk + j) * d + h * dh + c];
          scores[j] = s / Math.sqrt(dh);
          mx = Math.max(mx, scores[j]);
        }
        let z = 0;
        for (let j = 0; j < lk; j++) {
          scores[j] = Math.exp(scores[j] - mx);
          z += scores[j];
        }
        for (let c = 0; c < dh; c++) {
          let s = 0;
          for (let j = 0; j < lk; j++) s += scores[j] * V[(m * lk + j) * d + h * dh + c];
          o[(n * lq + i) * d + h * dh + c] = s / z;
        }
      }
    }
  }
  return linearRef(o, p.get(`${pre}.out_proj.weight`)!, p.get(`${pre}.out_proj.bias`)!, b * lq, d, d);
}

export interface RefInputs {
  /** [B, T, d] */
  sparse: Float64Array;
  /** [Bi, d, h·w] */
  embed: Float64Array;
  embedBatch: number;
  /** [B, 2] */
  clicks: Float64Array;
  batch: number;
}

/** The shift block's forward in float64: tokens [B, T, d], delta [B, 2], refined [B, 2]. */
export function shiftBlockRef(p: Params, c: ShiftBlockConfig, x: RefInputs): { tokens: Float64Array; delta: Float64Array; refined: Float64Array } {
  const { dModel: d, tokens: t, imageTokens: hw, heads, ffn } = c;
  const eps = c.eps ?? 1e-5;
  const b = x.batch;
  const bi = x.embedBatch;
  // memory [Bi, hw, d] = embedᵀ + i_pos
  const iPos = p.get('i_pos')!;
  const mem = new Float64Array(bi * hw * d);
  for (let n = 0; n < bi; n++) for (let j = 0; j < hw; j++) for (let k = 0; k < d; k++) mem[(n * hw + j) * d + k] = x.embed[(n * d + k) * hw + j] + iPos[j * d + k];
  const pPos = p.get('p_pos')!;
  let h: Float64Array = x.sparse.map((v, i) => v + pPos[i % (t * d)]);
  for (let l = 0; l < c.layers; l++) {
    const pre = `layers.${l}`;
    const ln = (k: number, v: Float64Array) => layerNormRef(v, p.get(`${pre}.norm${k}.weight`)!, p.get(`${pre}.norm${k}.bias`)!, b * t, d, eps);
    h = ln(1, addRef(h, mhaRef(p, `${pre}.self_attn`, h, h, b, t, b, t, d, heads)));
    h = ln(2, addRef(h, mhaRef(p, `${pre}.multihead_attn`, h, mem, b, t, bi, hw, d, heads)));
    const f = linearRef(h, p.get(`${pre}.linear1.weight`)!, p.get(`${pre}.linear1.bias`)!, b * t, d, ffn).map((v) => Math.max(v, 0));
    h = ln(3, addRef(h, linearRef(f, p.get(`${pre}.linear2.weight`)!, p.get(`${pre}.linear2.bias`)!, b * t, ffn, d)));
  }
  const scale = p.get('scale')!;
  const delta = new Float64Array(2 * b);
  const refined = new Float64Array(2 * b);
  const head = c.head === 'pointer' ? null : linearRef(h, p.get('head.weight')!, p.get('head.bias')!, b, t * d, 2);
  for (let n = 0; n < b; n++) {
    for (let a = 0; a < 2; a++) {
      const bound = 1 / (1 + Math.exp(-scale[a]));
      const raw = head ? head[2 * n + a] : (pointerTargetRef(p, c, h, mem, x, n)[a] - x.clicks[2 * n + a]) / bound;
      delta[2 * n + a] = Math.tanh(raw) * bound;
      refined[2 * n + a] = Math.min(Math.max(x.clicks[2 * n + a] + delta[2 * n + a], 0), 1);
    }
  }
  return { tokens: h, delta, refined };
}

/**
 * The pointer head's target for click n, written out directly: softmax over the image tokens of
 * q·k/√d − |t_j − P|²/(2σ²) (the full squared distance), then Σ a_j t_j.
 */
function pointerTargetRef(p: Params, c: ShiftBlockConfig, h: Float64Array, mem: Float64Array, x: RefInputs, n: number): [number, number] {
  const { dModel: d, tokens: t, imageTokens: hw } = c;
  const g = Math.round(Math.sqrt(hw));
  const o = x.embedBatch === 1 ? 0 : n;
  const q = linearRef(h.slice(n * t * d, n * t * d + d), p.get('pointer_q.weight')!, p.get('pointer_q.bias')!, 1, d, d);
  const k = linearRef(mem.slice(o * hw * d, (o + 1) * hw * d), p.get('pointer_k.weight')!, p.get('pointer_k.bias')!, hw, d, d);
  const sigma = Math.exp(p.get('pointer_log_sigma')![0]);
  const [px, py] = [x.clicks[2 * n], x.clicks[2 * n + 1]];
  const logits = new Float64Array(hw);
  for (let j = 0; j < hw; j++) {
    let dot = 0;
    for (let e = 0; e < d; e++) dot += q[e] * k[j * d + e];
    const tx = ((j % g) + 0.5) / g;
    const ty = (Math.floor(j / g) + 0.5) / g;
    logits[j] = dot / Math.sqrt(d) - ((tx - px) ** 2 + (ty - py) ** 2) / (2 * sigma * sigma);
  }
  const m = Math.max(...logits);
  let z = 0;
  let cx = 0;
  let cy = 0;
  for (let j = 0; j < hw; j++) {
    const w = Math.exp(logits[j] - m);
    z += w;
    cx += w * (((j % g) + 0.5) / g);
    cy += w * ((Math.floor(j / g) + 0.5) / g);
  }
  return [cx / z, cy / z];
}
