/** Reference losses (float64): soft Dice on logits, BCE with logits, RP-SAM2's distance loss. */
import { bcastGet, refZeros, sumToShape, unravel, type Ref, type RefOp } from './ref.js';

const sig = (x: number) => 1 / (1 + Math.exp(-x));

export interface SoftDiceArgs {
  smooth?: number;
  perSample?: boolean;
}

/** Group (sample) of each element: 0 for all when global, the batch index per sample. */
function groups(x: Ref, perSample: boolean): { of: (i: number) => number; count: number } {
  if (!perSample) return { of: () => 0, count: 1 };
  const per = x.data.length / x.shape[0];
  return { of: (i) => Math.floor(i / per), count: x.shape[0] };
}

/** Per group: Σ sigmoid(l)·t, and smooth + Σ (sigmoid(l) + t), the Dice numerator's and denominator's sums. */
function diceSums(l: Ref, t: Ref, smooth: number, perSample: boolean) {
  const g = groups(l, perSample);
  const inter = new Float64Array(g.count);
  const den = new Float64Array(g.count).fill(smooth);
  l.data.forEach((v, i) => {
    const s = sig(v);
    inter[g.of(i)] += s * t.data[i];
    den[g.of(i)] += s + t.data[i];
  });
  return { g, inter, den };
}

export const softDiceRef: RefOp<SoftDiceArgs> = {
  forward([l, t], { smooth = 1, perSample = false }) {
    const { g, inter, den } = diceSums(l, t, smooth, perSample);
    let loss = 0;
    for (let k = 0; k < g.count; k++) loss += 1 - (2 * inter[k] + smooth) / den[k];
    return { shape: [], data: Float64Array.of(loss / g.count) };
  },
  vjp([l, t], { smooth = 1, perSample = false }, up) {
    const { g, inter, den } = diceSums(l, t, smooth, perSample);
    const u = up.data[0] / g.count;
    const gl = refZeros(l.shape);
    const gt = refZeros(t.shape);
    l.data.forEach((v, i) => {
      const k = g.of(i);
      const s = sig(v);
      const num = 2 * inter[k] + smooth;
      // L = 1 − num/den: dL/ds = −(2t·den − num)/den², dL/dt = −(2s·den − num)/den²
      const dLds = -(2 * t.data[i] * den[k] - num) / den[k] ** 2;
      gl.data[i] = u * dLds * s * (1 - s);
      gt.data[i] = (u * -(2 * s * den[k] - num)) / den[k] ** 2;
    });
    return [gl, gt];
  },
};

export interface BceArgs {
  reduction: 'mean' | 'sum' | 'none';
}

/** Inputs: logits, target[, weight broadcast to the logits]. */
export const bceRef: RefOp<BceArgs> = {
  forward([x, t, w], { reduction }) {
    const out = refZeros(x.shape);
    x.data.forEach((v, i) => {
      const wi = w ? bcastGet(w, unravel(i, x.shape)) : 1;
      // −[t·log σ(x) + (1 − t)·log(1 − σ(x))], written stably
      out.data[i] = wi * (Math.max(v, 0) - v * t.data[i] + Math.log1p(Math.exp(-Math.abs(v))));
    });
    if (reduction === 'none') return out;
    const s = out.data.reduce((a, b) => a + b, 0);
    return { shape: [], data: Float64Array.of(reduction === 'mean' ? s / out.data.length : s) };
  },
  vjp([x, t, w], { reduction }, up) {
    const n = x.data.length;
    const u = (i: number) => (reduction === 'none' ? up.data[i] : reduction === 'mean' ? up.data[0] / n : up.data[0]);
    const gx = refZeros(x.shape);
    const gt = refZeros(x.shape);
    const gw = refZeros(x.shape);
    x.data.forEach((v, i) => {
      const wi = w ? bcastGet(w, unravel(i, x.shape)) : 1;
      gx.data[i] = u(i) * wi * (sig(v) - t.data[i]);
      gt.data[i] = -u(i) * wi * v;
      gw.data[i] = u(i) * (Math.max(v, 0) - v * t.data[i] + Math.log1p(Math.exp(-Math.abs(v))));
    });
    return w ? [gx, gt, sumToShape(gw, w.shape)] : [gx, gt];
  },
};

export interface DistanceArgs {
  theta: number;
}

const dist = (th: number, dx: number, dy: number) => 0.5 * (Math.exp(th * Math.abs(dx)) + Math.exp(th * Math.abs(dy)) - 2);

function argmins(p: Ref, c: Ref, th: number): { best: number; arg: number }[] {
  const np = p.shape[0];
  const ng = c.shape[0];
  return Array.from({ length: np }, (_, i) => {
    let best = Infinity;
    let arg = 0;
    for (let j = 0; j < ng; j++) {
      const d = dist(th, p.data[2 * i] - c.data[2 * j], p.data[2 * i + 1] - c.data[2 * j + 1]);
      if (d < best) {
        best = d;
        arg = j;
      }
    }
    return { best, arg };
  });
}

/** Per point: min over candidates of 0.5·(exp(θ|dx|) + exp(θ|dy|) − 2). */
export const distanceRef: RefOp<DistanceArgs> = {
  forward([p, c], { theta }) {
    return { shape: [p.shape[0]], data: Float64Array.from(argmins(p, c, theta), (m) => m.best) };
  },
  vjp([p, c], { theta }, up) {
    const gp = refZeros(p.shape);
    const gc = refZeros(c.shape);
    argmins(p, c, theta).forEach(({ arg }, i) => {
      for (let k = 0; k < 2; k++) {
        const d = p.data[2 * i + k] - c.data[2 * arg + k];
        const s = 0.5 * theta * Math.exp(theta * Math.abs(d)) * Math.sign(d) * up.data[i];
        gp.data[2 * i + k] += s;
        gc.data[2 * arg + k] -= s;
      }
    });
    return [gp, gc];
  },
};
