/**
 * Reverse-mode differentiation: one topological walk from the output, each node's rule run once
 * with the sum of the gradients that reached it (so shared subgraphs are handled by accumulation,
 * not by re-walking every path). A gradient is freed as soon as its node has consumed it, and a
 * node's saved tensors right after its rule ran.
 */
import { Tensor } from '../tensor/tensor.js';
import { fmtShape, shapeEq } from '../tensor/shape.js';
import { GradNode } from './grad-node.js';
import { noGrad } from './grad-mode.js';
import { add } from '../ops/binary.js';
import { full } from '../ops/creation.js';
import { profileScope } from '../profile/profile.js';

/** Options of `Tensor.backward`: the output gradient and whether to keep the graph. */
export interface BackwardOptions {
  /** Gradient of the output (defaults to 1 for a one-element output). */
  grad?: Tensor;
  /** Keep saved tensors so backward can run through the graph again. */
  retainGraph?: boolean;
}

/** Nodes reachable from `root`, ordered so that each node comes before the nodes it feeds from. */
function topoOrder(root: GradNode): GradNode[] {
  const order: GradNode[] = [];
  const visited = new Set<GradNode>();
  const stack: [GradNode, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [node, i] = top;
    if (i < node.targets.length) {
      top[1]++;
      const t = node.targets[i];
      if (t instanceof GradNode && !visited.has(t)) {
        visited.add(t);
        stack.push([t, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order.reverse();
}

function accumulate<K>(map: Map<K, Tensor>, key: K, g: Tensor): void {
  const prev = map.get(key);
  if (!prev) {
    map.set(key, g);
    return;
  }
  map.set(key, add(prev, g));
  prev.dispose();
  g.dispose();
}

/**
 * Computes gradients of `output` with respect to every leaf tensor that requires grad and adds
 * them to the leaves' `.grad`.
 */
export function backward(output: Tensor, options: BackwardOptions = {}): void {
  if (!output.requiresGrad) {
    throw new Error(`backward: ${output.describe()} does not require grad (no input of its graph has requiresGrad)`);
  }
  // Under a profile, backward's dispatches are labelled 'backward' and each rule's 'backward/<op>'.
  profileScope('backward', () => noGrad(() => {
    let seed: Tensor;
    if (options.grad) {
      if (!shapeEq(options.grad.shape, output.shape)) {
        throw new RangeError(`backward: grad ${fmtShape(options.grad.shape)} does not match ${output.describe()}`);
      }
      seed = options.grad.view(options.grad.shape, false);
    } else {
      if (output.size !== 1) {
        throw new RangeError(`backward: ${output.describe()} is not a scalar; pass options.grad`);
      }
      seed = full(output.shape, 1);
    }
    if (!output.node) {
      // `output` is itself a leaf.
      accumulateLeaf(output, seed);
      return;
    }
    const grads = new Map<GradNode, Tensor>([[output.node, seed]]);
    for (const node of topoOrder(output.node)) {
      const g = grads.get(node);
      if (!g) continue;
      grads.delete(node);
      if (node.consumed) {
        g.dispose();
        throw new Error(`backward: the graph through '${node.op}' was already freed by an earlier backward (use retainGraph)`);
      }
      const inGrads = profileScope(node.op, () => node.rule(g, node.saved));
      g.dispose();
      if (!options.retainGraph) {
        node.releaseSaved();
        node.consumed = true;
      }
      node.targets.forEach((target, i) => {
        const gi = inGrads[i];
        if (!target || !gi) {
          gi?.dispose();
          return;
        }
        if (!shapeEq(gi.shape, node.inputShapes[i])) {
          throw new Error(
            `backward rule of '${node.op}' returned a gradient ${fmtShape(gi.shape)} for input ${i} of shape ${fmtShape(node.inputShapes[i])}`,
          );
        }
        if (target instanceof GradNode) accumulate(grads, target, gi);
        else accumulateLeaf(target, gi);
      });
    }
    for (const g of grads.values()) g.dispose();
  }));
}

function accumulateLeaf(leaf: Tensor, g: Tensor): void {
  if (leaf.isDisposed) {
    g.dispose();
    return;
  }
  const owned = g.view(g.shape, false);
  g.dispose();
  if (leaf.grad) {
    const sum = add(leaf.grad, owned);
    leaf.grad.dispose();
    owned.dispose();
    leaf.grad = untracked(sum);
  } else {
    leaf.grad = owned;
  }
}

/** Gradients live as long as their leaf, not as long as the scope that made them. */
function untracked(t: Tensor): Tensor {
  const v = t.view(t.shape, false);
  t.dispose();
  return v;
}
