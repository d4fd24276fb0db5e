/**
 * Hiera, SAM 2's hierarchical image trunk: a 7×7/4 patch embedding, windowed (and a few global)
 * attention blocks over four stages; at each of the first three stage changes q is max-pooled
 * 2×2 inside the attention and the shortcut is max-pooled from a linear projection of the normed
 * input, halving the map and doubling channels. Activations are NHWC ([B, H, W, C]).
 */
import {
  add,
  interpolate,
  maxPool2d,
  permute,
  reshape,
  packedAttention,
  slice,
  expand,
  conv2d,
  tidy,
  LayerNorm,
  Linear,
  Module,
  type ParamSlot,
  type Tensor,
} from '@rpsam2/tensor';
import type { HieraConfig } from '../config.js';
import { MLP } from '../nn/layers.js';
import { windowPartition, windowUnpartition } from './window.js';
import { mapRows, mapTokens, rowsPerBinding } from '../nn/chunk.js';

/** 2×2 max pool of an NHWC map. */
function poolNHWC(x: Tensor, stride: [number, number]): Tensor {
  return maxPool2d(x, { kernelSize: stride, stride, channelsLast: true });
}

export class PatchEmbed extends Module {
  readonly weight: ParamSlot;
  readonly bias: ParamSlot;
  constructor(embedDim: number) {
    super();
    this.weight = this.param('proj.weight', [embedDim, 3, 7, 7]);
    this.bias = this.param('proj.bias', [embedDim]);
  }
  /** [B, 3, H, W] → [B, H/4, W/4, C] */
  forward(x: Tensor): Tensor {
    return permute(conv2d(x, this.weight.get(), this.bias.get(), { stride: 4, padding: 3 }), [0, 2, 3, 1]);
  }
}

export class MultiScaleAttention extends Module {
  readonly qkv: Linear;
  readonly proj: Linear;
  constructor(
    readonly dim: number,
    readonly dimOut: number,
    readonly numHeads: number,
    readonly qStride: [number, number] | null,
  ) {
    super();
    this.qkv = this.child('qkv', new Linear(dim, dimOut * 3));
    this.proj = this.child('proj', new Linear(dimOut, dimOut));
  }
  /** [B, H, W, C] → [B, H', W', dimOut] */
  forward(x: Tensor): Tensor {
    const [b, h, w] = x.shape;
    // q, k and v stay packed per token ([B, L, 3·dimOut], as the projection writes them): the
    // attention reads the heads in place (see packedAttention).
    const qkv = reshape(this.qkv.forward(x), [b, h * w, 3 * this.dimOut]);
    let q: Tensor | undefined;
    let [ho, wo] = [h, w];
    if (this.qStride) {
      const pooled = poolNHWC(reshape(slice(qkv, [null, null, { end: this.dimOut }]), [b, h, w, this.dimOut]), this.qStride);
      [ho, wo] = [pooled.shape[1], pooled.shape[2]];
      q = reshape(pooled, [b, ho * wo, this.dimOut]);
    }
    const o = packedAttention(qkv, this.numHeads, { q });
    return this.proj.forward(reshape(o, [b, ho, wo, this.dimOut]));
  }
}

export class MultiScaleBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn: MultiScaleAttention;
  readonly norm2: LayerNorm;
  readonly mlp: MLP;
  readonly proj: Linear | null;
  constructor(
    readonly dim: number,
    readonly dimOut: number,
    numHeads: number,
    mlpRatio: number,
    readonly qStride: [number, number] | null,
    readonly windowSize: number,
  ) {
    super();
    this.norm1 = this.child('norm1', new LayerNorm(dim, 1e-6));
    this.attn = this.child('attn', new MultiScaleAttention(dim, dimOut, numHeads, qStride));
    this.norm2 = this.child('norm2', new LayerNorm(dimOut, 1e-6));
    this.mlp = this.child('mlp', new MLP(dimOut, Math.floor(dimOut * mlpRatio), dimOut, 2, 'gelu'));
    this.proj = dim !== dimOut ? this.child('proj', new Linear(dim, dimOut)) : null;
  }

  /**
   * One Hiera block, channels last: [B, H, W, dim] → [B, H', W', dimOut] (H', W' divided by
   * `qStride` when it pools). Windowed (or global) attention and the MLP, each pre-norm with a residual.
   */
  forward(x: Tensor): Tensor {
    let shortcut = x;
    const xn = this.norm1.forward(x);
    if (this.proj) {
      shortcut = this.proj.forward(xn);
      if (this.qStride) shortcut = poolNHWC(shortcut, this.qStride);
    }
    let h: Tensor;
    const ws = this.windowSize;
    if (ws > 0) {
      const { windows } = windowPartition(xn, ws);
      // Windows are independent: chunk them when the qkv of all windows exceeds one binding.
      const attended = mapRows(windows, rowsPerBinding(ws * ws * 3 * this.dimOut), (w) => this.attn.forward(w));
      // After q pooling the windows shrink by the stride; unpartition at the pooled size.
      const wsOut = this.qStride ? ws / this.qStride[0] : ws;
      const [sh, sw] = [shortcut.shape[1], shortcut.shape[2]];
      const padded: [number, number] = [Math.ceil(sh / wsOut) * wsOut, Math.ceil(sw / wsOut) * wsOut];
      h = windowUnpartition(attended, wsOut, padded, [sh, sw]);
    } else {
      h = this.attn.forward(xn);
    }
    const y = add(shortcut, h);
    // Per token: chunked when the hidden layer (mlp_ratio × dim) exceeds one binding.
    const hidden = this.mlp.layers[0].outFeatures;
    return add(y, mapTokens(this.norm2.forward(y), hidden, (t) => this.mlp.forward(t)));
  }
}

