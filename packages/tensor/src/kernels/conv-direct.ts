/**
 * The direct convolution kernels: G-shaped output from the sampled tensor S and the weight
 * (conv2d's forward, convTranspose2d's input gradient, and stride-1 transposed convs through a
 * flipped weight). See conv-geometry.ts for G, S, A, B; `ops/conv-direct.ts` runs them.
 *
 * out[n, a, P] = Σ_{b, ky, kx} W[a, b, ky, kx] · S[n, group(a)·B + b, P·s − p + k·d] (+ bias[a])
 *
 * What makes them fast on a CPU-emulated GPU (lavapipe runs 8 threads per SIMD vector and turns
 * every load whose address differs between threads into 8 scalar loads with bounds checks):
 * - register tiles: a thread computes 4 adjacent output pixels × 4 channels, keeping the input
 *   row segment its taps read in registers and loading each weight once for its 4 pixels;
 * - uniform weight addresses: loop bounds never depend on the pixel (padding is masked), so a
 *   weight load is one load for the whole workgroup; weights are packed (conv-pack.ts) so a
 *   block's channels are one vec4;
 * - vec4 input loads when the row segments line up with vec4s (width % 4 = 0, no x-dilation);
 * - 1×1 stride-1 convs run a matmul-shaped kernel (4 pixels × 8 channels, vec4 loads).
 * Measured on lavapipe: 4×4 tiles beat 8×4 or 4×8 (register spills) and 4×1 (more loads).
 *
 * Pure generators: each takes its configuration (with the uniform `params` whose struct it
 * declares) and returns the kernel; no tensors, no dispatch.
 */
import type { Kernel } from '../backend/backend.js';
import { Params, bindings } from './wgsl.js';
import { CONV_INDEX_WGSL } from './conv-geometry.js';

/** Threads per workgroup of the conv kernels (their grid-stride loops step by it). */
export const CONV_WG = 64;
const WG = CONV_WG;

/** Channels per thread for a group of `c` channels. */
export function channelBlock(c: number): number {
  return c >= 8 ? 8 : c >= 4 ? 4 : c >= 2 ? 2 : 1;
}

/** WGSL declaring `at` accumulators (vec4s when at ≥ 4) and naming each channel's value. */
export function accumulators(at: number): { decl: string; fma: (v: string, w: (q: number) => string) => string; value: (j: number) => string } {
  if (at >= 4) {
    const nv = at / 4;
    return {
      decl: Array.from({ length: nv }, (_, q) => `var acc${q} = vec4<f32>(0.0);`).join(' '),
      fma: (v, w) => Array.from({ length: nv }, (_, q) => `acc${q} += ${v} * ${w(q)};`).join(' '),
      value: (j) => `acc${Math.floor(j / 4)}[${j % 4}]`,
    };
  }
  return {
    decl: Array.from({ length: at }, (_, q) => `var acc${q} = 0.0;`).join(' '),
    fma: (v, w) => Array.from({ length: at }, (_, q) => `acc${q} += ${v} * ${w(q)};`).join(' '),
    value: (j) => `acc${j}`,
  };
}

/** Binding names of a conv kernel reading `x` and the packed weight, plus the bias when there is one. */
export const convInputs = (x: string, bias: boolean) => (bias ? [x, 'W', 'BIAS'] : [x, 'W']);

/**
 * The declarations the direct, pointwise and gather kernels open with, written once: the bindings
 * ({@link convInputs} → OUT, element `types` as for `bindings`), the uniform struct, and the conv
 * index helpers (CONV_INDEX_WGSL) unless `index` is false.
 */
export function convPrelude(x: string, bias: boolean, p: Params, types: Record<string, string>, index = true): string {
  const names = convInputs(x, bias);
  return `${bindings(names, ['OUT'], types)}\n${p.wgsl(names.length + 1)}${index ? CONV_INDEX_WGSL : ''}`;
}

/**
 * The configuration of the direct, pointwise and gather kernels: `block` channels per thread
 * (vec4 accumulators or weights when ≥ 4), whether a bias is added, and the uniforms.
 */
export interface ConvBlockConfig {
  block: number;
  bias: boolean;
  params: Params;
}

