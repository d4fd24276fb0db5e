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
import type { Params } from './params.js';

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

/**
 * Appends the geometry uniforms every conv kernel reads, written once for all of them: hg, wg,
 * hs, ws, a, a_g, b, groups, kh, kw (u32) and sy, sx, py, px, dy, dx (i32).
 */
export function convGeometryParams(p: Params, g: ConvGeometry): Params {
  return p
    .u32('hg', g.hg)
    .u32('wg', g.wg)
    .u32('hs', g.hs)
    .u32('ws', g.ws)
    .u32('a', g.a)
    .u32('a_g', g.aG)
    .u32('b', g.b)
    .u32('groups', g.groups)
    .u32('kh', g.kh)
    .u32('kw', g.kw)
    .i32('sy', g.stride[0])
    .i32('sx', g.stride[1])
    .i32('py', g.padding[0])
    .i32('px', g.padding[1])
    .i32('dy', g.dilation[0])
    .i32('dx', g.dilation[1]);
}

/**
 * WGSL index math shared by the conv kernels, written once (it reads the uniforms of
 * {@link convGeometryParams}): the first channel of group `grp` of sample `n` in G [N, A, ·] and
 * in S [N, groups·B, ·], and whether a row `iy` / column `ix` of S lies inside it.
 */
export const CONV_INDEX_WGSL = `
fn g_chan0(n: u32, grp: u32) -> u32 { return n * params.a + grp * params.a_g; }
fn s_chan0(n: u32, grp: u32) -> u32 { return (n * params.groups + grp) * params.b; }
fn s_row_in(iy: i32) -> bool { return iy >= 0 && iy < i32(params.hs); }
fn s_col_in(ix: i32) -> bool { return ix >= 0 && ix < i32(params.ws); }`;

/**
 * WGSL: the flat index of element (group `grp`, channel `a` within the group, `b`, tap `kk`) of
 * a weight W [A, B, k] (uniforms `a_g`, `b`, `k`), for the kernels that repack weights.
 */
export const WEIGHT_INDEX_WGSL = `
fn w_index(grp: u32, a: u32, b: u32, kk: u32) -> u32 { return ((grp * params.a_g + a) * params.b + b) * params.k + kk; }`;
