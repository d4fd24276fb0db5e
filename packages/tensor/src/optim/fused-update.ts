/**
 * The dispatch helper shared by the optimizers and gradient clipping: one elementwise kernel over
 * several tensors of the same element count that reads some of them and updates others in place.
 *
 * In-place updates bind the tensor's existing storage as a `read_write` output (the kernel both
 * reads and writes it), so views of that storage (reshape) see the new values and nothing is
 * allocated. A tensor larger than the device's largest storage binding is processed in chunks
 * bound at aligned byte offsets, so one parameter may take a few dispatches on small adapters.
 *
 * Bodies written for both f32 and vec4<f32> values (`vectorizable`) run as vec4 kernels (see
 * `kernels/vec4.ts`) when the element count is a multiple of 4, so no lane past the data is
 * updated in place; other counts keep the scalar kernel.
 */
import type { Backend, BufferRange } from '../backend/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import { Params, grid } from '../kernels/wgsl.js';
import { FUSED_ITEMS as ITEMS, WG_UPDATE, fusedUpdateKernel } from '../kernels/fused-update.js';
import { vec4Grid, vec4Ranges } from '../ops/run.js';

export { WG_UPDATE } from '../kernels/fused-update.js';

/**
 * Elements per chunk: the largest count whose f32 binding fits `maxBinding` and whose byte size
 * is a multiple of the storage-offset alignment (so the next chunk's offset is aligned).
 */
export function chunkElements(backend: Backend): number {
  const align = Math.max(256, (backend.device.limits as { minStorageBufferOffsetAlignment?: number }).minStorageBufferOffsetAlignment ?? 256);
  const alignElems = align / 4;
  return Math.max(alignElems, Math.floor(backend.maxBinding / 4 / alignElems) * alignElems);
}

/** [start, count] element ranges covering `n` elements in chunks of at most `chunk`. */
export function chunkRanges(n: number, chunk: number): [number, number][] {
  const out: [number, number][] = [];
  for (let start = 0; start < n; start += chunk) out.push([start, Math.min(chunk, n - start)]);
  return out;
}

/** The binding of elements [start, start + count) of an f32 tensor. */
export function sliceRange(t: Tensor, start: number, count: number): BufferRange {
  return { buffer: t.store.buffer, offset: start * 4, size: count * 4 };
}

/** One fused elementwise update (see the module comment). */
export interface FusedUpdate {
  /** Kernel cache key; must determine `body` and the binding names. */
  key: string;
  /** Tensors read (bound `read`), in binding order, each with its WGSL name. */
  inputs: [string, Tensor][];
  /** Tensors read and written in place (bound `read_write`), each with its WGSL name. */
  outputs: [string, Tensor][];
  /** Scalar uniforms (f32 or u32); `n` is added by the helper. */
  scalars: { name: string; type: 'f32' | 'u32'; value: number }[];
  /** WGSL statements run for every element index `i` of the chunk. */
  body: string;
  /** Bind inputs whole instead of chunking them (one-element tensors such as a clip scale). */
  wholeInputs?: boolean;
  /**
   * `body` is also valid WGSL when the chunked tensors are `array<vec4<f32>>` (whole inputs stay
   * f32): only arithmetic with scalars and builtins that take vectors, no comparisons.
   */
  vectorizable?: boolean;
}

/** Runs a {@link FusedUpdate} over the outputs' elements (each thread handles {@link ITEMS}). */
export function runFusedUpdate(backend: Backend, u: FusedUpdate): void {
  const n = u.outputs[0][1].size;
  if (n === 0) return;
  const inNames = u.inputs.map(([name]) => name);
  const outNames = u.outputs.map(([name]) => name);
  const maxWg = backend.info.limits.maxComputeWorkgroupsPerDimension;
  for (const [start, count] of chunkRanges(n, chunkElements(backend))) {
    const p = new Params().u32('n', count);
    for (const s of u.scalars) (s.type === 'f32' ? p.f32(s.name, s.value) : p.u32(s.name, s.value));
    const chunked = (t: Tensor) => sliceRange(t, start, count);
    let inputs = u.inputs.map(([, t]) => (u.wholeInputs ? t.range : chunked(t)));
    let outputs = u.outputs.map(([, t]) => chunked(t));
    const vec = u.vectorizable && count % 4 === 0 ? vec4Ranges(backend, u.wholeInputs ? outputs : [...inputs, ...outputs], count) : null;
    if (vec) {
      if (!u.wholeInputs) inputs = vec.slice(0, inputs.length);
      outputs = vec.slice(-outputs.length);
    }
    backend.run({
      kernel: fusedUpdateKernel({ key: u.key, inputs: inNames, outputs: outNames, body: u.body, vec: vec !== null, wholeInputs: Boolean(u.wholeInputs), params: p }),
      inputs,
      outputs,
      params: p.bytes(),
      workgroups: vec ? vec4Grid(backend, count) : grid(count, WG_UPDATE * ITEMS, maxWg),
    });
  }
}
