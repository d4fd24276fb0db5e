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
import { attentionBindings, attentionMain, configKey, fold, grid2, keyValueTileLoop, keyValueTiles, nest, queryKeyScores, rowLoops, type AttentionKernelConfig } from './attention-wgsl.js';

export function attentionForwardKernel(c: AttentionKernelConfig): Kernel {
  return { key: `attn:fwd:${configKey(c)}`, wgsl: () => attentionForwardWgsl(c) };
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
