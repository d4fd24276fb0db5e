/** Shape arithmetic shared by every op: sizes, strides, axes and broadcasting. */

export type Shape = readonly number[];

/** Number of elements of a shape (1 for a scalar, 0 if any dim is 0). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a contiguous tensor. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Whether two shapes have the same rank and the same size in every dim. */
export function shapeEq(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** A shape as text for messages, e.g. `[2, 3]`. */
export function fmtShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Normalises a possibly negative axis; throws naming the op when out of range. */
export function normAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= Math.max(rank, 1)) {
    throw new RangeError(`${op}: axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return a;
}

/** Broadcast shape of two shapes (NumPy rules), or an error naming both. */
export function broadcastShapes(a: Shape, b: Shape, op: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(`${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast (dim ${i}: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Strides to read an input of shape `inShape` while walking an output of shape `outShape`
 * (right-aligned; broadcast dims get stride 0).
 */
export function broadcastStrides(inShape: Shape, outShape: Shape): number[] {
  const inStrides = stridesOf(inShape);
  const off = outShape.length - inShape.length;
  return outShape.map((_, i) => {
    const j = i - off;
    return j < 0 || inShape[j] === 1 ? 0 : inStrides[j];
  });
}

/** Axes of `outShape` that were broadcast from `inShape` (to sum a gradient back). */
export function broadcastAxes(inShape: Shape, outShape: Shape): number[] {
  const off = outShape.length - inShape.length;
  const axes: number[] = [];
  for (let i = 0; i < outShape.length; i++) {
    const j = i - off;
    if (j < 0 || (inShape[j] === 1 && outShape[i] !== 1)) axes.push(i);
  }
  return axes;
}

/** Checks that a shape is a list of non-negative integers. */
export function assertShape(shape: Shape, what: string): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new TypeError(`${what}: invalid shape ${JSON.stringify(shape)} (expected non-negative integers)`);
  }
}