/**
 * The entry point and prologue of the two direct kernels: group `grp` and first channel `a0` of
 * this workgroup's block of `at` channels, the packed weight's step `w_step` per tap, sample `n`
 * and the first element `s_base` of the group's channels of S (planes of `plane`).
 */
function directMain(at: number, sub = false): string {
  const vec = at >= 4;
  return `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>${sub ? ', @builtin(subgroup_invocation_id) sgid: u32' : ''}) {
  let grp = wid.y / params.a_blocks;
  let a0 = (wid.y % params.a_blocks) * ${at}u;
  let w_step = ${vec ? 'params.a_pad / 4u' : 'params.a_pad'};
  let n = wid.z;
  let plane = params.hs * params.ws;
  let s_base = s_chan0(n, grp) * plane;`;
}

/** The general direct kernel: one pixel per thread × `block` channels, taps in loops (any dilation). */
export function convDirectKernel(c: ConvBlockConfig): Kernel {
  return { key: `conv_direct:at${c.block}:${c.bias ? 'b' : 'nb'}`, wgsl: () => convDirectWgsl(c) };
}

function convDirectWgsl({ block: at, bias, params: p }: ConvBlockConfig): string {
  const vec = at >= 4;
  const acc = accumulators(at);
  const wLoad = (q: number) => `W[wi + ${q}u]`;
  return `${convPrelude('S', bias, p, { W: vec ? 'vec4<f32>' : 'f32' })}
${directMain(at)}
  // The loops below have uniform bounds (padding is handled by masking the loaded value), so
  // the weight index stays uniform across the workgroup and loads once for all its threads.
  for (var base = wid.x * ${WG}u; base < params.hw; base += nwg.x * ${WG}u) {
    let pix = min(base + lid, params.hw - 1u);
    let oy = pix / params.wg;
    let ox = pix - oy * params.wg;
    let iy0 = i32(oy) * params.sy - params.py;
    let ix0 = i32(ox) * params.sx - params.px;
    ${acc.decl}
    var wi = grp * params.b * params.kh * params.kw * w_step + ${vec ? 'a0 / 4u' : 'a0'};
    for (var b = 0u; b < params.b; b++) {
      let s_chan = s_base + b * plane;
      for (var ky = 0u; ky < params.kh; ky++) {
        let iy = iy0 + i32(ky) * params.dy;
        let row_ok = s_row_in(iy);
        let s_row = s_chan + u32(clamp(iy, 0, i32(params.hs) - 1)) * params.ws;
        for (var kx = 0u; kx < params.kw; kx++) {
          let ix = ix0 + i32(kx) * params.dx;
          let ok = row_ok && s_col_in(ix);
          let v = select(0.0, S[s_row + u32(clamp(ix, 0, i32(params.ws) - 1))], ok);
          ${acc.fma('v', wLoad)}
          wi += w_step;
        }
      }
    }
    if (base + lid < params.hw) {
      let o_base = (g_chan0(n, grp) + a0) * params.hw + pix;
${Array.from({ length: at }, (_, j) => `      if (a0 + ${j}u < params.a_g) { OUT[o_base + ${j}u * params.hw] = ${acc.value(j)}${bias ? ` + BIAS[grp * params.a_g + a0 + ${j}u]` : ''}; }`).join('\n')}
    }
  }
}`;
}

/**
 * The direct kernel specialised on the kernel width, x-stride and x-dilation: each thread computes
 * `px` adjacent output pixels of one row for `at` channels. Per (input channel, kernel row) it
 * loads the input row segment all its taps and pixels read (span = (px−1)·sx + (kW−1)·dx + 1
 * values, as vec4s when `vecS`) into registers once, then for each kx loads the block's weights
 * once (uniform across the workgroup) and uses them for all `px` pixels.
 */
export interface ConvDirectRowsConfig {
  at: number;
  /** Output pixels per thread. */
  px: number;
  kw: number;
  sx: number;
  dx: number;
  /** Whether S is read as vec4s; `ph` is then the lane offset of the padding inside a vec4. */
  vecS: boolean;
  ph: number;
  bias: boolean;
  /**
   * Needs subgroups of ≥ 8 lanes: per (input channel, kernel row), lane l of each 8 loads the
   * weights of tap kx = l (and l + 8, …) and `subgroupBroadcast` hands them out, one load for
   * 8 taps instead of one per tap (on lavapipe every load is a loop over the lanes).
   */
  sub?: boolean;
  params: Params;
}

