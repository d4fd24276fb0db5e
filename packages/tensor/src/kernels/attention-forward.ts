/**
 * The fused attention forward kernel (flash-attention style): the Lq×Lk score matrix is never
 * stored. A workgroup owns `threads·rows` query rows of one head; thread `lid` owns rows
 * `first + t·threads` (t < rows). K and V are staged tile by tile (`tile` keys) in workgroup
 * memory; within a tile the thread takes `chunk` keys at a time, computes the rows×chunk scores in
 * registers, updates each row's running max and sum (online softmax) and accumulates p·v into its
 * output rows, rescaled by exp(m_old − m_new). The output buffer itself holds the accumulators
 * (each row is owned by one thread); they are divided by the row sums at the end.
 *
 * Scores are in base-2 units (scaled by scale·log2 e, so exp becomes exp2); the stored per-row
 * log-sum-exp `LSE` is in the same units, for the backward kernels.
 *
 * Bindings: Q [h, Lq, d], K [h, Lk, d], V [h, Lk, dv] → O [h, Lq, dv], LSE [h, Lq]; each starts
 * `params.*off` elements into its binding (chunks of heads are bound at aligned offsets).
 * Dispatch: (ceil(Lq / (threads·rows)), heads).
 */
import type { Kernel } from '../backend/backend.js';
import { attentionBindings, attentionMain, configKey, each, fold, grid2, keyValueTileLoop, keyValueTiles, nest, queryKeyScores, rowLoops, type AttentionKernelConfig } from './attention-wgsl.js';

export function attentionForwardKernel(c: AttentionKernelConfig): Kernel {
  return { key: `attn:fwd:${configKey(c)}`, wgsl: () => attentionForwardWgsl(c) };
}

/** Head dims (in vec4s) up to which {@link attentionForwardRegKernel} holds rows in registers. */
export const REG_MAX_VEC4 = 8;

/**
 * The forward kernel for small head dims (`d4`, `v4` vec4s, compile-time, at most
 * {@link REG_MAX_VEC4}) on devices with subgroups of at least 8 lanes (chosen on lavapipe). The
 * thread's query rows and output accumulators live in registers for the whole key loop, where the
 * generic kernel re-reads its query rows and reads and writes its output rows (kept in the output
 * buffer) once per chunk of keys: on lavapipe every such access is a loop over the lanes, which
 * at head dims ≤ 32 costs more than the arithmetic. K and V come straight from their buffers, no
 * staging and no barriers: for a chunk of `chunk` keys (a multiple of 8), lane l of each 8 loads
 * the vec4s of key jb + 8i + l and `subgroupBroadcast` hands them to the other lanes, so one
 * access serves 8 keys. Every thread computes (rows past the end are clamped and never stored),
 * so control flow stays uniform. Same results as the generic kernel up to summation order; same
 * bindings and dispatch. Q, K, V and O rows are addressed through the params' row layouts
 * (`AttentionParams.layout`), so it also reads heads interleaved in a packed qkv projection and
 * writes them interleaved (`packedAttention` in ops/attention.ts: its path without copies).
 */
export function attentionForwardRegKernel(c: AttentionKernelConfig, d4: number, v4: number): Kernel {
  if (!(d4 >= 1 && d4 <= REG_MAX_VEC4 && v4 >= 1 && v4 <= REG_MAX_VEC4)) throw new RangeError(`attention: register kernel needs 1..${REG_MAX_VEC4} vec4s per row, got ${d4}, ${v4}`);
  if (c.chunk % 8 !== 0 || c.threads % 8 !== 0) throw new RangeError(`attention: register kernel needs chunk and threads multiples of 8, got ${c.chunk}, ${c.threads}`);
  return { key: `attn:fwd:reg:${configKey(c)}:d${d4}:v${v4}`, wgsl: () => attentionForwardRegWgsl(c, d4, v4) };
}

