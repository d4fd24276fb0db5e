/**
 * The fused attention backward kernels (flash-attention-2 style). The probabilities are
 * recomputed block by block from q, k and the forward's per-row log-sum-exp, never stored:
 *   P = exp2(s·scale·log2 e − lse),  Δ_i = Σ dO_i∘O_i,
 *   dS = P∘(dO·vᵀ − Δ),  dQ = dS·K·scale,  dK = dSᵀ·Q·scale,  dV = Pᵀ·dO.
 * Two passes, so that every output row is owned by one thread and no float atomics are needed:
 * - the query pass (parallel over query rows; K/V tiles in workgroup memory) computes dQ and Δ;
 * - the key pass (parallel over key rows; Q/dO/lse/Δ tiles in workgroup memory) computes dK, dV.
 * Both use the register blocking of the forward kernel (see attention-wgsl.ts); the gradient
 * buffers hold the accumulators.
 */
import type { Kernel } from '../backend/backend.js';
import { attentionBindings, attentionMain, configKey, fold, grid2, keyValueTileLoop, keyValueTiles, queryKeyScores, rowLoops, stageTile, type AttentionKernelConfig } from './attention-wgsl.js';

/** Most rows of a staged tile (sizes the key pass's lse and Δ arrays). */
export const MAX_TILE = 64;

/**
 * WGSL for row `t` of this thread in a pass over `count` rows (lq or lk): its index `<idx>t`,
 * whether it exists (`ok<t>`), the index clamped into range (`<clamped>t`; threads past the end
 * load the last row and store nothing), and for each [name, binding, len] the element offset
 * `<name>t` of that row in binding `off<binding>` (rows of `len` elements).
 */
function ownedRow(c: AttentionKernelConfig, t: number, idx: string, clamped: string, count: 'lq' | 'lk', elems: [string, number, 'd' | 'dv'][]): string {
  const lines = [`let ${idx}${t} = first + ${t * c.threads}u;`, `let ok${t} = ${idx}${t} < ${count};`, `let ${clamped}${t} = min(${idx}${t}, ${count} - 1u);`];
  for (const [name, binding, len] of elems) lines.push(`let ${name}${t} = params.off${binding} + (h * ${count} + ${clamped}${t}) * ${len};`);
  return lines.join('\n  ');
}

export function attentionBackwardQKernel(c: AttentionKernelConfig): Kernel {
  return { key: `attn:bwdq:${configKey(c)}`, wgsl: () => attentionBackwardQWgsl(c) };
}

/**
 * Query pass. Bindings (and offsets order): Q, K, V, O, G (= dO), LSE → DQ, DELTA.
 * Dispatch (ceil(Lq / (threads·rows)), heads).
 */
function attentionBackwardQWgsl(c: AttentionKernelConfig): string {
  const { rows: R, chunk: C } = c;
  const { ts, cs } = rowLoops(c, '          ');
  return /* wgsl */ `
${attentionBindings(c, [['Q', 'd'], ['K', 'd'], ['V', 'dv'], ['O', 'dv'], ['G', 'dv'], ['LSE', 'scalar'], ['DQ', 'd'], ['DELTA', 'scalar']], 2)}

${keyValueTiles(c)}

${attentionMain(c, 'lq')}
${ts((t) => `${ownedRow(c, t, 'row', 'rc', 'lq', [['qe', 0, 'd'], ['oe', 3, 'dv'], ['ge', 4, 'dv'], ['dqe', 6, 'd']])}
  let lse${t} = LSE[params.off5 + h * lq + rc${t}];
  var delta${t} = 0.0;`)}
  if (busy) {
    for (var c = 0u; c < v4; c++) {
${ts((t) => `delta${t} += dot(ld_G(ge${t}, c), ld_O(oe${t}, c));`, '      ')}
    }
    for (var c = 0u; c < d4; c++) {
${ts((t) => `if (ok${t}) { st_DQ(dqe${t}, c, vec4<f32>(0.0)); }`, '      ')}
    }
  }
${keyValueTileLoop(c)}
${cs((u) => `let kr${u} = (jb + ${u}u) * d4;\n        let vr${u} = (jb + ${u}u) * v4;`, '        ')}
${grid2(R, C, (t, u) => `var s${t}_${u} = 0.0;\n        var dp${t}_${u} = 0.0;`, '        ')}
${queryKeyScores(c)}
        for (var c = 0u; c < v4; c++) {
${ts((t) => `let g${t} = ld_G(ge${t}, c);`, '          ')}
${cs((u) => `let v${u} = Vs[vr${u} + c];`)}
${grid2(R, C, (t, u) => `dp${t}_${u} += dot(g${t}, v${u});`, '          ')}
        }
${grid2(R, C, (t, u) => `let ds${t}_${u} = select(0.0, exp2(s${t}_${u} * params.scale2 - lse${t}), jb + ${u}u < nk) * (dp${t}_${u} - delta${t}) * params.scale;`, '        ')}
        for (var c = 0u; c < d4; c++) {
${cs((u) => `let k${u} = Ks[kr${u} + c];`)}
${ts((t) => `let a${t} = ld_DQ(dqe${t}, c) + ${fold(C, (u) => `ds${t}_${u} * k${u}`, '+')};
          if (ok${t}) { st_DQ(dqe${t}, c, a${t}); }`, '          ')}
        }
      }
    }
  }
${ts((t) => `if (ok${t}) { DELTA[params.off7 + h * lq + row${t}] = delta${t}; }`)}
}`;
}