/** Input values one thread of {@link convDirectRowsKernel} keeps per kernel row. */
export const rowSpan = (px: number, kw: number, sx: number, dx: number) => (px - 1) * sx + (kw - 1) * dx + 1;

export function convDirectRowsKernel(c: ConvDirectRowsConfig): Kernel {
  const { at, px, kw, sx, dx, vecS, ph, bias, sub } = c;
  return {
    key: `conv_direct_rows:at${at}:px${px}:kw${kw}:sx${sx}:dx${dx}:${vecS ? `v${ph}` : 's'}:${bias ? 'b' : 'nb'}${sub ? ':sg' : ''}`,
    wgsl: () => convDirectRowsWgsl(c),
  };
}

function convDirectRowsWgsl({ at, px, kw, sx, dx, vecS, ph, bias, sub = false, params: p }: ConvDirectRowsConfig): string {
  const span = rowSpan(px, kw, sx, dx);
  const vec = at >= 4;
  const nv = vec ? at / 4 : at;
  const nb = Math.ceil((ph + span) / 4);
  const r = (n: number) => [...Array(n).keys()];
  const zero = vec ? 'vec4<f32>(0.0)' : '0.0';
  return `${sub ? 'enable subgroups;\n' : ''}${convPrelude('S', bias, p, { W: vec ? 'vec4<f32>' : 'f32', S: vecS ? 'vec4<f32>' : 'f32' })}
${directMain(at, sub)}${sub ? '\n  let lane = sgid & 7u;' : ''}
  let w_base = grp * params.b * params.kh * ${kw}u * w_step + ${vec ? 'a0 / 4u' : 'a0'};
  let hs = i32(params.hs);
  let ws = i32(params.ws);
  let ws4 = ws / 4;
  // Uniform loop bounds keep the weight index uniform: out-of-range pixels and taps compute
  // on clamped addresses and are masked or not stored.
  for (var base = wid.x * ${WG}u; base < params.threads; base += nwg.x * ${WG}u) {
    let t = min(base + lid, params.threads - 1u);
    let oy = t / params.wq;
    let ox0 = (t - oy * params.wq) * ${px}u;
    let iy0 = i32(oy) * params.sy - params.py;
    let ix0 = i32(ox0) * ${sx} - params.px;
${
  vecS
    ? r(nb).map((k) => `    let bk${k} = (ix0 - ${ph}) / 4 + ${k}; let ok${k} = bk${k} >= 0 && bk${k} < ws4; let c${k} = u32(clamp(bk${k}, 0, ws4 - 1));`).join('\n')
    : r(span).map((e) => `    let ok${e} = s_col_in(ix0 + ${e}); let c${e} = u32(clamp(ix0 + ${e}, 0, ws - 1));`).join('\n')
}
${r(px).map((j) => r(nv).map((q) => `    var acc${j}_${q} = ${zero};`).join(' ')).join('\n')}
    var wi = w_base;
    for (var b = 0u; b < params.b; b++) {
      let s_chan = s_base + b * plane;
      for (var ky = 0u; ky < params.kh; ky++) {
        let iy = iy0 + i32(ky) * params.dy;
        let rok = s_row_in(iy);
        let s_row = (s_chan + u32(clamp(iy, 0, hs - 1)) * params.ws)${vecS ? ' / 4u' : ''};
${
  vecS
    ? r(nb).map((k) => `        let q${k} = select(vec4<f32>(0.0), S[s_row + c${k}], rok && ok${k});`).join('\n') +
      '\n' +
      r(span).map((e) => `        let v${e} = q${Math.floor((ph + e) / 4)}[${(ph + e) % 4}];`).join('\n')
    : r(span).map((e) => `        let v${e} = select(0.0, S[s_row + c${e}], rok && ok${e});`).join('\n')
}
${
  sub
    ? r(Math.ceil(kw / 8))
        .map((i) => r(nv).map((q) => `        let wl${i}_${q} = W[wi + min(${8 * i}u + lane, ${kw - 1}u) * w_step + ${q}u];`).join('\n'))
        .join('\n')
    : ''
}
${r(kw)
  .map(
    (kx) =>
      `        {\n${r(nv)
        .map((q) => (sub ? `          let w${q} = subgroupBroadcast(wl${kx >> 3}_${q}, ${kx & 7}u);` : `          let w${q} = W[wi + ${kx}u * w_step + ${q}u];`))
        .join('\n')}\n${r(px)
        .map((j) => r(nv).map((q) => `          acc${j}_${q} += v${j * sx + kx * dx} * w${q};`).join(' '))
        .join('\n')}\n        }`,
  )
  .join('\n')}
        wi += ${kw}u * w_step;
      }
    }
    if (base + lid < params.threads) {
      let o_base = (g_chan0(n, grp) + a0) * params.hw + oy * params.wg + ox0;
${r(px)
  .map(
    (j) =>
      `      if (ox0 + ${j}u < params.wg) {\n${r(at)
        .map((i) => {
          const v = vec ? `acc${j}_${Math.floor(i / 4)}[${i % 4}]` : `acc${j}_${i}`;
          return `        if (a0 + ${i}u < params.a_g) { OUT[o_base + ${i}u * params.hw + ${j}u] = ${v}${bias ? ` + BIAS[grp * params.a_g + a0 + ${i}u]` : ''}; }`;
        })
        .join('\n')}\n      }`,
  )
  .join('\n')}
    }
  }
}`;
}

