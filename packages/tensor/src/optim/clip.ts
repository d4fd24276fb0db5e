/**
 * Gradient clipping, as torch.nn.utils.clip_grad_norm_ (L2) and clip_grad_value_, entirely on the
 * GPU: nothing is read back, the norm is returned as a tensor.
 *
 * clipGradNorm: each gradient's sum of squares (small gradients packed together, see
 * `multi-tensor.ts`) is reduced to per-workgroup partial sums in one shared buffer, one
 * single-workgroup kernel adds them up into the norm and the clip factor
 * min(1, maxNorm / (norm + 1e-6)), and each gradient (or pack) is multiplied by that factor in place.
 * Gradients that share storage (autograd may hand the same buffer to several leaves, e.g. both
 * inputs of an add) count once per gradient in the norm but are scaled once.
 */
import { Tensor, assertTensor } from '../tensor/tensor.js';
import { getBackend } from '../runtime.js';
import { zeros } from '../ops/creation.js';
import { noGrad } from '../autograd/grad-mode.js';
import { Params, grid } from '../kernels/wgsl.js';
import type { Backend } from '../backend/backend.js';
import { SUMSQ_BLOCK as BLOCK, clipNormKernel, sumSquaresKernel } from '../kernels/clip.js';
import { vec4Ranges } from '../ops/run.js';
import { chunkElements, chunkRanges, runFusedUpdate, sliceRange } from './fused-update.js';
import { packTensors, packable, packedElements, unpackTensors } from './multi-tensor.js';


/** The live gradients of `params` (null grads skipped), checked. */
function gradsOf(params: readonly Tensor[] | Tensor, op: string): Tensor[] {
  const list = Array.isArray(params) ? params : [params as Tensor];
  const grads: Tensor[] = [];
  list.forEach((p, i) => {
    assertTensor(p, op, `params[${i}]`);
    if (!p.grad) return;
    if (p.grad.isDisposed) throw new Error(`${op}: the grad of params[${i}] (${p.describe()}) was disposed`);
    if (p.grad.dtype !== 'f32') throw new TypeError(`${op}: the grad of params[${i}] is ${p.grad.describe()}, expected f32`);
    grads.push(p.grad);
  });
  return grads;
}

/** One gradient per storage, so that in-place updates touch each buffer once. */
function uniqueStorage(grads: Tensor[]): Tensor[] {
  const seen = new Set<unknown>();
  return grads.filter((g) => (seen.has(g.store) ? false : (seen.add(g.store), true)));
}

/** Sum-of-squares partials of one chunk: vec4 loads (lanes past the data masked) when the binding allows. */
function runSumSquares(backend: Backend, g: Tensor, start: number, count: number, partials: Tensor, base: number): number {
  const groups = Math.ceil(count / BLOCK);
  const p = new Params().u32('n', count).u32('base', base);
  const range = sliceRange(g, start, count);
  const vec = vec4Ranges(backend, [range], count);
  backend.run({
    kernel: sumSquaresKernel(vec !== null, p),
    inputs: vec ?? [range],
    outputs: [partials.range],
    params: p.bytes(),
    workgroups: grid(groups, 1, backend.info.limits.maxComputeWorkgroupsPerDimension),
  });
  return groups;
}

function runClipNorm(backend: Backend, partials: Tensor, count: number, maxNorm: number, norm: Tensor, scale: Tensor): void {
  const p = new Params().u32('n', count).f32('max_norm', maxNorm);
  backend.run({
    kernel: clipNormKernel(p),
    inputs: [partials.range],
    outputs: [norm.range, scale.range],
    params: p.bytes(),
    workgroups: [1],
  });
}

