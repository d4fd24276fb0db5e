/** expand / broadcastTo: materialise a broadcast; the gradient sums over the broadcast axes. */
import type { Tensor } from '../tensor/tensor.js';
import { assertTensor } from '../tensor/tensor.js';
import { reshape } from './reshape.js';
import { record } from '../autograd/record.js';
import { broadcastMap } from './broadcast-map.js';
import { sumTo } from './reduce.js';

/** `x` broadcast to `shape` (NumPy rules; -1 keeps a dim), copied to new storage; a view of `x` when no dim broadcasts. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  assertTensor(x, 'expand', 'x');
  const off = shape.length - x.rank;
  const target = shape.map((d, i) => (d === -1 ? x.shape[i - off] : d));
  // Nothing to broadcast: a view, as PyTorch's expand is (the decoder expands per prompt, and
  // with one prompt that was a 4 MiB copy of the positional encoding per click).
  if (off === 0 && target.every((d, i) => d === x.shape[i])) return reshape(x, target);
  const y = broadcastMap('copy', 'a', [x], [], 'expand', target);
  return record('expand', [x], y, (g) => [sumTo(g, x.shape)]);
}