/**
 * A 1×1 stride-1 conv as a per-sample matmul: out[n, j, p] = Σ_r M[r, j] · X[n, r, p] (+ bias[j]),
 * with M the weight packed so that j is contiguous. Each thread computes 4 pixels (one vec4 of
 * X) × `block` (4 or 8) output channels.
 */
export function convPointwiseKernel(c: ConvBlockConfig): Kernel {
  return { key: `conv_pointwise:at${c.block}:${c.bias ? 'b' : 'nb'}`, wgsl: () => convPointwiseWgsl(c) };
}

function convPointwiseWgsl({ block: at, bias, params: p }: ConvBlockConfig): string {
  const nv = at / 4;
  return `${convPrelude('X', bias, p, { X: 'vec4<f32>', W: 'vec4<f32>', OUT: 'vec4<f32>' }, false)}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
  let j0 = wid.y * ${at}u;
  let n = wid.z;
  for (var base = wid.x * ${WG}u; base < params.hw4; base += nwg.x * ${WG}u) {
    let q = min(base + lid, params.hw4 - 1u);
${Array.from({ length: at }, (_, j) => `    var acc${j} = vec4<f32>(0.0);`).join('\n')}
    var xi = n * params.r * params.hw4 + q;
    var wi = j0 / 4u;
    for (var r = 0u; r < params.r; r++) {
      let v = X[xi];
${Array.from({ length: nv }, (_, c) => `      let w${c} = W[wi + ${c}u];`).join('\n')}
${Array.from({ length: at }, (_, j) => `      acc${j} += v * w${Math.floor(j / 4)}[${j % 4}];`).join('\n')}
      xi += params.hw4;
      wi += params.j_pad4;
    }
    if (base + lid < params.hw4) {
      let o = (n * params.j + j0) * params.hw4 + q;
${Array.from({ length: at }, (_, j) => `      if (j0 + ${j}u < params.j) { OUT[o + ${j}u * params.hw4] = acc${j}${bias ? ` + BIAS[j0 + ${j}u]` : ''}; }`).join('\n')}
    }
  }
}`;
}

/** Output of a conv with nothing to sum over: the bias broadcast over `params.hw` pixels (or zeros). */
export function convFillBiasKernel(bias: boolean, params: Params): Kernel {
  const names = bias ? ['BIAS'] : [];
  return {
    key: `conv_fill_bias:${bias ? 'b' : 'nb'}`,
    wgsl: () => `${bindings(names, ['OUT'])}\n${params.wgsl(names.length + 1)}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  for (var i = gid.x; i < params.n; i += nwg.x * ${WG}u) { OUT[i] = ${bias ? 'BIAS[(i / params.hw) % params.c]' : '0.0'}; }
}`,
  };
}
