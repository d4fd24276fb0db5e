/** expand / broadcastTo: materialise a broadcast; the gradient sums over the broadcast axes. */
import type { Tensor } from '../tensor/tensor.js';
import { assertTensor } from '../tensor/tensor.js';
import { record } from '../autograd/record.js';
import { broadcastMap } from './broadcast-map.js';
import { sumTo } from './reduce.js';

/** `x` broadcast to `shape` (NumPy rules; -1 keeps a dim), copied to new storage. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  assertTensor(x, 'expand', 'x');
  const off = shape.length - x.rank;
  const target = shape.map((d, i) => (d === -1 ? x.shape[i - off] : d));
  const y = broadcastMap('copy', 'a', [x], [], 'expand', target);
  return record('expand', [x], y, (g) => [sumTo(g, x.shape)]);
}
