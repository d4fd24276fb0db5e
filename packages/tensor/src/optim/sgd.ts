/**
 * Stochastic gradient descent, as torch.optim.SGD (maximize=false). One fused kernel per
 * parameter and step:
 *
 *   g = grad + weight_decay·p
 *   b = g on the first step, else momentum·b + (1 − dampening)·g     (when momentum ≠ 0)
 *   g = nesterov ? g + momentum·b : b                                  (when momentum ≠ 0)
 *   p = p − lr·g
 */
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, checkHyper, type ParamState } from './optimizer.js';
import type { FusedUpdate } from './fused-update.js';

/** Hyperparameters of {@link SGD} (defaults as in PyTorch). */
export interface SGDOptions {
  /** Learning rate (default 1e-3, as PyTorch ≥ 2.2). */
  lr?: number;
  /** Momentum factor (default 0: no momentum buffer). */
  momentum?: number;
  /** Dampening of the momentum (default 0). */
  dampening?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening = 0). */
  nesterov?: boolean;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
}

const PLAIN_BODY = `
  let p = P[i];
  let g = G[i] + params.weight_decay * p;
  P[i] = p - params.lr * g;`;

const MOMENTUM_BODY = `
  let p = P[i];
  var g = G[i] + params.weight_decay * p;
  // On the first step the buffer holds no data yet: select() never reads the unchosen value.
  let b = select(params.momentum * B[i] + params.one_minus_dampening * g, g, params.first == 1u);
  B[i] = b;
  g = select(b, g + params.momentum * b, params.nesterov == 1u);
  P[i] = p - params.lr * g;`;

/**
 * Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight
 * decay, as torch.optim.SGD.
 */
export class SGD extends Optimizer {
  protected readonly countsSteps = false;
  private momentum: number;
  private dampening: number;
  private nesterov: boolean;
  private weightDecay: number;

  constructor(params: readonly Tensor[], options: SGDOptions = {}) {
    super('SGD', params, options.lr ?? 1e-3);
    this.momentum = checkHyper('SGD', 'momentum', options.momentum ?? 0);
    this.dampening = checkHyper('SGD', 'dampening', options.dampening ?? 0);
    this.nesterov = options.nesterov ?? false;
    this.weightDecay = checkHyper('SGD', 'weightDecay', options.weightDecay ?? 0);
    this.checkHyperparameters();
  }

  protected bufferNames(): readonly string[] {
    return this.momentum !== 0 ? ['momentum_buffer'] : [];
  }

  protected zeroInit(): boolean {
    return false;
  }

  protected hyperparameters(): Record<string, number> {
    return { momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov ? 1 : 0, weight_decay: this.weightDecay };
  }

  protected setHyperparameter(name: string, value: number): void {
    switch (name) {
      case 'momentum':
        // The set of state buffers depends on whether momentum is used.
        if ((value === 0) !== (this.momentum === 0)) {
          throw new Error(`SGD.loadStateDict: momentum ${value} would change whether momentum buffers exist (this optimizer has momentum ${this.momentum})`);
        }
        this.momentum = checkHyper('SGD', 'momentum', value);
        break;
      case 'dampening':
        this.dampening = checkHyper('SGD', 'dampening', value);
        break;
      case 'nesterov':
        if (value !== 0 && value !== 1) throw new RangeError(`SGD.loadStateDict: nesterov must be 0 or 1, got ${value}`);
        this.nesterov = value === 1;
        break;
      case 'weight_decay':
        this.weightDecay = checkHyper('SGD', 'weightDecay', value);
        break;
      default:
        throw new Error(`SGD.loadStateDict: unknown key '${name}'`);
    }
  }

  protected update(_i: number, p: Tensor, g: Tensor, st: ParamState, fresh: boolean): void {
    const common: FusedUpdate['scalars'] = [
      { name: 'lr', type: 'f32', value: this.lr },
      { name: 'weight_decay', type: 'f32', value: this.weightDecay },
    ];
    if (this.momentum === 0) {
      this.runStep('sgd', p, g, st, {}, common, PLAIN_BODY);
      return;
    }
    const scalars: FusedUpdate['scalars'] = [
      ...common,
      { name: 'momentum', type: 'f32', value: this.momentum },
      { name: 'one_minus_dampening', type: 'f32', value: 1 - this.dampening },
      { name: 'first', type: 'u32', value: fresh ? 1 : 0 },
      { name: 'nesterov', type: 'u32', value: this.nesterov ? 1 : 0 },
    ];
    this.runStep('sgd_momentum', p, g, st, { B: 'momentum_buffer' }, scalars, MOMENTUM_BODY);
  }

  protected override checkHyperparameters(): void {
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError(`SGD: nesterov momentum requires momentum > 0 and dampening = 0 (got momentum ${this.momentum}, dampening ${this.dampening})`);
    }
  }
}
