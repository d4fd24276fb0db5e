/** Reference nn ops: softmax / log_softmax, layer norms and scaled dot-product attention. */
import { refZeros, type Ref, type RefOp } from './ref.js';

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Visits every row of `shape` along `axis`: `fn(base, stride, n)`. */
function forEachRow(shape: readonly number[], axis: number, fn: (base: number, stride: number, n: number) => void): void {
  const a = axis < 0 ? axis + shape.length : axis;
  const outer = prod(shape.slice(0, a));
  const n = shape.length ? shape[a] : 1;
  const inner = prod(shape.slice(a + 1));
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) fn(o * n * inner + i, inner, n);
}

export interface SoftmaxArgs {
  axis: number;
  log?: boolean;
}

/** softmax / log_softmax along `axis`. */
export const softmaxRef: RefOp<SoftmaxArgs> = {
  forward([x], { axis, log }) {
    const y = refZeros(x.shape);
    forEachRow(x.shape, axis, (base, st, n) => {
      let m = -Infinity;
      for (let k = 0; k < n; k++) m = Math.max(m, x.data[base + k * st]);
      let s = 0;
      for (let k = 0; k < n; k++) s += Math.exp(x.data[base + k * st] - m);
      for (let k = 0; k < n; k++) {
        const v = x.data[base + k * st] - m;
        y.data[base + k * st] = log ? v - Math.log(s) : Math.exp(v) / s;
      }
    });
    return y;
  },
  vjp([x], args, g) {
    const y = softmaxRef.forward([x], args);
    const dx = refZeros(x.shape);
    forEachRow(x.shape, args.axis, (base, st, n) => {
      let s = 0;
      for (let k = 0; k < n; k++) s += args.log ? g.data[base + k * st] : g.data[base + k * st] * y.data[base + k * st];
      for (let k = 0; k < n; k++) {
        const i = base + k * st;
        dx.data[i] = args.log ? g.data[i] - Math.exp(y.data[i]) * s : y.data[i] * (g.data[i] - s);
      }
    });
    return [dx];
  },
};

export interface LayerNormArgs {
  eps: number;
  /** 'last': over the last dim (layer_norm); 'channel': over dim 1 of NCHW (LayerNorm2d). */
  over: 'last' | 'channel';
  /** Whether inputs hold a weight and a bias after x (in that order). */
  weight: boolean;
  bias: boolean;
}

/** Layer norm; inputs [x, weight?, bias?]. */
export const layerNormRef: RefOp<LayerNormArgs> = {
  forward(inputs, args) {
    const { x, w, b } = unpackNorm(inputs, args);
    const y = refZeros(x.shape);
    forEachRow(x.shape, args.over === 'last' ? -1 : 1, (base, st, n) => {
      const { mean, rstd } = moments(x.data, base, st, n, args.eps);
      for (let k = 0; k < n; k++) {
        const i = base + k * st;
        y.data[i] = (x.data[i] - mean) * rstd * (w ? w.data[k] : 1) + (b ? b.data[k] : 0);
      }
    });
    return y;
  },
  vjp(inputs, args, g) {
    const { x, w, b } = unpackNorm(inputs, args);
    const dx = refZeros(x.shape);
    const n0 = args.over === 'last' ? x.shape[x.shape.length - 1] : x.shape[1];
    const dw = refZeros([n0]);
    const db = refZeros([n0]);
    forEachRow(x.shape, args.over === 'last' ? -1 : 1, (base, st, n) => {
      const { mean, rstd } = moments(x.data, base, st, n, args.eps);
      let a = 0;
      let c = 0;
      for (let k = 0; k < n; k++) {
        const i = base + k * st;
        const xh = (x.data[i] - mean) * rstd;
        const gw = g.data[i] * (w ? w.data[k] : 1);
        a += gw;
        c += gw * xh;
        dw.data[k] += g.data[i] * xh;
        db.data[k] += g.data[i];
      }
      for (let k = 0; k < n; k++) {
        const i = base + k * st;
        const xh = (x.data[i] - mean) * rstd;
        const gw = g.data[i] * (w ? w.data[k] : 1);
        dx.data[i] = rstd * (gw - a / n - (xh * c) / n);
      }
    });
    return [dx, ...(w ? [dw] : []), ...(b ? [db] : [])];
  },
};

