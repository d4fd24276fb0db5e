/**
 * Adam and AdamW, as torch.optim.Adam / torch.optim.AdamW with amsgrad=false, maximize=false.
 * Per parameter and step, one fused kernel reads the gradient and updates the parameter, exp_avg
 * and exp_avg_sq in place:
 *
 *   g = grad (+ weight_decay·p for Adam: L2 penalty added to the gradient)
 *   p = p·(1 − lr·weight_decay)            (AdamW only: decoupled decay, before the update)
 *   m = m + (1 − β1)·(g − m)               (torch's lerp)
 *   v = β2·v + (1 − β2)·g²
 *   p = p − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε)
 *
 * The bias corrections depend only on the step count, so they are computed on the CPU in float64.
 */
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, checkHyper, type ParamState } from './optimizer.js';
import type { FusedUpdate } from './fused-update.js';

/** Hyperparameters of {@link Adam} and {@link AdamW}. */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Coefficients of the running averages of the gradient and its square (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to the denominator for stability (default 1e-8). */
  eps?: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay (default 1e-2). */
  weightDecay?: number;
}

const ADAM_BODY = `
  var g = G[i];
  var p = P[i] * params.decay;
  g = g + params.l2 * p;
  let m = M[i] + params.one_minus_b1 * (g - M[i]);
  let v = params.beta2 * V[i] + params.one_minus_b2 * g * g;
  M[i] = m;
  V[i] = v;
  let denom = sqrt(v) / params.bc2_sqrt + params.eps;
  P[i] = p - params.step_size * (m / denom);`;

/** Adam (L2 weight decay added to the gradient). */
export class Adam extends Optimizer {
  protected readonly countsSteps = true;
  private beta1: number;
  private beta2: number;
  private eps: number;
  private weightDecay: number;

  constructor(
    params: readonly Tensor[],
    options: AdamOptions = {},
    /** @internal AdamW's decoupled weight decay. */
    private readonly decoupled = false,
    defaultWeightDecay = 0,
  ) {
    const name = decoupled ? 'AdamW' : 'Adam';
    super(name, params, options.lr ?? 1e-3);
    const [b1, b2] = options.betas ?? [0.9, 0.999];
    this.beta1 = checkHyper(name, 'betas[0]', b1, 0, 1);
    this.beta2 = checkHyper(name, 'betas[1]', b2, 0, 1);
    this.eps = checkHyper(name, 'eps', options.eps ?? 1e-8);
    this.weightDecay = checkHyper(name, 'weightDecay', options.weightDecay ?? defaultWeightDecay);
  }

  protected bufferNames(): readonly string[] {
    return ['exp_avg', 'exp_avg_sq'];
  }

  protected zeroInit(): boolean {
    return true;
  }

  protected hyperparameters(): Record<string, number> {
    return { 'betas.0': this.beta1, 'betas.1': this.beta2, eps: this.eps, weight_decay: this.weightDecay };
  }

  protected setHyperparameter(name: string, value: number): void {
    switch (name) {
      case 'betas.0':
        this.beta1 = checkHyper(this.name, 'betas[0]', value, 0, 1);
        break;
      case 'betas.1':
        this.beta2 = checkHyper(this.name, 'betas[1]', value, 0, 1);
        break;
      case 'eps':
        this.eps = checkHyper(this.name, 'eps', value);
        break;
      case 'weight_decay':
        this.weightDecay = checkHyper(this.name, 'weightDecay', value);
        break;
      default:
        throw new Error(`${this.name}.loadStateDict: unknown key '${name}'`);
    }
  }

  protected update(_i: number, p: Tensor, g: Tensor, st: ParamState): void {
    const t = st.step;
    const bc1 = 1 - this.beta1 ** t;
    const bc2 = 1 - this.beta2 ** t;
    const scalars: FusedUpdate['scalars'] = [
      { name: 'decay', type: 'f32', value: this.decoupled ? 1 - this.lr * this.weightDecay : 1 },
      { name: 'l2', type: 'f32', value: this.decoupled ? 0 : this.weightDecay },
      { name: 'one_minus_b1', type: 'f32', value: 1 - this.beta1 },
      { name: 'beta2', type: 'f32', value: this.beta2 },
      { name: 'one_minus_b2', type: 'f32', value: 1 - this.beta2 },
      { name: 'bc2_sqrt', type: 'f32', value: Math.sqrt(bc2) },
      { name: 'eps', type: 'f32', value: this.eps },
      { name: 'step_size', type: 'f32', value: this.lr / bc1 },
    ];
    this.runStep('adam', p, g, st, { M: 'exp_avg', V: 'exp_avg_sq' }, scalars, ADAM_BODY);
  }
}

/** AdamW: Adam with decoupled weight decay (default 1e-2), as torch.optim.AdamW. */
export class AdamW extends Adam {
  constructor(params: readonly Tensor[], options: AdamOptions = {}) {
    super(params, options, true, 1e-2);
  }
}
