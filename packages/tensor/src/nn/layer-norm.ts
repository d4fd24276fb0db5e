/** nn.LayerNorm over the last dim, with PyTorch's parameter names (`weight`, `bias`, both [dim]). */
import { layerNorm, type NormOptions } from '../ops/norm.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module, type ParamSlot } from './module.js';

/** LayerNorm over the last dim. */
export class LayerNorm extends Module {
  readonly weight: ParamSlot;
  readonly bias: ParamSlot;
  constructor(
    readonly dim: number,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = this.param('weight', [dim]);
    this.bias = this.param('bias', [dim]);
  }
  /**
   * Normalises `x` over its last dim (of size `dim`), then scales by `weight` and shifts by `bias`;
   * `options.activation` is applied last (see `NormOptions`).
   */
  forward(x: Tensor, options: NormOptions = {}): Tensor {
    return layerNorm(x, this.weight.get(), this.bias.get(), this.eps, options);
  }
}
