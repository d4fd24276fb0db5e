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
import { attentionBindings, configKey, each, fold, grid2, nest, type AttentionKernelConfig } from './attention-wgsl.js';

export function attentionForwardKey(c: AttentionKernelConfig): string {
  return `attn:fwd:${configKey(c)}`;
}

/** Offsets order: Q, K, V, O, LSE. */
export function attentionForwardWgsl(c: AttentionKernelConfig): string {
  const { threads: T, rows: R, chunk: C, slots: S } = c;
  const ts = (f: (t: number) => string, indent = '  ') => each(R, f, indent);
  const cs = (f: (u: number) => string, indent = '        ') => each(C, f, indent);
  return /* wgsl */ `
${attentionBindings(c, [['Q', 'd'], ['K', 'd'], ['V', 'dv'], ['O', 'dv'], ['LSE', 'scalar']], 2)}

var<workgroup> Ks: array<vec4<f32>, ${S}>;
var<workgroup> Vs: array<vec4<f32>, ${S}>;

@compute @workgroup_size(${T})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.y;
  let lq = params.lq;
  let lk = params.lk;
  let d = params.d;
  let dv = params.dv;
  let d4 = params.d4;
  let v4 = params.v4;
  let tile = params.tile;
  let first = wid.x * ${T * R}u + lid;
  // Threads without a row skip the arithmetic but still help staging (barriers are uniform).
  let busy = first < lq;
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
  let kb0 = params.off1 + h * lk * d;
  let vb0 = params.off2 + h * lk * dv;
  for (var k0 = 0u; k0 < lk; k0 += tile) {
    let nk = min(tile, lk - k0);
    workgroupBarrier();
    for (var i = lid; i < tile * d4; i += ${T}u) {
      let j = i / d4;
      Ks[i] = ld_K(kb0 + min(k0 + j, lk - 1u) * d, i - j * d4);
    }
    for (var i = lid; i < tile * v4; i += ${T}u) {
      let j = i / v4;
      Vs[i] = ld_V(vb0 + min(k0 + j, lk - 1u) * dv, i - j * v4);
    }
    workgroupBarrier();
    if (busy) {
      for (var jb = 0u; jb < nk; jb += ${C}u) {
${grid2(R, C, (t, u) => `var s${t}_${u} = 0.0;`, '        ')}
${cs((u) => `let kr${u} = (jb + ${u}u) * d4;`)}
        for (var c = 0u; c < d4; c++) {
${ts((t) => `let q${t} = ld_Q(qe${t}, c);`, '          ')}
${cs((u) => `let k${u} = Ks[kr${u} + c];`, '          ')}
${grid2(R, C, (t, u) => `s${t}_${u} += dot(q${t}, k${u});`, '          ')}
        }
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
