/**
 * Reference shape ops. Every one is an index map: each output element copies one input element
 * (or is a constant). The forward follows the map; the vjp adds each upstream element onto the
 * input element it came from, so repeats and duplicate indices add up.
 */
import { ravel, refZeros, sizeOfShape, unravel, type Ref, type RefOp } from './ref.js';

/** Where output element `idx` comes from: [input, multi-index], or null for the constant. */
type Source = [number, number[]] | null;

interface IndexMap<A> {
  outShape(inputs: Ref[], args: A): number[];
  source(idx: number[], inputs: Ref[], args: A): Source;
  fill?(args: A): number;
  /** Inputs without gradient (indices). */
  noGrad?: number[];
}

function indexMapOp<A>(m: IndexMap<A>): RefOp<A> {
  return {
    forward(inputs, args) {
      const shape = m.outShape(inputs, args);
      const out = refZeros(shape);
      for (let i = 0; i < out.data.length; i++) {
        const s = m.source(unravel(i, shape), inputs, args);
        out.data[i] = s ? inputs[s[0]].data[ravel(s[1], inputs[s[0]].shape)] : (m.fill?.(args) ?? 0);
      }
      return out;
    },
    vjp(inputs, args, up) {
      const grads: (Ref | null)[] = inputs.map((x, k) => (m.noGrad?.includes(k) ? null : refZeros(x.shape)));
      for (let i = 0; i < up.data.length; i++) {
        const s = m.source(unravel(i, up.shape), inputs, args);
        const g = s && grads[s[0]];
        if (s && g) g.data[ravel(s[1], g.shape)] += up.data[i];
      }
      return grads;
    },
  };
}

const norm = (d: number, rank: number) => (d < 0 ? d + rank : d);

export const permuteRef = indexMapOp<{ dims: number[] }>({
  outShape: ([x], { dims }) => dims.map((d) => x.shape[norm(d, x.shape.length)]),
  source: (idx, [x], { dims }) => {
    const src = new Array<number>(x.shape.length);
    dims.forEach((d, i) => (src[norm(d, x.shape.length)] = idx[i]));
    return [0, src];
  },
});

/** Python slice per dim: a number selects, null keeps, [start, end, step] (each may be null). */
export type RefSliceSpec = number | null | [number | null, number | null, number | null];

function pySlice(spec: RefSliceSpec, n: number): { start: number; step: number; len: number; keep: boolean } {
  if (spec === null) return { start: 0, step: 1, len: n, keep: true };
  if (typeof spec === 'number') return { start: spec < 0 ? spec + n : spec, step: 1, len: 1, keep: false };
  const step = spec[2] ?? 1;
  const clampIdx = (v: number | null, dflt: number) => (v === null ? dflt : Math.min(Math.max(v < 0 ? v + n : v, 0), n));
  const start = clampIdx(spec[0], 0);
  const end = clampIdx(spec[1], n);
  let len = 0;
  for (let i = start; i < end; i += step) len++;
  return { start, step, len, keep: true };
}

export const sliceRef = indexMapOp<{ specs: RefSliceSpec[] }>({
  outShape: ([x], { specs }) =>
    x.shape.map((n, d) => pySlice(specs[d] ?? null, n)).filter((r) => r.keep).map((r) => r.len),
  source: (idx, [x], { specs }) => {
    let k = 0;
    const src = x.shape.map((n, d) => {
      const r = pySlice(specs[d] ?? null, n);
      return r.start + r.step * (r.keep ? idx[k++] : 0);
    });
    return [0, src];
  },
});

export const catRef = indexMapOp<{ axis: number }>({
  outShape: (xs, { axis }) => {
    const a = norm(axis, xs[0].shape.length);
    return xs[0].shape.map((d, i) => (i === a ? xs.reduce((s, x) => s + x.shape[a], 0) : d));
  },
  source: (idx, xs, { axis }) => {
    const a = norm(axis, xs[0].shape.length);
    let p = idx[a];
    for (let k = 0; k < xs.length; k++) {
      if (p < xs[k].shape[a]) return [k, idx.map((v, i) => (i === a ? p : v))];
      p -= xs[k].shape[a];
    }
    throw new Error('catRef: index outside the output');
  },
});

export const stackRef = indexMapOp<{ axis: number }>({
  outShape: (xs, { axis }) => {
    const a = norm(axis, xs[0].shape.length + 1);
    return [...xs[0].shape.slice(0, a), xs.length, ...xs[0].shape.slice(a)];
  },
  source: (idx, xs, { axis }) => {
    const a = norm(axis, xs[0].shape.length + 1);
    return [idx[a], idx.filter((_, i) => i !== a)];
  },
});

export const padRef = indexMapOp<{ pad: number[]; value: number }>({
  outShape: ([x], { pad }) => {
    const r = x.shape.length;
    return x.shape.map((n, d) => n + (pad[2 * (r - 1 - d)] ?? 0) + (pad[2 * (r - 1 - d) + 1] ?? 0));
  },
  source: (idx, [x], { pad }) => {
    const r = x.shape.length;
    const src = idx.map((o, d) => o - (pad[2 * (r - 1 - d)] ?? 0));
    return src.every((q, d) => q >= 0 && q < x.shape[d]) ? [0, src] : null;
  },
  fill: ({ value }) => value,
});

export const repeatInterleaveRef = indexMapOp<{ repeats: number; axis?: number }>({
  outShape: ([x], { repeats, axis }) => {
    if (axis === undefined) return [sizeOfShape(x.shape) * repeats];
    const a = norm(axis, x.shape.length);
    return x.shape.map((d, i) => (i === a ? d * repeats : d));
  },
  source: (idx, [x], { repeats, axis }) => {
    if (axis === undefined) return [0, unravel(Math.floor(idx[0] / repeats), x.shape)];
    const a = norm(axis, x.shape.length);
    return [0, idx.map((v, i) => (i === a ? Math.floor(v / repeats) : v))];
  },
});

/** Inputs: x and the indices (as floats); out-of-range indices give zeros. */
export const gatherRowsRef = indexMapOp<Record<string, never>>({
  outShape: ([x, idx]) => [idx.shape[0], ...x.shape.slice(1)],
  source: (i, [x, idx]) => {
    const r = idx.data[i[0]];
    return r >= 0 && r < x.shape[0] ? [0, [r, ...i.slice(1)]] : null;
  },
  noGrad: [1],
});

/** Piece `piece` of torch.split(x, sizes, axis). */
export const splitRef = indexMapOp<{ sizes: number[]; axis: number; piece: number }>({
  outShape: ([x], { sizes, axis, piece }) => {
    const a = norm(axis, x.shape.length);
    return x.shape.map((d, i) => (i === a ? sizes[piece] : d));
  },
  source: (idx, _xs, { sizes, axis, piece }) => {
    const a = norm(axis, idx.length);
    const off = sizes.slice(0, piece).reduce((s, v) => s + v, 0);
    return [0, idx.map((v, i) => (i === a ? v + off : v))];
  },
});
