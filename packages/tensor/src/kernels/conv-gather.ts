/**
 * The gather (transposed) convolution kernel: S-shaped output from the grid tensor G and the
 * weight (convTranspose2d's forward, conv2d's input gradient). See conv-geometry.ts.
 *
 * out[n, group·B + b, Q] = Σ_{a in group, (ky, kx) : Q + p − k·d = P·s, P inside G} W[a, b, ky, kx] · G[n, a, P]
 *
 * Each output pixel gathers from the grid positions that map onto it, so there are no scattered
 * writes and no atomics. Three faster special cases come first:
 * - 1×1 stride 1: the matmul-shaped pointwise kernel (conv-direct.ts);
 * - kernel = stride, no padding (SAM 2's 2×2 stride-2 upscaling): every output pixel has exactly
 *   one tap, so per tap it is a 1×1 conv with strided writes ({@link unpatch});
 * - any other stride 1: a direct conv with the kernel flipped ({@link flippedDirect}).
 * Otherwise one thread computes one pixel for a block of BT channels b. Pixels are numbered
 * phase-major (all pixels with the same (y mod sy, x mod sx) together) so that the threads of a
 * workgroup mostly share the same set of contributing taps and do not diverge.
 */
import { Tensor } from '../tensor/tensor.js';
import { getBackend } from '../runtime.js';
import { Params, bindings, linearMain, runLinear } from './wgsl.js';
import { isPointwise, type ConvGeometry } from './conv-geometry.js';
import { packConvWeight } from './conv-pack.js';
import { runOverSamples } from './conv-batch.js';
import { accumulators, channelBlock, convDirect, fillBias, pointwise } from './conv-direct.js';

const WG = 64;

/** Workgroups along x for a uniform grid-stride loop over `items` (capped at the dispatch limit). */
function groupsFor(items: number): number {
  return Math.max(1, Math.min(Math.ceil(items / WG), getBackend().info.limits.maxComputeWorkgroupsPerDimension));
}

/**
 * Runs the gather conv: `gt` [N, A, Hg, Wg], `w` [A, B, kH, kW], optional `bias` [groups·B];
 * returns S-shaped [N, groups·B, Hs, Ws].
 */
export function convGather(gt: Tensor, w: Tensor, bias: Tensor | null, g: ConvGeometry): Tensor {
  const out = Tensor.empty([g.n, g.groups * g.b, g.hs, g.ws]);
  if (out.size === 0) return out;
  if (g.aG * g.kh * g.kw * g.hg * g.wg === 0) return fillBias(out, bias, g.groups * g.b, g.hs * g.ws);
  if (isPointwise(g) && (g.hs * g.ws) % 4 === 0) return pointwise(gt, w, bias, g, 'gather', out);
  if (isUnpatch(g) && (g.hg * g.wg) % 4 === 0) return unpatch(gt, w, bias, g, out);
  if (g.stride[0] === 1 && g.stride[1] === 1 && g.padding[0] <= g.dilation[0] * (g.kh - 1) && g.padding[1] <= g.dilation[1] * (g.kw - 1)) {
    out.dispose();
    return flippedDirect(gt, w, bias, g);
  }
  const bt = channelBlock(g.b);
  const vec = bt >= 4;
  const packed = packConvWeight(w, g, 'gather', bt);
  const bPad = Math.ceil(g.b / bt) * bt;
  const bBlocks = bPad / bt;
  const [sy, sx] = g.stride;
  const my = Math.ceil(g.hs / sy);
  const mx = Math.ceil(g.ws / sx);
  const total = sy * sx * my * mx;
  const p = new Params()
    .u32('total', total)
    .u32('my', my)
    .u32('mx', mx)
    .u32('hs', g.hs)
    .u32('ws', g.ws)
    .u32('hg', g.hg)
    .u32('wg', g.wg)
    .u32('b', g.b)
    .u32('a', g.a)
    .u32('a_g', g.aG)
    .u32('b_blocks', bBlocks)
    .u32('b_pad', bPad)
    .u32('groups', g.groups)
    .u32('kh', g.kh)
    .u32('kw', g.kw)
    .i32('sy', sy)
    .i32('sx', sx)
    .i32('py', g.padding[0])
    .i32('px', g.padding[1])
    .i32('dy', g.dilation[0])
    .i32('dx', g.dilation[1]);
  const acc = accumulators(bt);
  const names = bias ? ['G', 'W', 'BIAS'] : ['G', 'W'];
  const wgsl = () => `${bindings(names, ['OUT'], { W: vec ? 'vec4<f32>' : 'f32' })}
${p.wgsl(names.length + 1)}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
  let grp = wid.y / params.b_blocks;
  let b0 = (wid.y % params.b_blocks) * ${bt}u;
  let n = wid.z;
  let plane_g = params.hg * params.wg;
  let g_base = (n * params.a + grp * params.a_g) * plane_g;
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
    let o_base = ((n * params.groups + grp) * params.b + b0) * params.hs * params.ws + qy * params.ws + qx;
${Array.from({ length: bt }, (_, j) => `    if (b0 + ${j}u < params.b) { OUT[o_base + ${j}u * params.hs * params.ws] = ${acc.value(j)}${bias ? ` + BIAS[grp * params.b + b0 + ${j}u]` : ''}; }`).join('\n')}
  }
}`;
  runOverSamples(
    'conv',
    g.n,
    { key: `conv_gather:bt${bt}:${bias ? 'b' : 'nb'}`, wgsl },
    [{ perSample: gt }, packed, ...(bias ? [bias] : [])],
    [{ perSample: out }],
    p.bytes(),
    (count) => [groupsFor(total), g.groups * bBlocks, count],
  );
  packed.dispose();
  return out;
}