export class Hiera extends Module {
  readonly patchEmbed: PatchEmbed;
  readonly posEmbed: ParamSlot;
  readonly posEmbedWindow: ParamSlot;
  readonly blocks: MultiScaleBlock[];
  /** Index of the last block of each stage. */
  readonly stageEnds: number[];
  /** Channels of each stage's output. */
  readonly stageDims: number[];

  constructor(readonly cfg: HieraConfig) {
    super();
    const { embedDim, stages, windowSpec, globalAttBlocks, qPool, qStride, dimMul, headMul, mlpRatio } = cfg;
    this.patchEmbed = this.child('patch_embed', new PatchEmbed(embedDim));
    this.posEmbed = this.param('pos_embed', [1, embedDim, ...cfg.windowPosEmbedBkgSpatialSize]);
    this.posEmbedWindow = this.param('pos_embed_window', [1, embedDim, windowSpec[0], windowSpec[0]]);
    this.stageEnds = stages.map((_, i) => stages.slice(0, i + 1).reduce((a, b) => a + b, 0) - 1);
    const qPoolBlocks = this.stageEnds.slice(0, -1).map((e) => e + 1).slice(0, qPool);
    const depth = stages.reduce((a, b) => a + b, 0);
    let dim = embedDim;
    let heads = cfg.numHeads;
    let stage = 1;
    const blocks: MultiScaleBlock[] = [];
    this.stageDims = [];
    for (let i = 0; i < depth; i++) {
      let dimOut = dim;
      // A stage's first block still uses the previous stage's window size.
      const window = globalAttBlocks.includes(i) ? 0 : windowSpec[stage - 1];
      if (this.stageEnds.includes(i - 1)) {
        dimOut = Math.floor(dim * dimMul);
        heads = Math.floor(heads * headMul);
        stage++;
      }
      blocks.push(new MultiScaleBlock(dim, dimOut, heads, mlpRatio, qPoolBlocks.includes(i) ? qStride : null, window));
      dim = dimOut;
      if (this.stageEnds.includes(i)) this.stageDims.push(dim);
    }
    this.blocks = this.list('blocks', blocks);
  }

  /** The full positional embedding for an h×w patch grid, [1, h, w, C]. */
  positionalEmbedding(h: number, w: number): Tensor {
    const bkg = interpolate(this.posEmbed.get(), { size: [h, w], mode: 'bicubic', alignCorners: false });
    const win = this.posEmbedWindow.get();
    const [c, wh, ww] = [win.shape[1], win.shape[2], win.shape[3]];
    // torch's tile: view the window as [1, C, 1, wh, 1, ww] and broadcast over the grid of windows.
    const tiled = reshape(expand(reshape(win, [1, c, 1, wh, 1, ww]), [1, c, h / wh, wh, w / ww, ww]), [1, c, h, w]);
    return permute(add(bkg, tiled), [0, 2, 3, 1]);
  }

  /**
   * [B, 3, S, S] → the output of each stage, NCHW. `taps` see intermediate results (for
   * verification against reference values).
   */
  forward(x: Tensor, taps?: { patchEmbed?: (t: Tensor) => void; posEmbed?: (t: Tensor) => void }): Tensor[] {
    let h = this.patchEmbed.forward(x);
    taps?.patchEmbed?.(h);
    const pos = this.positionalEmbedding(h.shape[1], h.shape[2]);
    taps?.posEmbed?.(pos);
    h = add(h, pos);
    const outs: Tensor[] = [];
    this.blocks.forEach((blk, i) => {
      // Free each block's intermediates (and the block's input) as soon as it is done, so the
      // encoder's peak is one block's working set, not the sum over all blocks. Autograd keeps
      // its own references to what it saved.
      const input = h;
      h = tidy(() => blk.forward(input));
      input.dispose();
      if (this.stageEnds.includes(i)) outs.push(permute(h, [0, 3, 1, 2]));
    });
    h.dispose();
    return outs;
  }
}
