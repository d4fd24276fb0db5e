/**
 * The geometry shared by every convolution kernel.
 *
 * A convolution relates two NCHW tensors through a weight `W [A, B, kH, kW]` in `groups` groups:
 * - the *grid* tensor `G [N, A, Hg, Wg]` (a conv2d's output, a transposed conv's input), whose
 *   position P looks at
 * - the *sampled* tensor `S [N, groups·B, Hs, Ws]` (a conv2d's input, a transposed conv's
 *   output) at positions P·stride − padding + k·dilation.
 *
 * Channel a of G belongs to group ⌊a / (A/groups)⌋ and sees the B channels of S in that group.
 * All three kernels (direct, gather, weight-gradient) read this one description, so conv2d and
 * convTranspose2d share them with the roles of their tensors swapped.
 */
import { fmtShape } from '../tensor/shape.js';

export type Pair = readonly [number, number];
/** A per-axis size: one number for both axes, or [height, width]. */
export type Size2 = number | readonly [number, number];

export interface ConvGeometry {
  n: number;
  /** Channels of G (all groups) and of S per group. */
  a: number;
  b: number;
  groups: number;
  /** Channels of G per group (a / groups). */
  aG: number;
  hg: number;
  wg: number;
  hs: number;
  ws: number;
  kh: number;
  kw: number;
  stride: Pair;
  padding: Pair;
  dilation: Pair;
}

/** Normalises a number-or-pair argument; throws naming the op and argument unless valid. */
export function pair(v: Size2 | undefined, dflt: number, op: string, arg: string, min: number): [number, number] {
  const p: [number, number] = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (p.length !== 2 || !p.every((x) => Number.isInteger(x) && x >= min)) {
    throw new RangeError(`${op}: ${arg} must be an integer ≥ ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p;
}

/** Output length of a conv window sweep (floor mode). */
export function convOutLen(len: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((len + 2 * p - d * (k - 1) - 1) / s) + 1;
}

/** Throws unless `shape` is rank 4. */
export function assertNCHW(shape: readonly number[], op: string, arg: string): void {
  if (shape.length !== 4) throw new RangeError(`${op}: ${arg} must be 4-D (NCHW), got ${fmtShape(shape)}`);
}

/** Whether the geometry is a plain 1×1, stride-1, unpadded, ungrouped conv (a matmul per sample). */
export function isPointwise(g: ConvGeometry): boolean {
  return (
    g.kh === 1 && g.kw === 1 && g.groups === 1 && g.stride[0] === 1 && g.stride[1] === 1 && g.padding[0] === 0 && g.padding[1] === 0 && g.hg === g.hs && g.wg === g.ws
  );
}
