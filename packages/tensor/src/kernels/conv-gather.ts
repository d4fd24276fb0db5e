/**
 * The gather (transposed) convolution kernels: S-shaped output from the grid tensor G and the
 * weight (convTranspose2d's forward, conv2d's input gradient); `ops/conv-gather.ts` picks and
 * runs them. See conv-geometry.ts.
 *
 * out[n, group·B + b, Q] = Σ_{a in group, (ky, kx) : Q + p − k·d = P·s, P inside G} W[a, b, ky, kx] · G[n, a, P]
 *
 * Each output pixel gathers from the grid positions that map onto it, so there are no scattered
 * writes and no atomics. One thread computes one pixel for a block of `bt` channels b. Pixels are
 * numbered phase-major (all pixels with the same (y mod sy, x mod sx) together) so that the
 * threads of a workgroup mostly share the same set of contributing taps and do not diverge.
 * Pure generators: no tensors, no dispatch.
 */
import type { Kernel } from '../backend/backend.js';
import { Params, bindings, linearMain } from './wgsl.js';
import { CONV_WG as WG, accumulators, convPrelude, type ConvBlockConfig } from './conv-direct.js';
import { WEIGHT_INDEX_WGSL } from './conv-geometry.js';

/** One output pixel per thread × `block` (bt) channels b. */
export function convGatherKernel(c: ConvBlockConfig): Kernel {
  return { key: `conv_gather:bt${c.block}:${c.bias ? 'b' : 'nb'}`, wgsl: () => convGatherWgsl(c) };
}

function convGatherWgsl({ block: bt, bias, params: p }: ConvBlockConfig): string {
  const vec = bt >= 4;
  const acc = accumulators(bt);
  return `${convPrelude('G', bias, p, { W: vec ? 'vec4<f32>' : 'f32' })}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
  let grp = wid.y / params.b_blocks;
  let b0 = (wid.y % params.b_blocks) * ${bt}u;
  let n = wid.z;
  let plane_g = params.hg * params.wg;
  let g_base = g_chan0(n, grp) * plane_g;
  let w_stride = ${vec ? 'params.b_pad / 4u' : 'params.b_pad'};
  let w_b0 = ${vec ? 'b0 / 4u' : 'b0'};
  for (var idx = wid.x * ${WG}u + lid; idx < params.total; idx += nwg.x * ${WG}u) {
    // Phase-major order: idx = ((ry·sx + rx)·my + jy)·mx + jx, pixel (jy·sy + ry, jx·sx + rx).
    let jx = idx % params.mx;
    var t = idx / params.mx;
    let jy = t % params.my;
    t = t / params.my;
    let qx = jx * u32(params.sx) + t % u32(params.sx);
    let qy = jy * u32(params.sy) + t / u32(params.sx);
    if (qy >= params.hs || qx >= params.ws) { continue; }
    ${acc.decl}
    for (var ky = 0; ky < i32(params.kh); ky++) {
      let ty = i32(qy) + params.py - ky * params.dy;
      if (ty < 0) { break; }
      let iy = ty / params.sy;
      if (iy * params.sy != ty || iy >= i32(params.hg)) { continue; }
      for (var kx = 0; kx < i32(params.kw); kx++) {
        let tx = i32(qx) + params.px - kx * params.dx;
        if (tx < 0) { break; }
        let ix = tx / params.sx;
        if (ix * params.sx != tx || ix >= i32(params.wg)) { continue; }
        var gi = g_base + u32(iy) * params.wg + u32(ix);
        var wi = ((grp * params.kh + u32(ky)) * params.kw + u32(kx)) * params.a_g * w_stride + w_b0;
        for (var a = 0u; a < params.a_g; a++) {
          let v = G[gi];
          ${acc.fma('v', (q) => `W[wi + ${q}u]`)}
          gi += plane_g;
          wi += w_stride;
        }
      }
    }
    let o_base = (s_chan0(n, grp) + b0) * params.hs * params.ws + qy * params.ws + qx;
${Array.from({ length: bt }, (_, j) => `    if (b0 + ${j}u < params.b) { OUT[o_base + ${j}u * params.hs * params.ws] = ${acc.value(j)}${bias ? ` + BIAS[grp * params.b + b0 + ${j}u]` : ''}; }`).join('\n')}
  }
}`;
}

