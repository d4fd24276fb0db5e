/**
 * imageTokens: an NCHW image plus an addend, as tokens. SAM's mask decoder starts from
 * `src = image + dense` flattened to [B, H·W, C]; the add and the transpose become one pass.
 */
import { Tensor, assertTensor, assertDType } from '../tensor/tensor.js';
import { fmtShape } from '../tensor/shape.js';
import { recordsGrad } from '../autograd/record.js';
import { tidy } from '../scope.js';
import { getBackend } from '../runtime.js';
import { Params, grid } from '../kernels/wgsl.js';
import { COPY_WG, transposeKernel } from '../kernels/copy.js';
import { add } from './binary.js';
import { expand } from './expand.js';
import { permute } from './permute.js';
import { reshape } from './reshape.js';

/**
 * `x` [Bx, C, H, W] plus `addend` ([Ba, C, 1, 1] or [Ba, C, H, W]) as tokens [B, H·W, C]: the
 * channels-last order of PyTorch's `(x + addend).flatten(2).permute(0, 2, 1)`. Each batch size
 * is 1 (broadcast) or `batch` (default: the larger of the two).
 *
 * The values are those of the add and the permute (the same f32 add), computed in one pass where
 * no gradient is recorded and C and H·W are multiples of 4 (on lavapipe, for SAM 2's image of
 * 256 × 64 × 64: 1.6–1.9 ms against 3.3–3.5 ms for the two); otherwise the two ops run (and
 * record their gradients).
 */
export function imageTokens(x: Tensor, addend: Tensor, batch?: number): Tensor {
  const op = 'imageTokens';
  assertTensor(x, op, 'x');
  assertDType(x, ['f32'], op, 'x');
  assertTensor(addend, op, 'addend');
  assertDType(addend, ['f32'], op, 'addend');
  if (x.rank !== 4) throw new RangeError(`${op}: x must be [B, C, H, W], got ${fmtShape(x.shape)}`);
  const [bx, c, h, w] = x.shape;
  const pixels = h * w;
  const b = batch ?? Math.max(bx, addend.shape[0] ?? 1);
  const batchOk = (n: number) => n === 1 || n === b;
  const perChannel = addend.rank === 4 && addend.shape[1] === c && addend.shape[2] === 1 && addend.shape[3] === 1;
  const full = addend.rank === 4 && addend.shape[1] === c && addend.shape[2] === h && addend.shape[3] === w;
  if (!(perChannel || full) || !batchOk(addend.shape[0])) {
    throw new RangeError(`${op}: addend ${fmtShape(addend.shape)} must be [1 or ${b}, ${c}, 1, 1] or [1 or ${b}, ${c}, ${h}, ${w}] for x ${fmtShape(x.shape)}`);
  }
  if (!batchOk(bx)) throw new RangeError(`${op}: x's batch ${bx} must be 1 or ${b}`);

  const backend = getBackend();
  if (recordsGrad(x, addend) || c % 4 !== 0 || pixels % 4 !== 0 || b * pixels * c * 4 > backend.maxBinding) {
    return tidy(() => permute(reshape(add(bx === b ? x : expand(x, [b, c, h, w]), addend), [b, c, pixels]), [0, 2, 1]));
  }
  const tokens = Tensor.empty([b, pixels, c]);
  const n = (b * pixels * c) / 16;
  if (n === 0) return tokens;
  // The batched transpose of [C, H·W] blocks (i: pixels, contiguous; j: channels, H·W apart)
  // with the addend per output column (channel) or laid out as x.
  const p = new Params()
    .u32('n', n)
    .u32('na', pixels)
    .u32('nb', c)
    .u32('sj', pixels)
    .u32('sb', bx === 1 ? 0 : c * pixels)
    .u32('sbase', 0)
    .u32('ab', addend.shape[0] === 1 ? 0 : perChannel ? c : c * pixels);
  backend.run({
    kernel: transposeKernel(p, perChannel ? 'column' : 'source'),
    inputs: [x.range, addend.range],
    outputs: [tokens.range],
    params: p.bytes(),
    workgroups: grid(n, COPY_WG, backend.info.limits.maxComputeWorkgroupsPerDimension),
  });
  return tokens;
}
