/**
 * Splitting conv and pooling dispatches over the batch when a tensor is larger than one storage
 * binding (lavapipe: 128 MiB, e.g. two [256, 256, 256] feature maps). The kernels address sample
 * n as `wid.z` (or, for linear kernels, by the element index) relative to the start of their
 * bindings, so a chunk of samples runs the same kernel on sub-ranges of the buffers: each chunk
 * binds [n0, n0 + count) of every per-sample tensor and the whole of the shared ones (weights,
 * bias). Chunk starts must respect the device's storage offset alignment; when a sample's size
 * does not allow that, the op fails with an error naming it.
 */
import type { BufferRange, Kernel } from '../backend/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import { getBackend } from '../runtime.js';

/** A tensor whose leading dim is the batch: bound per chunk of samples. */
export interface PerSample {
  perSample: Tensor;
}

export type Binding = Tensor | PerSample;

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * Chunks [n0, count] of `n` samples such that `count` samples of every tensor (given by its
 * bytes per sample) fit one binding and every chunk start is aligned.
 */
export function sampleChunks(op: string, n: number, bytesPerSample: readonly number[]): [number, number][] {
  const backend = getBackend();
  const max = backend.maxBinding;
  const fit = Math.min(n, ...bytesPerSample.map((b) => (b === 0 ? n : Math.floor(max / b))));
  if (fit >= n) return [[0, n]];
  const align = backend.device.limits?.minStorageBufferOffsetAlignment ?? 256;
  // Smallest sample count whose bytes are a multiple of the alignment, for every tensor.
  let step = 1;
  for (const b of bytesPerSample) {
    const s = align / gcd(align, b);
    step = (step * s) / gcd(step, s);
  }
  const count = Math.floor(fit / step) * step;
  if (count < 1) {
    const why = fit < 1 ? 'one sample alone is larger' : `a sample's ${Math.max(...bytesPerSample)} bytes do not allow a split at ${align}-byte aligned offsets`;
    throw new RangeError(`${op}: a batch of ${n} exceeds the device's largest storage binding (${max} bytes) and ${why}; use smaller inputs`);
  }
  const chunks: [number, number][] = [];
  for (let n0 = 0; n0 < n; n0 += count) chunks.push([n0, Math.min(count, n - n0)]);
  return chunks;
}

/** The binding of samples [n0, n0 + count) of a tensor with `n` samples. */
export function sampleRange(t: Tensor, n: number, n0: number, count: number): BufferRange {
  const whole = t.range;
  if (n0 === 0 && count === n) return whole;
  const per = (t.size / n) * 4;
  return { buffer: whole.buffer, offset: n0 * per, size: Math.max(4, count * per) };
}

/**
 * Runs `kernel` once per chunk of samples; `workgroups` gives x and y, z is the chunk's sample
 * count (`zPerSample` = false for linear kernels whose x covers the chunk's elements instead).
 */
export function runOverSamples(
  op: string,
  n: number,
  kernel: Kernel,
  inputs: readonly Binding[],
  outputs: readonly Binding[],
  params: ArrayBuffer | ((n0: number, count: number) => ArrayBuffer),
  workgroups: (count: number) => [number, number, number],
): void {
  const all = [...inputs, ...outputs];
  const bytes = all.filter((b): b is PerSample => 'perSample' in b).map((b) => (n === 0 ? 0 : (b.perSample.size / n) * 4));
  const bind = (b: Binding, n0: number, count: number) => ('perSample' in b ? sampleRange(b.perSample, n, n0, count) : b.range);
  for (const [n0, count] of sampleChunks(op, n, bytes)) {
    getBackend().run({
      kernel,
      inputs: inputs.map((b) => bind(b, n0, count)),
      outputs: outputs.map((b) => bind(b, n0, count)),
      params: typeof params === 'function' ? params(n0, count) : params,
      workgroups: workgroups(count),
    });
  }
}
