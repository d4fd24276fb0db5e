/** where(cond, a, b): a where cond ≠ 0, else b, with broadcasting; no gradient to cond. */
import type { Tensor } from '../tensor/tensor.js';
import { assertTensor } from '../tensor/tensor.js';
import { record } from '../autograd/record.js';
import { broadcastMap } from './broadcast-map.js';
import { reduceTo } from './reduce.js';

/**
 * Elementwise `a` where `cond ≠ 0`, else `b`, with broadcasting. Differentiable in `a` and `b`, not in
 * `cond`.
 */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  assertTensor(cond, 'where', 'cond');
  assertTensor(a, 'where', 'a');
  assertTensor(b, 'where', 'b');
  const y = broadcastMap('where', 'select(c, b, a != 0.0)', [cond, a, b]);
  return record(
    'where',
    [cond, a, b],
    y,
    (g, [c]) => [
      null,
      a.requiresGrad ? reduceTo(broadcastMap('where_grad_a', 'select(0.0, b, a != 0.0)', [c, g]), a.shape) : null,
      b.requiresGrad ? reduceTo(broadcastMap('where_grad_b', 'select(b, 0.0, a != 0.0)', [c, g]), b.shape) : null,
    ],
    [cond],
  );
}
