/**
 * The FPN neck: a 1×1 lateral conv per trunk level (the first conv takes the deepest level),
 * then top-down fusion (nearest ×2 upsample of the deeper fused map, added) on the configured
 * levels only.
 */
import { add, interpolate, Module, type Tensor } from '@rpsam2/tensor';
import type { NeckConfig } from '../config.js';
import { Conv2d } from '../nn/layers.js';

export class Lateral extends Module {
  readonly conv: Conv2d;
  constructor(inC: number, outC: number) {
    super();
    this.conv = this.child('conv', new Conv2d(inC, outC, 1));
  }
}

export class FpnNeck extends Module {
  readonly convs: Lateral[];
  constructor(readonly cfg: NeckConfig) {
    super();
    this.convs = this.list(
      'convs',
      cfg.backboneChannelList.map((c) => new Lateral(c, cfg.dModel)),
    );
  }

  /** Trunk outputs (finest first, NCHW) → fused features (finest first). */
  forward(xs: Tensor[]): Tensor[] {
    const n = this.convs.length - 1;
    const out: Tensor[] = new Array(xs.length);
    let prev: Tensor | null = null;
    for (let i = n; i >= 0; i--) {
      const lateral = this.convs[n - i].conv.forward(xs[i]);
      if (prev && this.cfg.fpnTopDownLevels.includes(i)) {
        const up = interpolate(prev, { size: [prev.shape[2] * 2, prev.shape[3] * 2], mode: 'nearest' });
        prev = add(lateral, up);
      } else {
        prev = lateral;
      }
      out[i] = prev;
    }
    return out;
  }
}