export function attentionBackwardKVKernel(c: AttentionKernelConfig): Kernel {
  return { key: `attn:bwdkv:${configKey(c)}`, wgsl: () => attentionBackwardKVWgsl(c) };
}

/**
 * Key pass. Bindings (and offsets order): Q, K, V, G (= dO), LSE, DELTA → DK, DV.
 * Dispatch (ceil(Lk / (threads·rows)), heads).
 */
function attentionBackwardKVWgsl(c: AttentionKernelConfig): string {
  const { threads: T, rows: R, chunk: C, slots: S } = c;
  const { ts, cs } = rowLoops(c, '          ');
  return /* wgsl */ `
${attentionBindings(c, [['Q', 'd'], ['K', 'd'], ['V', 'dv'], ['G', 'dv'], ['LSE', 'scalar'], ['DELTA', 'scalar'], ['DK', 'd'], ['DV', 'dv']], 2)}

var<workgroup> Qs: array<vec4<f32>, ${S}>;
var<workgroup> Gs: array<vec4<f32>, ${S}>;
var<workgroup> Ls: array<f32, ${MAX_TILE}>;
var<workgroup> Ds: array<f32, ${MAX_TILE}>;

${attentionMain(c, 'lk')}
${ts((t) => ownedRow(c, t, 'key', 'kc', 'lk', [['ke', 1, 'd'], ['ve', 2, 'dv'], ['dke', 6, 'd'], ['dve', 7, 'dv']]))}
  if (busy) {
    for (var c = 0u; c < d4; c++) {
${ts((t) => `if (ok${t}) { st_DK(dke${t}, c, vec4<f32>(0.0)); }`, '      ')}
    }
    for (var c = 0u; c < v4; c++) {
${ts((t) => `if (ok${t}) { st_DV(dve${t}, c, vec4<f32>(0.0)); }`, '      ')}
    }
  }
  let qb0 = params.off0 + h * lq * d;
  let gb0 = params.off3 + h * lq * dv;
  for (var i0 = 0u; i0 < lq; i0 += tile) {
    let nq = min(tile, lq - i0);
    workgroupBarrier();
${stageTile('Qs', 'Q', { base: 'qb0', start: 'i0', count: 'lq', len: 'd', per: 'd4' }, T)}
${stageTile('Gs', 'G', { base: 'gb0', start: 'i0', count: 'lq', len: 'dv', per: 'v4' }, T)}
    for (var i = lid; i < tile; i += ${T}u) {
      let r = h * lq + min(i0 + i, lq - 1u);
      Ls[i] = LSE[params.off4 + r];
      Ds[i] = DELTA[params.off5 + r];
    }
    workgroupBarrier();
    if (busy) {
      for (var ib = 0u; ib < nq; ib += ${C}u) {
${cs((u) => `let qr${u} = (ib + ${u}u) * d4;\n        let gr${u} = (ib + ${u}u) * v4;`, '        ')}
${grid2(R, C, (t, u) => `var s${t}_${u} = 0.0;\n        var dp${t}_${u} = 0.0;`, '        ')}
        for (var c = 0u; c < d4; c++) {
${ts((t) => `let k${t} = ld_K(ke${t}, c);`, '          ')}
${cs((u) => `let q${u} = Qs[qr${u} + c];`)}
${grid2(R, C, (t, u) => `s${t}_${u} += dot(k${t}, q${u});`, '          ')}
        }
        for (var c = 0u; c < v4; c++) {
${ts((t) => `let v${t} = ld_V(ve${t}, c);`, '          ')}
${cs((u) => `let g${u} = Gs[gr${u} + c];`)}
${grid2(R, C, (t, u) => `dp${t}_${u} += dot(v${t}, g${u});`, '          ')}
        }
${cs((u) => `let lse${u} = Ls[ib + ${u}u];\n        let delta${u} = Ds[ib + ${u}u];`, '        ')}
${grid2(R, C, (t, u) => `let p${t}_${u} = select(0.0, exp2(s${t}_${u} * params.scale2 - lse${u}), ib + ${u}u < nq);
        let ds${t}_${u} = p${t}_${u} * (dp${t}_${u} - delta${u}) * params.scale;`, '        ')}
        for (var c = 0u; c < v4; c++) {
${cs((u) => `let g${u} = Gs[gr${u} + c];`)}
${ts((t) => `let a${t} = ld_DV(dve${t}, c) + ${fold(C, (u) => `p${t}_${u} * g${u}`, '+')};
          if (ok${t}) { st_DV(dve${t}, c, a${t}); }`, '          ')}
        }
        for (var c = 0u; c < d4; c++) {
${cs((u) => `let q${u} = Qs[qr${u} + c];`)}
${ts((t) => `let b${t} = ld_DK(dke${t}, c) + ${fold(C, (u) => `ds${t}_${u} * q${u}`, '+')};
          if (ok${t}) { st_DK(dke${t}, c, b${t}); }`, '          ')}
        }
      }
    }
  }
}`;
}
