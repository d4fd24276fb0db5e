/**
 * Multi-tensor apply for the optimizers and gradient clipping: many small tensors are copied
 * (copyBufferToBuffer, no compute dispatch) into one flat scratch tensor, one elementwise kernel
 * runs over it, and the results are copied back.
 *
 * Why copies and not one kernel over many bindings: a dispatch can bind only
 * maxStorageBuffersPerShaderStage buffers (16 on lavapipe, 8 guaranteed), i.e. at most four
 * parameters with their gradient and Adam moments, while a step has hundreds of small parameters
 * and every dispatch has a fixed cost (~0.1–0.3 ms on lavapipe). Copies are cheap by comparison
 * (the 236 small SAM 2 parameters, 0.52M floats: ~6 ms for Adam's 7 copies each). Keeping the
 * state permanently packed would save some copies but would need tensors that are views at an
 * offset into a shared buffer, which the state dicts (`state.<i>.exp_avg`) and checkpoints expose
 * as standalone tensors.
 *
 * Large tensors gain little (their dispatch cost is small next to their work; packing all of SAM
 * 2's measured no faster), so only tensors below {@link PACK_MAX_ELEMENTS} are packed.
 */
import type { Backend } from '../backend/backend.js';
import { Tensor } from '../tensor/tensor.js';

/** Tensors with fewer elements than this (and at least one) are packed; larger ones run alone. */
export const PACK_MAX_ELEMENTS = 1 << 16;

/** Whether a tensor of `size` elements goes through a packed buffer. */
export function packable(size: number): boolean {
  return size > 0 && size < PACK_MAX_ELEMENTS;
}

/** Element offsets of `ts` laid end to end, and the total. */
function layout(ts: readonly Tensor[]): { offsets: number[]; total: number } {
  const offsets: number[] = [];
  let total = 0;
  for (const t of ts) {
    offsets.push(total);
    total += t.size;
  }
  return { offsets, total };
}

/** The element count of the packed data of `ts` (without the padding of {@link packTensors}). */
export function packedElements(ts: readonly Tensor[]): number {
  return layout(ts).total;
}

/**
 * A new flat f32 tensor holding the elements of `ts` one after the other (the caller disposes it).
 * Its size is rounded up to a multiple of 4 so that elementwise updates run as vec4 kernels; the
 * padding holds garbage, which updates may read and write (it is never copied back) but
 * reductions must exclude (see {@link packedElements}).
 */
export function packTensors(backend: Backend, ts: readonly Tensor[]): Tensor {
  const { offsets, total } = layout(ts);
  const flat = Tensor.empty([Math.ceil(total / 4) * 4]);
  ts.forEach((t, k) => backend.copy(t.store.buffer, 0, flat.store.buffer, offsets[k] * 4, t.size * 4));
  return flat;
}

/**
 * Copies the segments of `flat` (laid out as {@link packTensors} laid out `ts`) back into `ts`.
 * `skip(k)` leaves tensor k untouched (e.g. a second gradient over an already written storage).
 */
export function unpackTensors(backend: Backend, flat: Tensor, ts: readonly Tensor[], skip: (k: number) => boolean = () => false): void {
  const { offsets } = layout(ts);
  ts.forEach((t, k) => {
    if (!skip(k)) backend.copy(flat.store.buffer, offsets[k] * 4, t.store.buffer, 0, t.size * 4);
  });
}
