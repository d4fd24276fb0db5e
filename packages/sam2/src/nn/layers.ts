/**
 * The PyTorch layers SAM 2 is built from beyond the generic `Linear` and `LayerNorm` of
 * @rpsam2/tensor, as modules holding parameter slots with PyTorch's names (`weight`, `bias`,
 * `layers.0.weight`, …). Forward passes call @rpsam2/tensor ops.
 *
 * The weights of Linear, Conv2d and ConvTranspose2d may be stored as f16 (see `LoadOptions.dtype`):
 * compute stays f32, so each forward widens the weight for its one op and frees the copy right
 * after, and only one layer's f32 weight is alive at a time.
 */
import { conv2d, convTranspose2d, LayerNorm, layerNorm2d, Linear, Module, sigmoid, type MatmulActivation, type NormOptions, type ParamSlot, type Tensor } from '@rpsam2/tensor';

/**
 * SAM's LayerNorm2d: normalises NCHW over channels (eps 1e-6). The same `weight`/`bias` [channels]
 * parameters as the generic LayerNorm; only the normalised axis and the default eps differ.
 */
export class LayerNorm2d extends LayerNorm {
  constructor(
    readonly channels: number,
    eps = 1e-6,
  ) {
    super(channels, eps);
  }
  /**
   * Normalises x [N, C, H, W] over C at every pixel, then scales and shifts per channel; same shape
   * out. `options.activation` is applied to the result (fused into the norm's stores without gradients).
   */
  override forward(x: Tensor, options: NormOptions = {}): Tensor {
    return layerNorm2d(x, this.weight.get(), this.bias.get(), this.eps, options);
  }
}

/** Stride and zero padding of a {@link Conv2d}, in pixels, the same on both axes (defaults 1 and 0). */
export interface Conv2dOptions {
  stride?: number;
  padding?: number;
}

/**
 * A convolution's parameters: a weight that may be stored as f16 (its forward widens it) and an
 * f32 bias of one value per output channel, registered in PyTorch's order.
 */
abstract class ConvLayer extends Module {
  readonly weight: ParamSlot;
  readonly bias: ParamSlot;
  protected constructor(weightShape: readonly number[], outChannels: number) {
    super();
    this.weight = this.param('weight', weightShape, true);
    this.bias = this.param('bias', [outChannels]);
  }
}

/** nn.Conv2d with a square kernel: `weight` [out, in, k, k] (may be stored as f16) and `bias` [out]. */
export class Conv2d extends ConvLayer {
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    readonly options: Conv2dOptions = {},
  ) {
    super([outChannels, inChannels, kernelSize, kernelSize], outChannels);
  }
  /** x [N, in, H, W] → [N, out, H', W'], H' = ⌊(H + 2·padding − k) / stride⌋ + 1 (likewise W'). */
  forward(x: Tensor): Tensor {
    return this.weight.withF32((w) => conv2d(x, w, this.bias.get(), { stride: this.options.stride ?? 1, padding: this.options.padding ?? 0 }));
  }
}

/**
 * nn.ConvTranspose2d with a square kernel and no padding: `weight` [in, out, k, k] (may be stored as
 * f16) and `bias` [out]; SAM 2 uses it to upscale the mask features.
 */
export class ConvTranspose2d extends ConvLayer {
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    readonly stride: number,
  ) {
    super([inChannels, outChannels, kernelSize, kernelSize], outChannels);
  }
  /**
   * x [N, in, H, W] → [N, out, (H − 1)·stride + k, (W − 1)·stride + k]; `epilogue` adds a
   * residual and/or applies GELU (fused into the conv's stores where the op can: see
   * `convTranspose2d`'s `add` and `activation`); `channelsLast` takes x as [N, H, W, in].
   */
  forward(x: Tensor, epilogue: { add?: Tensor; activation?: MatmulActivation; channelsLast?: boolean } = {}): Tensor {
    return this.weight.withF32((w) => convTranspose2d(x, w, this.bias.get(), { stride: this.stride, ...epilogue }));
  }
}

/** nn.Embedding: a [num, dim] table used whole or by row. */
export class Embedding extends Module {
  readonly weight: ParamSlot;
  constructor(
    readonly num: number,
    readonly dim: number,
  ) {
    super();
    this.weight = this.param('weight', [num, dim]);
  }
}

/** The activation between the layers of an {@link MLP} (`gelu` is the exact erf form). */
export type Activation = MatmulActivation;

/** SAM 2's MLP: `num_layers` Linear layers with an activation between them. */
export class MLP extends Module {
  readonly layers: Linear[];
  constructor(
    inputDim: number,
    hiddenDim: number,
    outputDim: number,
    numLayers: number,
    readonly activation: Activation = 'relu',
    readonly sigmoidOutput = false,
  ) {
    super();
    const dims = [inputDim, ...Array<number>(numLayers - 1).fill(hiddenDim), outputDim];
    this.layers = this.list(
      'layers',
      dims.slice(0, -1).map((d, i) => new Linear(d, dims[i + 1])),
    );
  }
  /**
   * x [..., inputDim] → [..., outputDim]: each Linear layer, the activation between them, and a
   * sigmoid on the output when `sigmoidOutput`.
   */
  forward(x: Tensor): Tensor {
    let h = x;
    // The activation between layers is applied by the linear op (fused into its matmul's stores without gradients).
    this.layers.forEach((layer, i) => {
      h = layer.forward(h, i < this.layers.length - 1 ? { activation: this.activation } : {});
    });
    return this.sigmoidOutput ? sigmoid(h) : h;
  }
}
