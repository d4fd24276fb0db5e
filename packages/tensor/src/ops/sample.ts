/**
 * samplePoints: bilinear sampling of an image at normalised points, i.e. PyTorch's
 * `grid_sample(image, 2·p − 1, mode='bilinear', padding_mode='zeros', align_corners=False)`.
 * A point p = (x, y) in [0, 1]² lands at pixel coordinates (x·W − 0.5, y·H − 0.5); corners
 * outside the image read 0. Gradients flow to the image and to the points.
 */
import { Tensor, assertTensor, assertDType } from '../tensor/tensor.js';
import { fmtShape } from '../tensor/shape.js';
import { record } from '../autograd/record.js';
import { getBackend } from '../runtime.js';
import { Params } from '../kernels/wgsl.js';
import type { Kernel } from '../backend/backend.js';
import { SAMPLE_WG as WG, samplePointsImageGradKernel, samplePointsKernel, samplePointsPointGradKernel } from '../kernels/sample.js';

function params(n: number, c: number, h: number, w: number, q: number): Params {
  return new Params().u32('n', n).u32('c', c).u32('h', h).u32('w', w).u32('q', q);
}

/** Workgroups for `perRow` threads (x, grid-stride) times `rows` rows (y, folded into z). */
function dispatch(perRow: number, rows: number): [number, number, number] {
  const maxWg = getBackend().info.limits.maxComputeWorkgroupsPerDimension;
  const gy = Math.min(rows, maxWg);
  return [Math.max(1, Math.min(Math.ceil(perRow / WG), maxWg)), gy, Math.ceil(rows / gy)];
}

/**
 * Runs one sampling kernel (params from `dims`) into a new tensor of `shape`, skipped when that is
 * empty: `perRow` threads along x for each of `rows` rows (see {@link dispatch}).
 */
function runSample(kernel: (p: Params) => Kernel, inputs: Tensor[], shape: readonly number[], dims: number[], perRow: number, rows: number): Tensor {
  const [n, c, h, w, q] = dims;
  const out = Tensor.empty(shape);
  if (out.size === 0) return out;
  const p = params(n, c, h, w, q);
  getBackend().run({
    kernel: kernel(p),
    inputs: inputs.map((t) => t.range),
    outputs: [out.range],
    params: p.bytes(),
    workgroups: dispatch(perRow, rows),
  });
  return out;
}

/** Forward: one thread per (n, c, point). */
function forwardKernel(image: Tensor, points: Tensor, outShape: number[], dims: number[]): Tensor {
  const [n, c, , , q] = dims;
  return runSample(samplePointsKernel, [image, points], outShape, dims, q, n * c);
}

/**
 * Image gradient as a gather: one thread per (n, pixel) walks the points of its batch and, for
 * each point whose 2×2 footprint holds the pixel, adds weight · upstream to every channel.
 * Cost O(N·H·W·P + hits·C) — meant for the few points of a prompt, not dense grids.
 */
function imageGradKernel(g: Tensor, points: Tensor, shape: readonly number[], dims: number[]): Tensor {
  const [n, , h, w] = dims;
  return runSample(samplePointsImageGradKernel, [g, points], shape, dims, h * w, n);
}

/** Point gradient: one thread per (n, point), summing over channels. */
function pointGradKernel(g: Tensor, image: Tensor, points: Tensor, dims: number[]): Tensor {
  const [n, , , , q] = dims;
  return runSample(samplePointsPointGradKernel, [image, points, g], points.shape, dims, q, n);
}

/**
 * Samples `image` [N, C, H, W] bilinearly at `points` [N, P, 2] or [N, Hg, Wg, 2] holding (x, y)
 * in normalised [0, 1] image coordinates (0 and 1 are the outer pixel edges). Returns
 * [N, C, 1, P] (resp. [N, C, Hg, Wg]) — `grid_sample(image, 2p − 1, align_corners=False,
 * padding_mode='zeros')`. Differentiable w.r.t. the image and the points (the point gradient is
 * the local slope of the bilinear surface, scaled by W and H).
 */
export function samplePoints(image: Tensor, points: Tensor): Tensor {
  assertTensor(image, 'samplePoints', 'image');
  assertTensor(points, 'samplePoints', 'points');
  assertDType(image, ['f32'], 'samplePoints', 'image');
  assertDType(points, ['f32'], 'samplePoints', 'points');
  if (image.rank !== 4) throw new RangeError(`samplePoints: image ${image.describe()} must be [N, C, H, W]`);
  const [n, c, h, w] = image.shape;
  const ps = points.shape;
  if ((points.rank !== 3 && points.rank !== 4) || ps[ps.length - 1] !== 2 || ps[0] !== n) {
    throw new RangeError(
      `samplePoints: points ${points.describe()} must be [N, P, 2] or [N, Hg, Wg, 2] with N = ${n} (image ${fmtShape(image.shape)})`,
    );
  }
  const [gh, gw] = points.rank === 3 ? [1, ps[1]] : [ps[1], ps[2]];
  const dims = [n, c, h, w, gh * gw];
  const y = forwardKernel(image, points, [n, c, gh, gw], dims);
  return record(
    'samplePoints',
    [image, points],
    y,
    (g, [si, sp]) => [
      image.requiresGrad ? imageGradKernel(g, sp, image.shape, dims) : null,
      points.requiresGrad ? pointGradKernel(g, si, sp, dims) : null,
    ],
    [image, points],
  );
}
