/**
 * float64 references of PyTorch's optimizer update rules and gradient clipping (the
 * single-tensor, non-fused code paths), shared by the optimizer tests.
 */
export interface RefAdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  decoupled: boolean;
}

/**
 * A reference optimizer: options `o` (mutable, as a schedule changes `lr`), per-parameter state,
 * and a step that updates each parameter with a gradient (PyTorch skips those without one).
 */
abstract class RefOptimizer<O, S> {
  state: (S | undefined)[] = [];
  constructor(public o: O) {}
  step(params: Float64Array[], grads: (Float64Array | null)[]): void {
    params.forEach((p, k) => {
      const grad = grads[k];
      if (grad) this.update(p, grad, k);
    });
  }
  /** Updates parameter `k` in place from its gradient. */
  protected abstract update(p: Float64Array, grad: Float64Array, k: number): void;
}

/** torch.optim.Adam / AdamW (amsgrad=False, maximize=False), per-parameter step counts. */
export class RefAdam extends RefOptimizer<RefAdamOptions, { step: number; exp_avg: Float64Array; exp_avg_sq: Float64Array }> {
  protected update(p: Float64Array, grad: Float64Array, k: number): void {
    const { lr, betas, eps, weightDecay, decoupled } = this.o;
    const st = (this.state[k] ??= { step: 0, exp_avg: new Float64Array(p.length), exp_avg_sq: new Float64Array(p.length) });
    st.step++;
    const bc1 = 1 - betas[0] ** st.step;
    const bc2 = 1 - betas[1] ** st.step;
    const stepSize = lr / bc1;
    for (let i = 0; i < p.length; i++) {
      let g = grad[i];
      if (decoupled) p[i] *= 1 - lr * weightDecay;
      else g += weightDecay * p[i];
      st.exp_avg[i] += (1 - betas[0]) * (g - st.exp_avg[i]);
      st.exp_avg_sq[i] = betas[1] * st.exp_avg_sq[i] + (1 - betas[1]) * g * g;
      const denom = Math.sqrt(st.exp_avg_sq[i]) / Math.sqrt(bc2) + eps;
      p[i] -= stepSize * (st.exp_avg[i] / denom);
    }
  }
}

export interface RefSGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
}

/** torch.optim.SGD (maximize=False). */
export class RefSGD extends RefOptimizer<RefSGDOptions, { momentum_buffer: Float64Array }> {
  protected update(p: Float64Array, grad: Float64Array, k: number): void {
    const { lr, momentum, dampening, nesterov, weightDecay } = this.o;
    const d = Float64Array.from(grad, (g, i) => g + weightDecay * p[i]);
    if (momentum !== 0) {
      const st = this.state[k];
      if (!st) this.state[k] = { momentum_buffer: Float64Array.from(d) };
      else for (let i = 0; i < p.length; i++) st.momentum_buffer[i] = momentum * st.momentum_buffer[i] + (1 - dampening) * d[i];
      const buf = this.state[k]!.momentum_buffer;
      for (let i = 0; i < p.length; i++) d[i] = nesterov ? d[i] + momentum * buf[i] : buf[i];
    }
    for (let i = 0; i < p.length; i++) p[i] -= lr * d[i];
  }
}

/** torch.nn.utils.clip_grad_norm_ (L2): returns the total norm, scales grads in place. */
export function refClipGradNorm(grads: Float64Array[], maxNorm: number): number {
  let ss = 0;
  for (const g of grads) for (const v of g) ss += v * v;
  const norm = Math.sqrt(ss);
  const coef = Math.min(1, maxNorm / (norm + 1e-6));
  for (const g of grads) for (let i = 0; i < g.length; i++) g[i] *= coef;
  return norm;
}
