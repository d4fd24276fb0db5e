/**
 * The CPU reference: float64 tensors and ops with forward and vector-Jacobian product (vjp),
 * written for clarity, not speed. Tests compare the GPU ops against it, and check its vjps by
 * finite differences.
 */

/** A float64 tensor on the CPU (row-major). */
export interface Ref {
  shape: number[];
  data: Float64Array;
}

/** An op of the reference: forward, and input gradients of sum(forward · upstream). */
export interface RefOp<A = Record<string, unknown>> {
  forward(inputs: Ref[], args: A): Ref;
  /** Gradient w.r.t. each input (null where the op has none, e.g. integer indices). */
  vjp(inputs: Ref[], args: A, upstream: Ref): (Ref | null)[];
}

export function sizeOfShape(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function refZeros(shape: readonly number[]): Ref {
  return { shape: [...shape], data: new Float64Array(sizeOfShape(shape)) };
}

export function refFrom(data: ArrayLike<number>, shape: readonly number[]): Ref {
  if (data.length !== sizeOfShape(shape)) throw new Error(`refFrom: ${data.length} values for shape [${shape}]`);
  return { shape: [...shape], data: Float64Array.from(data) };
}

/** Multi-index of flat index `i` in `shape`. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

/** Flat index of a multi-index. */
export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let f = 0;
  for (let d = 0; d < shape.length; d++) f = f * shape[d] + idx[d];
  return f;
}

/** Element of `t` read at output multi-index `outIdx` with NumPy broadcasting. */
export function bcastGet(t: Ref, outIdx: readonly number[]): number {
  const off = outIdx.length - t.shape.length;
  let f = 0;
  for (let d = 0; d < t.shape.length; d++) f = f * t.shape[d] + (t.shape[d] === 1 ? 0 : outIdx[d + off]);
  return t.data[f];
}

export function bcastShape(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, i) => {
    const dims = shapes.map((s) => s[s.length - rank + i] ?? 1).filter((d) => d !== 1);
    return dims.length ? dims[0] : 1;
  });
}

/** Sums a gradient of `outShape` back to `shape` (the inverse of broadcasting). */
export function sumToShape(g: Ref, shape: readonly number[]): Ref {
  const r = refZeros(shape);
  const off = g.shape.length - shape.length;
  for (let i = 0; i < g.data.length; i++) {
    const idx = unravel(i, g.shape);
    let f = 0;
    for (let d = 0; d < shape.length; d++) f = f * shape[d] + (shape[d] === 1 ? 0 : idx[d + off]);
    r.data[f] += g.data[i];
  }
  return r;
}