/** Channels b per thread of {@link convUnpatchKernel}. */
export const UNPATCH_BT = 16;

/**
 * The transposed conv whose kernel equals its stride (SAM 2's 2×2 stride-2 upscaling): each
 * grid pixel spreads into its own kH×kW output block, so for a fixed tap (ky, kx) the op is a
 * 1×1 conv whose outputs land on every stride-th pixel. One thread computes 4 grid pixels (one
 * vec4 of G) × {@link UNPATCH_BT} (16) channels b for one tap: per input channel a, one vec4 load
 * of G and four (uniform) vec4 loads of the weight feed 64 multiply-adds.
 */
export function convUnpatchKernel(bias: boolean, params: Params): Kernel {
  return { key: `conv_unpatch:${bias ? 'b' : 'nb'}`, wgsl: () => convUnpatchWgsl(bias, params) };
}

function convUnpatchWgsl(bias: boolean, p: Params): string {
  const bt = UNPATCH_BT;
  const r = (n: number) => [...Array(n).keys()];
  return `${convPrelude('G', bias, p, { G: 'vec4<f32>', W: 'vec4<f32>' })}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
  // wid.y = (group · taps + tap) · b_blocks + b block
  let bblk = wid.y % params.b_blocks;
  let gt = wid.y / params.b_blocks;
  let tap = gt % params.taps;
  let grp = gt / params.taps;
  let ky = tap / params.kw;
  let kx = tap % params.kw;
  let b0 = bblk * ${bt}u;
  let n = wid.z;
  let w_base = (grp * params.taps + tap) * params.a_g * params.b_pad4 + b0 / 4u;
  let g_base = g_chan0(n, grp) * params.hw4;
  for (var base = wid.x * ${WG}u; base < params.hw4; base += nwg.x * ${WG}u) {
    let q = min(base + lid, params.hw4 - 1u);
${r(bt).map((j) => `    var acc${j} = vec4<f32>(0.0);`).join('\n')}
    var gi = g_base + q;
    var wi = w_base;
    for (var a = 0u; a < params.a_g; a++) {
      let v = G[gi];
${r(bt / 4).map((i) => `      let w${i} = W[wi + ${i}u];`).join('\n')}
${r(bt).map((j) => `      acc${j} += v * w${j >> 2}[${j & 3}];`).join('\n')}
      gi += params.hw4;
      wi += params.b_pad4;
    }
    if (base + lid < params.hw4) {
      let c0 = s_chan0(n, grp) + b0;
      let plane = params.hs * params.ws;
${r(4)
  .map(
    (e) => `      {
        let pix = q * 4u + ${e}u;
        let iy = pix / params.wg;
        let o = (iy * params.kh + ky) * params.ws + (pix - iy * params.wg) * params.kw + kx;
${r(bt).map((j) => `        if (b0 + ${j}u < params.b) { OUT[(c0 + ${j}u) * plane + o] = acc${j}[${e}]${bias ? ` + BIAS[grp * params.b + b0 + ${j}u]` : ''}; }`).join('\n')}
      }`,
  )
  .join('\n')}
    }
  }
}`;
}

/** wf[grp·B + b, a, kk'] = W[grp·aG + a, b, k − 1 − kk']: the weight of a stride-1 transposed conv as a direct conv's. */
export function convFlipTransposeKernel(p: Params): Kernel {
  return { key: 'conv_flip_transpose', wgsl: () => convFlipTransposeWgsl(p) };
}

function convFlipTransposeWgsl(p: Params): string {
  return `${bindings(['W'], ['WF'])}\n${p.wgsl(2)}${WEIGHT_INDEX_WGSL}
${linearMain(`  let kk = i % params.k; var r = i / params.k;
  let a = r % params.a_g; r = r / params.a_g;
  let b = r % params.b; let grp = r / params.b;
  WF[i] = W[w_index(grp, a, b, params.k - 1u - kk)];`)}`;
}