function attentionForwardRegWgsl(c: AttentionKernelConfig, D4: number, V4: number): string {
  const { threads: T, rows: R, chunk: C } = c;
  const G = C / 8;
  const { ts, cs } = rowLoops(c, '    ');
  const gs = (f: (g: number) => string, indent = '    ') => each(G, f, indent);
  const kv = (u: number, x: number, what: 'k' | 'v') => `subgroupBroadcast(${what}l${u >> 3}_${x}, ${u & 7}u)`;
  return /* wgsl */ `enable subgroups;
${attentionBindings(c, [['Q', 'd'], ['K', 'd'], ['V', 'dv'], ['O', 'dv'], ['LSE', 'scalar']], 2, 4)}

@compute @workgroup_size(${T})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) sgid: u32) {
  let h = wid.y;
  let hb = h / params.hpb;
  let hh = h % params.hpb;
  let lq = params.lq;
  let lk = params.lk;
  let d = params.d;
  let dv = params.dv;
  let lane = sgid & 7u;
  let first = wid.x * ${T * R}u + lid;
${ts((t) => `let row${t} = first + ${t * T}u;
  let qe${t} = params.off0 + hb * params.sb0 + hh * params.sh0 + min(row${t}, lq - 1u) * params.sr0;
${each(D4, (x) => `let q${t}_${x} = ld_Q(qe${t}, ${x}u);`)}
${each(V4, (x) => `var o${t}_${x} = vec4<f32>(0.0);`)}
  var m${t} = -3.402823e38;
  var l${t} = 0.0;`)}
  let kb0 = params.off1 + hb * params.sb1 + hh * params.sh1;
  let vb0 = params.off2 + hb * params.sb2 + hh * params.sh2;
  for (var jb = 0u; jb < lk; jb += ${C}u) {
${gs((g) => `let key${g} = min(jb + ${8 * g}u + lane, lk - 1u);
    let ke${g} = kb0 + key${g} * params.sr1;
    let ve${g} = vb0 + key${g} * params.sr2;
${each(D4, (x) => `let kl${g}_${x} = ld_K(ke${g}, ${x}u);`, '    ')}
${each(V4, (x) => `let vl${g}_${x} = ld_V(ve${g}, ${x}u);`, '    ')}`)}
${cs((u) => `${each(D4, (x) => `let k${u}_${x} = ${kv(u, x, 'k')};`, '')}`)}
${grid2(R, C, (t, u) => `let z${t}_${u} = select(-3.402823e38, (${fold(D4, (x) => `dot(q${t}_${x}, k${u}_${x})`, '+')}) * params.scale2, jb + ${u}u < lk);`, '    ')}
${ts((t) => `let mx${t} = max(m${t}, ${nest(C, (u) => `z${t}_${u}`, 'max')});
    let alpha${t} = exp2(m${t} - mx${t});
    m${t} = mx${t};`, '    ')}
${grid2(R, C, (t, u) => `let p${t}_${u} = exp2(z${t}_${u} - mx${t});`, '    ')}
${ts((t) => `l${t} = l${t} * alpha${t} + ${fold(C, (u) => `p${t}_${u}`, '+')};`, '    ')}
${each(V4, (x) => `{
${cs((u) => `let v${u} = ${kv(u, x, 'v')};`, '      ')}
${ts((t) => `o${t}_${x} = o${t}_${x} * alpha${t} + ${fold(C, (u) => `p${t}_${u} * v${u}`, '+')};`, '      ')}
    }`, '    ')}
  }
${ts((t) => `if (row${t} < lq) {
    let inv = 1.0 / l${t};
    let oe${t} = params.off3 + hb * params.sb3 + hh * params.sh3 + row${t} * params.sr3;
${each(V4, (x) => `st_O(oe${t}, ${x}u, o${t}_${x} * inv);`, '    ')}
    LSE[params.off4 + h * lq + row${t}] = m${t} + log2(l${t});
  }`)}
}`;
}

/** Offsets order: Q, K, V, O, LSE. */
function attentionForwardWgsl(c: AttentionKernelConfig): string {
  const { threads: T, rows: R, chunk: C } = c;
  const { ts, cs } = rowLoops(c, '        ');
  return /* wgsl */ `
${attentionBindings(c, [['Q', 'd'], ['K', 'd'], ['V', 'dv'], ['O', 'dv'], ['LSE', 'scalar']], 2)}

${keyValueTiles(c)}

${attentionMain(c, 'lq')}
${ts((t) => `let row${t} = first + ${t * T}u;
  let ok${t} = row${t} < lq;
  let qe${t} = params.off0 + (h * lq + min(row${t}, lq - 1u)) * d;
  let oe${t} = params.off3 + (h * lq + min(row${t}, lq - 1u)) * dv;
  var m${t} = -3.402823e38;
  var l${t} = 0.0;`)}
  if (busy) {
    for (var c = 0u; c < v4; c++) {
${ts((t) => `if (ok${t}) { st_O(oe${t}, c, vec4<f32>(0.0)); }`, '      ')}
    }
  }
${keyValueTileLoop(c)}
${grid2(R, C, (t, u) => `var s${t}_${u} = 0.0;`, '        ')}
${cs((u) => `let kr${u} = (jb + ${u}u) * d4;`)}
${queryKeyScores(c)}
${grid2(R, C, (t, u) => `let z${t}_${u} = select(-3.402823e38, s${t}_${u} * params.scale2, jb + ${u}u < nk);`, '        ')}
${ts((t) => `let mx${t} = max(m${t}, ${nest(C, (u) => `z${t}_${u}`, 'max')});
        let alpha${t} = exp2(m${t} - mx${t});
        m${t} = mx${t};`, '        ')}
${grid2(R, C, (t, u) => `let p${t}_${u} = exp2(z${t}_${u} - mx${t});`, '        ')}
${ts((t) => `l${t} = l${t} * alpha${t} + ${fold(C, (u) => `p${t}_${u}`, '+')};`, '        ')}
${cs((u) => `let vr${u} = (jb + ${u}u) * v4;`)}
        for (var c = 0u; c < v4; c++) {
${cs((u) => `let v${u} = Vs[vr${u} + c];`, '          ')}
${ts((t) => `let o${t} = ld_O(oe${t}, c) * alpha${t} + ${fold(C, (u) => `p${t}_${u} * v${u}`, '+')};
          if (ok${t}) { st_O(oe${t}, c, o${t}); }`, '          ')}
        }
      }
    }
  }
${ts((t) => `if (ok${t}) {
    let inv = 1.0 / l${t};
    for (var c = 0u; c < v4; c++) { st_O(oe${t}, c, ld_O(oe${t}, c) * inv); }
    LSE[params.off4 + h * lq + row${t}] = m${t} + log2(l${t});
  }`)}
}`;
}
