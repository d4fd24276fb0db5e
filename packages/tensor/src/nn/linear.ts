/**
 * nn.Linear: `y = x·Wᵀ + b` with PyTorch's parameter names (`weight` [out, in], `bias` [out]).
 * The weight may be stored as f16 (its slot is `halfOk`): compute stays f32, so each forward
 * widens it for its one op and frees the copy right after.
 */
import { linear, type LinearOptions } from '../ops/matmul.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module, type ParamSlot } from './module.js';

export class Linear extends Module {
  readonly weight: ParamSlot;
  readonly bias: ParamSlot | null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    withBias = true,
  ) {
    super();
    this.weight = this.param('weight', [outFeatures, inFeatures], true);
    this.bias = withBias ? this.param('bias', [outFeatures]) : null;
  }
  /**
   * `x·Wᵀ + b`: x [..., inFeatures] → [..., outFeatures] (an f16 weight is widened for the op,
   * then freed); `options.activation` is applied to the result (see the `linear` op).
   */
  forward(x: Tensor, options: LinearOptions = {}): Tensor {
    return this.weight.withF32((w) => linear(x, w, this.bias?.get() ?? null, options));
  }
}
