/**
 * The strided-copy kernel behind permute, slice, pad, cat, stack, repeat_interleave and their
 * gradients (planned and run by ops/indexing.ts): one thread per run of up to
 * {@link COPY_PER_THREAD} elements along the innermost dim of a coalesced copy of rank `rank`.
 * The outer coordinates are decoded once per run; the innermost dim needs no division. Elements
 * are raw 32-bit words (f32 where the transpose adds an addend). Pure generator: no tensors, no
 * dispatch.
 */
import type { Kernel } from '../backend/backend.js';
import type { Params } from './params.js';
import { linearMain } from './wgsl.js';

/** 'plain': strides only; 'window': windows with an offset and limit; 'wstep': windows with a step too. */
export type CopyMode = 'plain' | 'window' | 'wstep';

export const COPY_WG = 64;
/** Elements per thread along the innermost dim. */
export const COPY_PER_THREAD = 4;
const WG = COPY_WG;
const PER_THREAD = COPY_PER_THREAD;

/**
 * The copy kernel; `p` declares n, t0, e0, e1, sbase, dbase, fill and the per-dim arrays its mode
 * reads. `vec4` (gathers whose innermost size and destination range [e0, e1) are multiples of 4,
 * the output bound as vec4s): every thread has exactly 4 elements, unrolled, and stores them as
 * one vec4 with no range checks (on lavapipe each store is a loop over the lanes). `vec4Load`
 * (with `vec4`, 'plain' mode, the innermost dim contiguous in the source and every run starting
 * at a multiple of 4): the 4 elements are one vec4 load too (window partitions, slices, cats).
 */
export function copyKernel(rank: number, mode: CopyMode, scatter: boolean, p: Params, o: { vec4?: boolean; vec4Load?: boolean } = {}): Kernel {
  const { vec4 = false, vec4Load = false } = o;
  if (vec4 && scatter) throw new RangeError('copy kernel: vec4 stores are for gathers only');
  if (vec4Load && !(vec4 && mode === 'plain')) throw new RangeError('copy kernel: vec4 loads need vec4 stores and plain mode');
  const key = `copy:r${rank}:${mode}:${scatter ? 'scatter' : 'gather'}${vec4 ? (vec4Load ? ':v4l' : ':v4') : ''}`;
  return { key, wgsl: () => (vec4Load ? copyVec4Wgsl(rank, p) : copyWgsl(rank, mode, scatter, p, vec4)) };
}

/** Statements decoding `row` into the outer coordinates, each moving `src` by `step(d, o)` (the last one takes what is left). */
function decodeOuter(inner: number, step: (d: number, o: string) => string): string[] {
  const outer: string[] = [];
  if (inner > 0) {
    outer.push('  var rem = row;');
    for (let d = inner - 1; d >= 1; d--) {
      outer.push(`  let q${d} = rem / shape_at(${d}u); let o${d} = rem - q${d} * shape_at(${d}u); rem = q${d};`);
      outer.push(step(d, `o${d}`));
    }
    outer.push(step(0, 'rem'));
  }
  return outer;
}

/** The 'plain' gather moving runs of 4 contiguous, aligned elements as vec4s (see {@link copyKernel}). */
function copyVec4Wgsl(rank: number, p: Params): string {
  const inner = rank - 1;
  const outer = decodeOuter(inner, (d, o) => `  src += ${o} * sst_at(${d}u);`);
  return `@group(0) @binding(0) var<storage, read> X: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> Y: array<vec4<u32>>;
${p.wgsl(2)}${linearMain(`  let t = params.t0 + local;
  let inner = shape_at(${inner}u);
  let chunks = inner / ${PER_THREAD}u;
  let row = t / chunks;
  let j0 = (t - row * chunks) * ${PER_THREAD}u;
  var src = params.sbase + j0;
${outer.join('\n')}
  Y[(row * inner + j0 - params.e0) / 4u] = X[src / 4u];`, WG, 'local')}`;
}

/**
 * A batched transpose, the 'plain' gather Y[b, i, j] = X[sbase + b·sb + i + j·sj] into a
 * contiguous [B, NA, NB] (`p` declares n, na, nb, sj, sb, sbase; NA, NB, sj, sb and sbase
 * multiples of 4): a thread moves a 4×4 block with 4 vec4 loads (along i) and 4 vec4 stores
 * (along j), where the general kernel reads each element with a load of its own.
 *
 * With an `addend` (f32; `p` also declares its batch stride `ab`), A is added as the block is
 * stored: one value per j (A[b·ab + j], 'column') or an array laid out as X is without sbase
 * (A[b·ab + i + j·sj], 'source'). `imageTokens` uses it for `(x + addend)` laid out as tokens.
 * Why not also a second output (the tokens plus a positional encoding): on lavapipe, SAM 2's
 * [1, 256, 64, 64] decoder input, that kernel took 4.0–4.7 ms against 1.6–1.9 ms without it and
 * 1.2–1.3 ms for the separate add (5.9–9.7 ms with the threads along i first): the strided reads
 * make every extra access of a transposing kernel dearer than in a plain elementwise pass.
 */
