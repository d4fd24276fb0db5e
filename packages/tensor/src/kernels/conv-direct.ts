/**
 * The direct convolution kernels: G-shaped output from the sampled tensor S and the weight
 * (conv2d's forward, convTranspose2d's input gradient, and stride-1 transposed convs through a
 * flipped weight). See conv-geometry.ts for G, S, A, B.
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
 */
import { Tensor } from '../tensor/tensor.js';
import { getBackend } from '../runtime.js';
import { Params, bindings } from './wgsl.js';
import { isPointwise, type ConvGeometry } from './conv-geometry.js';
import { packConvWeight } from './conv-pack.js';
import { runOverSamples } from './conv-batch.js';

const WG = 64;

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

/** Workgroups along x for a uniform grid-stride loop over `items` (capped at the dispatch limit). */
function pixelGroups(items: number): number {
  return Math.max(1, Math.min(Math.ceil(items / WG), getBackend().info.limits.maxComputeWorkgroupsPerDimension));
}

/**
 * Runs the direct conv: `s` [N, groups·B, Hs, Ws], `w` [A, B, kH, kW], optional `bias` [A];
 * returns G-shaped [N, A, Hg, Wg].
 */
export function convDirect(s: Tensor, w: Tensor, bias: Tensor | null, g: ConvGeometry): Tensor {
  const out = Tensor.empty([g.n, g.a, g.hg, g.wg]);
  if (out.size === 0) return out;
  if (g.b * g.kh * g.kw === 0) return fillBias(out, bias, g.a, g.hg * g.wg);
  if (isPointwise(g) && (g.hg * g.wg) % 4 === 0) return pointwise(s, w, bias, g, 'direct', out);
  const at = Math.min(4, channelBlock(g.aG));
  const vec = at >= 4;
  const packed = packConvWeight(w, g, 'direct', at);
  const aPad = Math.ceil(g.aG / at) * at;
  const aBlocks = aPad / at;
  const span = (px: number) => (px - 1) * g.stride[1] + (g.kw - 1) * g.dilation[1] + 1;
  const px = span(Math.min(4, g.wg)) <= MAX_SPAN ? Math.min(4, g.wg) : 1;
  if (span(px) <= MAX_SPAN) {
    directRows(s, packed, bias, g, at, px, aPad, out);
    packed.dispose();
    return out;
  }
  // Kernel rows too wide (dilated) to keep in registers: one pixel per thread, taps in loops.
  const p = new Params()
    .u32('hw', g.hg * g.wg)
    .u32('wg', g.wg)
    .u32('hs', g.hs)
    .u32('ws', g.ws)
    .u32('b', g.b)
    .u32('a', g.a)
    .u32('a_g', g.aG)
    .u32('a_blocks', aBlocks)
    .u32('a_pad', aPad)
    .u32('groups', g.groups)
    .u32('kh', g.kh)
    .u32('kw', g.kw)
    .i32('sy', g.stride[0])
    .i32('sx', g.stride[1])
    .i32('py', g.padding[0])
    .i32('px', g.padding[1])
    .i32('dy', g.dilation[0])
    .i32('dx', g.dilation[1]);
  const acc = accumulators(at);
  const names = bias ? ['S', 'W', 'BIAS'] : ['S', 'W'];
  const wLoad = (q: number) => `W[wi + ${q}u]`;
  const wgsl = () => `${bindings(names, ['OUT'], { W: vec ? 'vec4<f32>' : 'f32' })}
${p.wgsl(names.length + 1)}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
  let grp = wid.y / params.a_blocks;
  let a0 = (wid.y % params.a_blocks) * ${at}u;
  let w_step = ${vec ? 'params.a_pad / 4u' : 'params.a_pad'};
  let n = wid.z;
  let plane = params.hs * params.ws;
  let s_base = (n * params.groups + grp) * params.b * plane;
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
        let row_ok = iy >= 0 && iy < i32(params.hs);
        let s_row = s_chan + u32(clamp(iy, 0, i32(params.hs) - 1)) * params.ws;
        for (var kx = 0u; kx < params.kw; kx++) {
          let ix = ix0 + i32(kx) * params.dx;
          let ok = row_ok && ix >= 0 && ix < i32(params.ws);
          let v = select(0.0, S[s_row + u32(clamp(ix, 0, i32(params.ws) - 1))], ok);
          ${acc.fma('v', wLoad)}
          wi += w_step;
        }
      }
    }
    if (base + lid < params.hw) {
      let o_base = (n * params.a + grp * params.a_g + a0) * params.hw + pix;
${Array.from({ length: at }, (_, j) => `      if (a0 + ${j}u < params.a_g) { OUT[o_base + ${j}u * params.hw] = ${acc.value(j)}${bias ? ` + BIAS[grp * params.a_g + a0 + ${j}u]` : ''}; }`).join('\n')}
    }
  }
}`;
  runOverSamples(
    'conv',
    g.n,
    { key: `conv_direct:at${at}:${bias ? 'b' : 'nb'}`, wgsl },
    [{ perSample: s }, packed, ...(bias ? [bias] : [])],
    [{ perSample: out }],
    p.bytes(),
    (count) => [pixelGroups(g.hg * g.wg), g.groups * aBlocks, count],
  );
  packed.dispose();
  return out;
}

