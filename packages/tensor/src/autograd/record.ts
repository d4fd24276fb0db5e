/** Recording ops on the tape (only when an input requires grad and grad mode is on). */
import type { Tensor } from '../tensor/tensor.js';
import { GradNode, type BackwardRule, type GradTarget } from './grad-node.js';
import { isGradEnabled } from './grad-mode.js';
import { assertGradientOp } from './gradient-ops.js';

/**
 * Whether an op on these inputs records the tape: grad mode is on and one of them requires grad.
 * Ops with a fused forward-only path (activations, residuals, in-place views) take it otherwise.
 */
export function recordsGrad(...inputs: readonly (Tensor | null | undefined)[]): boolean {
  return isGradEnabled() && inputs.some((t) => t?.requiresGrad);
}

/**
 * Attaches a backward rule to `out`; `op` names it (the library's own ops are listed in
 * GRADIENT_OPS, autograd/gradient-ops.ts). `save` lists the tensors the rule reads; they are retained
 * (shared storage, not copied) and handed to the rule in the same order.
 */
export function record(op: string, inputs: readonly Tensor[], out: Tensor, rule: BackwardRule, save: readonly Tensor[] = []): Tensor {
  if (!recordsGrad(...inputs)) return out;
  assertGradientOp(op);
  const targets: GradTarget[] = inputs.map((t) => (t.requiresGrad ? (t.node ?? t) : null));
  const saved = save.map((t) => t.view(t.shape, false));
  out.node = new GradNode(
    op,
    targets,
    inputs.map((t) => t.shape),
    out.shape,
    saved,
    rule,
  );
  out.requiresGrad = true;
  return out;
}
