/** How an op-vector case (PyTorch op name + args) maps onto a library call. */
import type { Tensor } from '../../tensor/tensor.js';

/** One case of an op-vector folder's `ops.json`. */
export interface OpCase {
  key: string;
  name: string;
  op: string;
  args: Record<string, unknown>;
  n_inputs: number;
  out_shape: number[];
  grads: number[];
}

/**
 * Runs a case's op on its inputs (`in0…`, in order; integer inputs arrive as i32 tensors).
 * Throw an Error naming the argument when `args` holds something unsupported.
 */
export type OpAdapter = (inputs: Tensor[], args: Record<string, any>, c: OpCase) => Tensor;