/** Multiplies `g` in place by the clip factor `scale[0]`. */
function scaleKernel(backend: Backend, g: Tensor, scale: Tensor): void {
  runFusedUpdate(backend, {
    key: 'clip_scale',
    inputs: [['S', scale]],
    outputs: [['G', g]],
    scalars: [],
    // Skip the write when the factor is exactly 1 (compared as bits: float compares
    // involving NaN are unreliable on some drivers, and a NaN factor must propagate).
    body: '  let s = S[0];\n  if (bitcast<u32>(s) != 0x3f800000u) { G[i] = G[i] * s; }',
    wholeInputs: true,
    vectorizable: true,
  });
}

/**
 * Scales the gradients of `params` in place so that their global L2 norm is at most `maxNorm`
 * (factor min(1, maxNorm / (norm + 1e-6)), as torch.nn.utils.clip_grad_norm_). Parameters without
 * a gradient are skipped. Returns the norm before clipping as a scalar tensor (no readback).
 */
export function clipGradNorm(params: readonly Tensor[] | Tensor, maxNorm: number): Tensor {
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm) || maxNorm < 0) {
    throw new RangeError(`clipGradNorm: maxNorm must be a non-negative number, got ${maxNorm}`);
  }
  const grads = gradsOf(params, 'clipGradNorm');
  const backend = getBackend();
  return noGrad(() => {
    // Small gradients are packed into one flat buffer (see multi-tensor.ts): one sum-of-squares
    // and one scaling dispatch for all of them. A shared storage is packed once per gradient
    // (the norm counts it each time) but written back once.
    const small = grads.filter((g) => packable(g.size));
    const pack = small.length > 1 ? packTensors(backend, small) : null;
    const alone = pack ? grads.filter((g) => !packable(g.size)) : grads;
    const chunk = chunkElements(backend);
    // The pack's padding is not part of the norm.
    const sources = alone.map((g) => ({ g, n: g.size }));
    if (pack) sources.unshift({ g: pack, n: packedElements(small) });
    const pieces = sources.flatMap(({ g, n }) => chunkRanges(n, chunk).map(([s, c]) => ({ g, s, c })));
    const total = pieces.reduce((n, q) => n + Math.ceil(q.c / BLOCK), 0);
    if (total === 0) {
      pack?.dispose();
      return zeros([]);
    }
    const partials = Tensor.empty([total]);
    const norm = Tensor.empty([]);
    const scale = Tensor.empty([]);
    try {
      let base = 0;
      for (const q of pieces) base += runSumSquares(backend, q.g, q.s, q.c, partials, base);
      runClipNorm(backend, partials, total, maxNorm, norm, scale);
      const scaled = uniqueStorage(alone);
      for (const g of pack ? [pack, ...scaled] : scaled) scaleKernel(backend, g, scale);
      if (pack) {
        const seen = new Set<unknown>(scaled.map((g) => g.store));
        unpackTensors(backend, pack, small, (k) => (seen.has(small[k].store) ? true : (seen.add(small[k].store), false)));
      }
    } finally {
      pack?.dispose();
      partials.dispose();
      scale.dispose();
    }
    return norm;
  });
}

/**
 * Clamps the gradients of `params` in place to [−clipValue, clipValue] (as
 * torch.nn.utils.clip_grad_value_; NaN stays NaN). Parameters without a gradient are skipped.
 */
export function clipGradValue(params: readonly Tensor[] | Tensor, clipValue: number): void {
  if (typeof clipValue !== 'number' || Number.isNaN(clipValue) || clipValue < 0) {
    throw new RangeError(`clipGradValue: clipValue must be a non-negative number, got ${clipValue}`);
  }
  const backend = getBackend();
  for (const g of uniqueStorage(gradsOf(params, 'clipGradValue'))) {
    runFusedUpdate(backend, {
      key: 'clip_value',
      inputs: [],
      outputs: [['G', g]],
      scalars: [{ name: 'c', type: 'f32', value: clipValue }],
      // Comparisons with NaN are false, so a NaN passes through unchanged.
      body: '  let g = G[i];\n  G[i] = select(select(g, params.c, g > params.c), -params.c, g < -params.c);',
    });
  }
}
