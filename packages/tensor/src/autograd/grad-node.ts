/**
 * One recorded op of the autodiff tape.
 *
 * A node keeps what its backward rule needs (`saved`, holding storage references so the user may
 * dispose the originals) and links to where each input's gradient goes: the node that produced
 * the input, or the leaf tensor itself. Nodes are reference counted by the tensors they produced
 * and by the nodes that consume them; when nothing refers to a node any more, its saved tensors
 * are freed, so an unused graph does not leak GPU memory.
 */
import type { Tensor } from '../tensor/tensor.js';

/** A backward rule: input gradients from the output gradient (null where none flows). */
export type BackwardRule = (grad: Tensor, saved: Tensor[]) => (Tensor | null | undefined)[];

/** Where an input's gradient goes: the node that produced it, the leaf itself, or nowhere. */
export type GradTarget = GradNode | Tensor | null;

/**
 * One recorded op of the autodiff tape: its backward rule, the tensors the rule needs (`saved`) and
 * where each input gradient goes. Reference counted; the saved tensors are freed with the last reference.
 */
export class GradNode {
  private refs = 1;
  /** True once backward consumed the saved tensors. */
  consumed = false;

  constructor(
    readonly op: string,
    readonly targets: GradTarget[],
    readonly inputShapes: (readonly number[])[],
    readonly outShape: readonly number[],
    public saved: Tensor[],
    readonly rule: BackwardRule,
  ) {
    for (const t of targets) if (t instanceof GradNode) t.refs++;
  }

  /** Drops one reference; the last one frees the saved tensors and unrefs the input nodes. */
  unref(): void {
    if (--this.refs > 0) return;
    this.releaseSaved();
    for (const t of this.targets) if (t instanceof GradNode) t.unref();
  }

  /** Disposes the saved tensors now (backward does this after using them unless the graph is retained). */
  releaseSaved(): void {
    for (const t of this.saved) t.dispose();
    this.saved = [];
  }
}