/** Longest input row segment a thread of {@link directRows} keeps in registers. */
const MAX_SPAN = 40;

/**
 * The direct conv specialised on the kernel width, x-stride and x-dilation: each thread computes
 * `px` adjacent output pixels of one row for `at` channels. Per (input channel, kernel row) it
 * loads the input row segment all its taps and pixels read (span = (px−1)·sx + (kW−1)·dx + 1
 * values, as vec4s when aligned) into registers once, then for each kx loads the block's weights
 * once (uniform across the workgroup) and uses them for all `px` pixels. For SAM 2's 7×7
 * stride-4 patch embedding that is 5 vec4 input loads and 7 vec4 weight loads per 112
 * multiply-adds, instead of 28 scalar input loads with one pixel per thread.
 */
function directRows(s: Tensor, packed: Tensor, bias: Tensor | null, g: ConvGeometry, at: number, px: number, aPad: number, out: Tensor): void {
  const [, sx] = g.stride;
  const [, dx] = g.dilation;
  const span = (px - 1) * sx + (g.kw - 1) * dx + 1;
  const vec = at >= 4;
  const nv = vec ? at / 4 : at;
  const aBlocks = aPad / at;
  const wq = Math.ceil(g.wg / px);
  // Rows whose segments start at a fixed offset inside a vec4 load as vec4s.
  const vecS = dx === 1 && g.ws % 4 === 0 && (px * sx) % 4 === 0;
  const ph = (4 - (g.padding[1] % 4)) % 4;
  const nb = Math.ceil((ph + span) / 4);
  const p = new Params()
    .u32('threads', g.hg * wq)
    .u32('wq', wq)
    .u32('hw', g.hg * g.wg)
    .u32('wg', g.wg)
    .u32('hs', g.hs)
    .u32('ws', g.ws)
    .u32('b', g.b)
    .u32('a', g.a)
    .u32('a_g', g.aG)
    .u32('a_blocks', aBlocks)
    .u32('a_pad', aPad)
    .u32('groups', g.groups)
    .u32('kh', g.kh)
    .i32('sy', g.stride[0])
    .i32('py', g.padding[0])
    .i32('px', g.padding[1])
    .i32('dy', g.dilation[0]);
  const r = (n: number) => [...Array(n).keys()];
  const names = bias ? ['S', 'W', 'BIAS'] : ['S', 'W'];
  const zero = vec ? 'vec4<f32>(0.0)' : '0.0';
  const wgsl = () => `${bindings(names, ['OUT'], { W: vec ? 'vec4<f32>' : 'f32', S: vecS ? 'vec4<f32>' : 'f32' })}
${p.wgsl(names.length + 1)}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
  let grp = wid.y / params.a_blocks;
  let a0 = (wid.y % params.a_blocks) * ${at}u;
  let w_step = ${vec ? 'params.a_pad / 4u' : 'params.a_pad'};
  let w_base = grp * params.b * params.kh * ${g.kw}u * w_step + ${vec ? 'a0 / 4u' : 'a0'};
  let n = wid.z;
  let plane = params.hs * params.ws;
  let s_base = (n * params.groups + grp) * params.b * plane;
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
    : r(span).map((e) => `    let ok${e} = ix0 + ${e} >= 0 && ix0 + ${e} < ws; let c${e} = u32(clamp(ix0 + ${e}, 0, ws - 1));`).join('\n')
}
${r(px).map((j) => r(nv).map((q) => `    var acc${j}_${q} = ${zero};`).join(' ')).join('\n')}
    var wi = w_base;
    for (var b = 0u; b < params.b; b++) {
      let s_chan = s_base + b * plane;
      for (var ky = 0u; ky < params.kh; ky++) {
        let iy = iy0 + i32(ky) * params.dy;
        let rok = iy >= 0 && iy < hs;
        let s_row = (s_chan + u32(clamp(iy, 0, hs - 1)) * params.ws)${vecS ? ' / 4u' : ''};
${
  vecS
    ? r(nb).map((k) => `        let q${k} = select(vec4<f32>(0.0), S[s_row + c${k}], rok && ok${k});`).join('\n') +
      '\n' +
      r(span).map((e) => `        let v${e} = q${Math.floor((ph + e) / 4)}[${(ph + e) % 4}];`).join('\n')
    : r(span).map((e) => `        let v${e} = select(0.0, S[s_row + c${e}], rok && ok${e});`).join('\n')
}
${r(g.kw)
  .map(
    (kx) =>
      `        {\n${r(nv).map((q) => `          let w${q} = W[wi + ${q}u];`).join('\n')}\n${r(px)
        .map((j) => r(nv).map((q) => `          acc${j}_${q} += v${j * sx + kx * dx} * w${q};`).join(' '))
        .join('\n')}\n          wi += w_step;\n        }`,
  )
  .join('\n')}
      }
    }
    if (base + lid < params.threads) {
      let o_base = (n * params.a + grp * params.a_g + a0) * params.hw + oy * params.wg + ox0;
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
  runOverSamples(
    'conv',
    g.n,
    { key: `conv_direct_rows:at${at}:px${px}:kw${g.kw}:sx${sx}:dx${dx}:${vecS ? `v${ph}` : 's'}:${bias ? 'b' : 'nb'}`, wgsl },
    [{ perSample: s }, packed, ...(bias ? [bias] : [])],
    [{ perSample: out }],
    p.bytes(),
    (count) => [pixelGroups(g.hg * wq), g.groups * aBlocks, count],
  );
}

/**
 * A 1×1 stride-1 conv as a per-sample matmul: out[n, j, p] = Σ_r M[r, j] · X[n, r, p] (+ bias[j]),
 * with M the weight packed so that j is contiguous. Each thread computes 4 pixels (one vec4 of
 * X) × 8 output channels. `layout` says which side of W is j: 'direct' (conv2d forward, j = a)
 * or 'gather' (its input gradient, j = b). Needs the pixel count to be a multiple of 4.
 */
export function pointwise(x: Tensor, w: Tensor, bias: Tensor | null, g: ConvGeometry, layout: 'direct' | 'gather', out: Tensor): Tensor {
  const [rDim, jDim] = layout === 'direct' ? [g.b, g.a] : [g.a, g.b];
  const at = channelBlock(jDim) >= 4 ? 8 : 4;
  const packed = packConvWeight(w, g, layout, at);
  const jPad = Math.ceil(jDim / at) * at;
  const hw4 = (g.hg * g.wg) / 4;
  const p = new Params().u32('hw4', hw4).u32('r', rDim).u32('j', jDim).u32('j_pad4', jPad / 4);
  const names = bias ? ['X', 'W', 'BIAS'] : ['X', 'W'];
  const nv = at / 4;
  const wgsl = () => `${bindings(names, ['OUT'], { X: 'vec4<f32>', W: 'vec4<f32>', OUT: 'vec4<f32>' })}
${p.wgsl(names.length + 1)}
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
  runOverSamples(
    'conv',
    g.n,
    { key: `conv_pointwise:at${at}:${bias ? 'b' : 'nb'}`, wgsl },
    [{ perSample: x }, packed, ...(bias ? [bias] : [])],
    [{ perSample: out }],
    p.bytes(),
    (count) => [pixelGroups(hw4), jPad / at, count],
  );
  packed.dispose();
  return out;
}

/** Output of a conv with nothing to sum over: the bias broadcast (or zeros). */
export function fillBias(out: Tensor, bias: Tensor | null, c: number, hw: number): Tensor {
  const n = out.shape[0];
  const params = (_n0: number, count: number) => new Params().u32('n', count * c * hw).u32('c', c).u32('hw', hw);
  const names = bias ? ['BIAS'] : [];
  runOverSamples(
    'conv',
    n,
    {
      key: `conv_fill_bias:${bias ? 'b' : 'nb'}`,
      wgsl: () => `${bindings(names, ['OUT'])}\n${params(0, 0).wgsl(names.length + 1)}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  for (var i = gid.x; i < params.n; i += nwg.x * ${WG}u) { OUT[i] = ${bias ? 'BIAS[(i / params.hw) % params.c]' : '0.0'}; }
}`,
    },
    bias ? [bias] : [],
    [{ perSample: out }],
    (n0, count) => params(n0, count).bytes(),
    (count) => [pixelGroups(count * c * hw), 1, 1],
  );
  return out;
}
