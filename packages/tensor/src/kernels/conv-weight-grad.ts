/**
 * The weight gradient of a convolution (conv2d and convTranspose2d alike; see conv-geometry.ts):
 *
 * dW[a, b, ky, kx] = Σ_{n, P} G[n, a, P] · S[n, group(a)·B + b, P·s − p + k·d]
 *
 * This is a matmul of G (rows a, reduction over n·P) with the im2col view of S (columns
 * j = (b, ky, kx)), computed without materialising im2col: one thread owns a tile of AT channels
 * a × 4 columns j, keeps the AT·4 sums in registers and reads the columns' S values straight
 * from S with bounds checks. The reduction (N·Hg·Wg terms, 65536 for a 256×256 output) is split
 * into chunks of rows (n, y) so that enough threads run; each chunk writes its own partial
 * weight and the partials are summed by a second pass — no float atomics.
 */
import { Tensor } from '../tensor/tensor.js';
import { getBackend } from '../runtime.js';
import { Params, bindings } from './wgsl.js';
import type { ConvGeometry } from './conv-geometry.js';
import { sum } from '../ops/reduce.js';
import { zeros } from '../ops/creation.js';

const WG = 64;
/** Threads to aim for when choosing how many chunks the reduction is split into. */
const TARGET_THREADS = 8192;
/** Cap on the partial sums' size (bytes). */
const MAX_PARTIAL_BYTES = 64 << 20;
const JT = 4;

/** dW [A, B, kH, kW] from `gt` (G) and `st` (S). */
export function convWeightGrad(gt: Tensor, st: Tensor, g: ConvGeometry): Tensor {
  const j = g.b * g.kh * g.kw;
  const numel = g.a * j;
  const rows = g.n * g.hg;
  const shape = [g.a, g.b, g.kh, g.kw];
  if (numel === 0 || rows * g.wg === 0) {
    return zeros(shape);
  }
  const at = g.aG >= 4 ? 4 : g.aG >= 2 ? 2 : 1;
  const aBlocks = Math.ceil(g.aG / at);
  const jTiles = Math.ceil(j / JT);
  const tiles = g.groups * aBlocks * jTiles;
  const maxWg = getBackend().info.limits.maxComputeWorkgroupsPerDimension;
  if (Math.ceil(tiles / WG) > maxWg) {
    throw new RangeError(`conv weight gradient: weight ${JSON.stringify(shape)} needs ${tiles} thread tiles, more than one dispatch allows`);
  }
  let chunks = Math.min(rows, Math.max(1, Math.ceil(TARGET_THREADS / tiles)), Math.max(1, Math.floor(MAX_PARTIAL_BYTES / 4 / numel)), maxWg);
  const rowsPer = Math.ceil(rows / chunks);
  chunks = Math.ceil(rows / rowsPer);
  const partial = Tensor.empty(chunks === 1 ? shape : [chunks, ...shape]);
  const p = new Params()
    .u32('tiles', tiles)
    .u32('j_tiles', jTiles)
    .u32('a_blocks', aBlocks)
    .u32('j', j)
    .u32('rows', rows)
    .u32('rows_per', rowsPer)
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
  const cols = [...Array(JT).keys()];
  const ats = [...Array(at).keys()];
  const wgsl = () => `${bindings(['G', 'S'], ['DW'])}
${p.wgsl(3)}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tile = wid.x * ${WG}u + lid;
  if (tile >= params.tiles) { return; }
  let chunk = wid.y;
  let ablk = tile / params.j_tiles;
  let jt0 = (tile % params.j_tiles) * ${JT}u;
  let grp = ablk / params.a_blocks;
  let a0 = (ablk % params.a_blocks) * ${at}u;
  let plane_g = params.hg * params.wg;
  let plane_s = params.hs * params.ws;
  let kk = params.kh * params.kw;
  // Per column j = (b, ky, kx): whether it exists, its S channel offset and tap offsets.
${cols
  .map(
    (c) => `  let j${c} = jt0 + ${c}u;
  let ok${c} = j${c} < params.j;
  let b${c} = j${c} / kk;
  let ky${c} = i32((j${c} % kk) / params.kw);
  let kx${c} = i32(j${c} % params.kw);
  let ch${c} = (grp * params.b + b${c}) * plane_s;
  let oy${c} = ky${c} * params.dy - params.py;
  let ox${c} = kx${c} * params.dx - params.px;`,
  )
  .join('\n')}
  // Channels past the group's end read a valid channel; their sums are dropped.
${ats.map((i) => `  let ga${i} = min(a0 + ${i}u, params.a_g - 1u) * plane_g;`).join('\n')}
${ats.map((i) => `  var acc${i} = vec4<f32>(0.0);`).join('\n')}
  let r_end = min(params.rows, (chunk + 1u) * params.rows_per);
  for (var r = chunk * params.rows_per; r < r_end; r++) {
    let n = r / params.hg;
    let y = r - n * params.hg;
    let g_row = (n * params.a + grp * params.a_g) * plane_g + y * params.wg;
    let s_n = n * params.groups * params.b * plane_s;
${cols
  .map(
    (c) => `    let iy${c} = i32(y) * params.sy + oy${c};
    let rok${c} = ok${c} && iy${c} >= 0 && iy${c} < i32(params.hs);
    let srow${c} = s_n + ch${c} + u32(max(iy${c}, 0)) * params.ws;`,
  )
  .join('\n')}
    for (var x = 0u; x < params.wg; x++) {
      let ix = i32(x) * params.sx;
${cols
  .map(
    (c) => `      let ix${c} = ix + ox${c};
      let in${c} = rok${c} && ix${c} >= 0 && ix${c} < i32(params.ws);
      let v${c} = select(0.0, S[select(0u, srow${c} + u32(ix${c}), in${c})], in${c});`,
  )
  .join('\n')}
      let v = vec4<f32>(${cols.map((c) => `v${c}`).join(', ')});
${ats.map((i) => `      acc${i} += G[g_row + ga${i} + x] * v;`).join('\n')}
    }
  }
  let o_base = chunk * params.a * params.j;
${ats
  .map(
    (i) =>
      `  if (a0 + ${i}u < params.a_g) {\n    let o = o_base + (grp * params.a_g + a0 + ${i}u) * params.j;\n${cols
        .map((c) => `    if (ok${c}) { DW[o + j${c}] = acc${i}[${c}]; }`)
        .join('\n')}\n  }`,
  )
  .join('\n')}
}`;
  getBackend().run({
    kernel: { key: `conv_weight_grad:at${at}`, wgsl },
    inputs: [gt.range, st.range],
    outputs: [partial.range],
    params: p.bytes(),
    workgroups: [Math.ceil(tiles / WG), chunks],
  });
  if (chunks === 1) return partial;
  const dw = sum(partial, 0);
  partial.dispose();
  return dw;
}