export function transposeKernel(p: Params, addend?: TransposeAddend): Kernel {
  // Raw 32-bit words without an addend (f32 and i32 alike), f32 with one.
  const v4 = addend ? 'vec4<f32>' : 'vec4<u32>';
  const rows = [0, 1, 2, 3];
  const addendLoads = !addend
    ? ''
    : addend === 'column'
      ? `\n  let a = A[(b * params.ab + jq * 4u) / 4u];`
      : `\n  let sa = b * params.ab + iq * 4u + jq * 4u * sj;\n${rows.map((r) => `  let a${r} = A[${r === 0 ? 'sa' : `(sa + ${r === 1 ? '' : `${r}u * `}sj)`} / 4u];`).join('\n')}`;
  const plus = (k: number) => (!addend ? '' : addend === 'column' ? ' + a' : ` + ${v4}(${rows.map((r) => `a${r}.${XYZW[k]}`).join(', ')})`);
  const bindingsWgsl = [
    `@group(0) @binding(0) var<storage, read> X: array<${v4}>;`,
    ...(addend ? [`@group(0) @binding(1) var<storage, read> A: array<${v4}>;`] : []),
    `@group(0) @binding(${addend ? 2 : 1}) var<storage, read_write> Y: array<${v4}>;`,
  ].join('\n');
  return {
    key: `copy:transpose4${addend ? `:add-${addend}` : ''}`,
    wgsl: () => `${bindingsWgsl}
${p.wgsl(addend ? 3 : 2)}${linearMain(`  let nbq = params.nb / 4u;
  let nq = params.na / 4u;
  let jq = t % nbq;
  let r = t / nbq;
  let iq = r % nq;
  let b = r / nq;
  let sj = params.sj;
  let s = params.sbase + b * params.sb + iq * 4u + jq * 4u * sj;
  let c0 = X[s / 4u];
  let c1 = X[(s + sj) / 4u];
  let c2 = X[(s + 2u * sj) / 4u];
  let c3 = X[(s + 3u * sj) / 4u];${addendLoads}
  let o = ((b * params.na + iq * 4u) * params.nb + jq * 4u) / 4u;
${rows.map((k) => `  Y[o${k === 0 ? '' : ` + ${k === 1 ? '' : `${k}u * `}nbq`}] = ${v4}(${rows.map((r) => `c${r}.${XYZW[k]}`).join(', ')})${plus(k)};`).join('\n')}`, WG, 't')}`,
  };
}

/** How {@link transposeKernel}'s addend is laid out: one value per output column, or as the source. */
export type TransposeAddend = 'column' | 'source';

const XYZW = ['x', 'y', 'z', 'w'];

function copyWgsl(rank: number, mode: CopyMode, scatter: boolean, p: Params, vec4 = false): string {
  const inner = rank - 1;
  // Statements that move `src` (and `ok`, `dsti`) by coordinate `o` along dim `d`.
  const step = (d: number, o: string, src: string, ok: string, dst: string, indent: string): string => {
    const lines: string[] = [];
    if (mode === 'plain') lines.push(`${src} += ${o} * sst_at(${d}u);`);
    else {
      lines.push(`{ let v = i32(${o}) - lo_at(${d}u);`);
      if (mode === 'wstep') {
        lines.push(`  let st = wstep_at(${d}u); let q = u32(v) / st;`);
        lines.push(`  ${ok} = ${ok} && v >= 0 && q < lim_at(${d}u) && u32(v) == q * st;`);
      } else {
        lines.push(`  let q = u32(v); ${ok} = ${ok} && v >= 0 && q < lim_at(${d}u);`);
      }
      lines.push(`  ${src} += q * sst_at(${d}u); }`);
    }
    if (scatter) lines.push(`${dst} += ${o} * dst_at(${d}u);`);
    return lines.map((l) => `${indent}${l}`).join('\n');
  };
  const outer = decodeOuter(inner, (d, o) => step(d, o, 'src', 'ok', 'dsti', '  '));
  const load = mode === 'plain' ? '    let val = X[s];' : '    var val = params.fill;\n    if (okj) { val = X[s]; }';
  const store = scatter
    ? '    Y[dj] = val;'
    : '    let e = row * inner + j;\n    if (e >= params.e0 && e < params.e1) { Y[e - params.e0] = val; }';
  const body = vec4
    ? `${[0, 1, 2, 3]
        .map(
          (c) => `  var v${c} = 0u;
  {
    let j = j0 + ${c}u;
    var s = src;
    var okj = ok;
    var dj = dsti;
${step(inner, 'j', 's', 'okj', 'dj', '    ')}
${load}
    v${c} = val;
  }`,
        )
        .join('\n')}
  Y[(row * inner + j0 - params.e0) / 4u] = vec4<u32>(v0, v1, v2, v3);`
    : `  let j1 = min(j0 + ${PER_THREAD}u, inner);
  for (var j = j0; j < j1; j++) {
    var s = src;
    var okj = ok;
    var dj = dsti;
${step(inner, 'j', 's', 'okj', 'dj', '    ')}
${load}
${store}
  }`;
  return `@group(0) @binding(0) var<storage, read> X: array<u32>;
@group(0) @binding(1) var<storage, read_write> Y: array<${vec4 ? 'vec4<u32>' : 'u32'}>;
${p.wgsl(2)}${linearMain(`  let t = params.t0 + local;
  let inner = shape_at(${inner}u);
  let chunks = (inner + ${PER_THREAD - 1}u) / ${PER_THREAD}u;
  let row = t / chunks;
  let j0 = (t - row * chunks) * ${PER_THREAD}u;
  var src = params.sbase;
  var dsti = params.dbase;
  var ok = true;
${outer.join('\n')}
${body}`, WG, 'local')}`;
}
