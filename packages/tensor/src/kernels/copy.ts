/**
 * The strided-copy kernel behind permute, slice, pad, cat, stack, repeat_interleave and their
 * gradients (planned and run by ops/indexing.ts): one thread per run of up to
 * {@link COPY_PER_THREAD} elements along the innermost dim of a coalesced copy of rank `rank`.
 * The outer coordinates are decoded once per run; the innermost dim needs no division. Elements
 * are raw 32-bit words. Pure generator: no tensors, no dispatch.
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
 * one vec4 with no range checks (on lavapipe each store is a loop over the lanes).
 */
export function copyKernel(rank: number, mode: CopyMode, scatter: boolean, p: Params, vec4 = false): Kernel {
  if (vec4 && scatter) throw new RangeError('copy kernel: vec4 stores are for gathers only');
  return { key: `copy:r${rank}:${mode}:${scatter ? 'scatter' : 'gather'}${vec4 ? ':v4' : ''}`, wgsl: () => copyWgsl(rank, mode, scatter, p, vec4) };
}

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
  const outer: string[] = [];
  if (inner > 0) {
    outer.push('  var rem = row;');
    for (let d = inner - 1; d >= 1; d--) {
      outer.push(`  let o${d} = rem % shape_at(${d}u); rem = rem / shape_at(${d}u);`);
      outer.push(step(d, `o${d}`, 'src', 'ok', 'dsti', '  '));
    }
    outer.push(step(0, 'rem', 'src', 'ok', 'dsti', '  '));
  }
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