/** Kernel == stride, no padding or dilation, output exactly stride × the grid: every output pixel has one tap. */
function isUnpatch(g: ConvGeometry): boolean {
  return (
    g.kh === g.stride[0] && g.kw === g.stride[1] && g.padding[0] === 0 && g.padding[1] === 0 && g.dilation[0] === 1 && g.dilation[1] === 1 && g.hs === g.hg * g.kh && g.ws === g.wg * g.kw
  );
}

/**
 * The transposed conv whose kernel equals its stride (SAM 2's 2×2 stride-2 upscaling): each
 * grid pixel spreads into its own kH×kW output block, so for a fixed tap (ky, kx) the op is a
 * 1×1 conv whose outputs land on every stride-th pixel. One thread computes 4 grid pixels (one
 * vec4 of G) × 8 channels b for one tap: per input channel a, one vec4 load of G and two
 * (uniform) vec4 loads of the weight feed 32 multiply-adds.
 */
function unpatch(gt: Tensor, w: Tensor, bias: Tensor | null, g: ConvGeometry, out: Tensor): Tensor {
  const bt = 8;
  const packed = packConvWeight(w, g, 'gather', bt);
  const bPad = Math.ceil(g.b / bt) * bt;
  const bBlocks = bPad / bt;
  const taps = g.kh * g.kw;
  const hw4 = (g.hg * g.wg) / 4;
  const p = new Params()
    .u32('hw4', hw4)
    .u32('wg', g.wg)
    .u32('hs', g.hs)
    .u32('ws', g.ws)
    .u32('a', g.a)
    .u32('a_g', g.aG)
    .u32('b', g.b)
    .u32('b_blocks', bBlocks)
    .u32('b_pad4', bPad / 4)
    .u32('groups', g.groups)
    .u32('taps', taps)
    .u32('kh', g.kh)
    .u32('kw', g.kw);
  const names = bias ? ['G', 'W', 'BIAS'] : ['G', 'W'];
  const r = (n: number) => [...Array(n).keys()];
  const wgsl = () => `${bindings(names, ['OUT'], { G: 'vec4<f32>', W: 'vec4<f32>' })}
${p.wgsl(names.length + 1)}
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
  let g_base = (n * params.a + grp * params.a_g) * params.hw4;
  for (var base = wid.x * ${WG}u; base < params.hw4; base += nwg.x * ${WG}u) {
    let q = min(base + lid, params.hw4 - 1u);
${r(bt).map((j) => `    var acc${j} = vec4<f32>(0.0);`).join('\n')}
    var gi = g_base + q;
    var wi = w_base;
    for (var a = 0u; a < params.a_g; a++) {
      let v = G[gi];
      let w0 = W[wi];
      let w1 = W[wi + 1u];
${r(bt).map((j) => `      acc${j} += v * w${j >> 2}[${j & 3}];`).join('\n')}
      gi += params.hw4;
      wi += params.b_pad4;
    }
    if (base + lid < params.hw4) {
      let c0 = (n * params.groups + grp) * params.b + b0;
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
  runOverSamples(
    'conv',
    g.n,
    { key: `conv_unpatch:${bias ? 'b' : 'nb'}`, wgsl },
    [{ perSample: gt }, packed, ...(bias ? [bias] : [])],
    [{ perSample: out }],
    p.bytes(),
    (count) => [groupsFor(hw4), g.groups * taps * bBlocks, count],
  );
  packed.dispose();
  return out;
}

/**
 * A stride-1 transposed conv is a direct conv of G with the kernel flipped, the channel roles of
 * the weight swapped and padding d·(k − 1) − p, so it runs on the faster direct kernel.
 */
function flippedDirect(gt: Tensor, w: Tensor, bias: Tensor | null, g: ConvGeometry): Tensor {
  const wf = Tensor.empty([g.groups * g.b, g.aG, g.kh, g.kw]);
  const k = g.kh * g.kw;
  const p = new Params().u32('n', wf.size).u32('a_g', g.aG).u32('b', g.b).u32('k', k);
  // wf[grp·B + b, a, kk'] = W[grp·aG + a, b, k − 1 − kk']
  runLinear(
    getBackend(),
    {
      key: 'conv_flip_transpose',
      wgsl: () => `${bindings(['W'], ['WF'])}\n${p.wgsl(2)}
${linearMain(`  let kk = i % params.k; var r = i / params.k;
  let a = r % params.a_g; r = r / params.a_g;
  let b = r % params.b; let grp = r / params.b;
  WF[i] = W[((grp * params.a_g + a) * params.b + b) * params.k + params.k - 1u - kk];`)}`,
    },
    [w.range],
    [wf.range],
    p,
    wf.size,
  );
  const out = convDirect(gt, wf, bias, {
    n: g.n,
    a: g.groups * g.b,
    b: g.aG,
    groups: g.groups,
    aG: g.b,
    hg: g.hs,
    wg: g.ws,
    hs: g.hg,
    ws: g.wg,
    kh: g.kh,
    kw: g.kw,
    stride: [1, 1],
    padding: [g.dilation[0] * (g.kh - 1) - g.padding[0], g.dilation[1] * (g.kw - 1) - g.padding[1]],
    dilation: g.dilation,
  });
  wf.dispose();
  return out;
}