function unpackNorm(inputs: Ref[], args: LayerNormArgs) {
  let k = 1;
  const w = args.weight ? inputs[k++] : null;
  const b = args.bias ? inputs[k++] : null;
  return { x: inputs[0], w, b };
}

function moments(d: Float64Array, base: number, st: number, n: number, eps: number) {
  let mean = 0;
  for (let k = 0; k < n; k++) mean += d[base + k * st];
  mean /= n;
  let v = 0;
  for (let k = 0; k < n; k++) v += (d[base + k * st] - mean) ** 2;
  return { mean, rstd: 1 / Math.sqrt(v / n + eps) };
}

export interface AttentionArgs {
  /** Defaults to 1/sqrt(D). */
  scale?: number;
  /** Only these query rows of every head are computed (the others are left 0); for big tests. */
  rows?: number[];
}

/** Heads (batch × heads), query and key lengths, q/k and v widths, and the scale of one call. */
function attnDims([q, k, v]: Ref[], args: AttentionArgs) {
  const r = q.shape.length;
  const lq = q.shape[r - 2];
  const d = q.shape[r - 1];
  const lk = k.shape[r - 2];
  const dv = v.shape[r - 1];
  return { bh: prod(q.shape.slice(0, r - 2)), lq, lk, d, dv, scale: args.scale ?? 1 / Math.sqrt(d) };
}

type AttnDims = ReturnType<typeof attnDims>;

/** Probabilities P[i, :] of query row i of head h (softmax of scaled scores). */
function probs(q: Ref, k: Ref, dims: AttnDims, h: number, i: number): Float64Array {
  const { lq, lk, d, scale } = dims;
  const s = new Float64Array(lk);
  let m = -Infinity;
  for (let j = 0; j < lk; j++) {
    let dot = 0;
    for (let e = 0; e < d; e++) dot += q.data[(h * lq + i) * d + e] * k.data[(h * lk + j) * d + e];
    s[j] = dot * scale;
    m = Math.max(m, s[j]);
  }
  let sum = 0;
  for (let j = 0; j < lk; j++) sum += (s[j] = Math.exp(s[j] - m));
  for (let j = 0; j < lk; j++) s[j] /= sum;
  return s;
}

/** softmax(q·kᵀ·scale)·v over leading dims [..., L, D]; inputs [q, k, v]. */
export const attentionRef: RefOp<AttentionArgs> = {
  forward(inputs, args) {
    const [q, k, v] = inputs;
    const dims = attnDims(inputs, args);
    const { bh, lq, lk, dv } = dims;
    const out = refZeros([...q.shape.slice(0, -1), dv]);
    for (let h = 0; h < bh; h++) {
      for (const i of args.rows ?? [...Array(lq).keys()]) {
        const p = probs(q, k, dims, h, i);
        for (let j = 0; j < lk; j++) {
          for (let e = 0; e < dv; e++) out.data[(h * lq + i) * dv + e] += p[j] * v.data[(h * lk + j) * dv + e];
        }
      }
    }
    return out;
  },
  vjp(inputs, args, g) {
    const [q, k, v] = inputs;
    const dims = attnDims(inputs, args);
    const { bh, lq, lk, d, dv, scale } = dims;
    const dq = refZeros(q.shape);
    const dk = refZeros(k.shape);
    const dvv = refZeros(v.shape);
    for (let h = 0; h < bh; h++) {
      for (let i = 0; i < lq; i++) {
        const p = probs(q, k, dims, h, i);
        // dP = g·vᵀ, dS = P∘(dP − Σ_j P dP)
        const dp = new Float64Array(lk);
        let rowDot = 0;
        for (let j = 0; j < lk; j++) {
          let s = 0;
          for (let e = 0; e < dv; e++) s += g.data[(h * lq + i) * dv + e] * v.data[(h * lk + j) * dv + e];
          dp[j] = s;
          rowDot += p[j] * s;
        }
        for (let j = 0; j < lk; j++) {
          const ds = p[j] * (dp[j] - rowDot) * scale;
          for (let e = 0; e < d; e++) {
            dq.data[(h * lq + i) * d + e] += ds * k.data[(h * lk + j) * d + e];
            dk.data[(h * lk + j) * d + e] += ds * q.data[(h * lq + i) * d + e];
          }
          for (let e = 0; e < dv; e++) dvv.data[(h * lk + j) * dv + e] += p[j] * g.data[(h * lq + i) * dv + e];
        }
      }
    }
    return [dq, dk, dvv];
  },
};
