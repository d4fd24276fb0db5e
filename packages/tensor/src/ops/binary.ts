/** Elementwise binary ops with broadcasting; gradients are summed back over broadcast axes. */
import type { Tensor } from '../tensor/tensor.js';
import { assertTensor, assertDType } from '../tensor/tensor.js';
import { record } from '../autograd/record.js';
import { broadcastMap } from './broadcast-map.js';
import { sumTo, reduceTo } from './reduce.js';

function check(op: string, a: Tensor, b: Tensor): void {
  assertTensor(a, op, 'a');
  assertTensor(b, op, 'b');
  assertDType(a, ['f32'], op, 'a');
  assertDType(b, ['f32'], op, 'b');
}

/**
 * The gradient of one input `x` of a binary op: the elementwise map `expr` of `operands` (the
 * output gradient and saved inputs), summed back over x's broadcast axes; null when x needs none.
 */
function gradOf(x: Tensor, name: string, expr: string, operands: Tensor[]): Tensor | null {
  return x.requiresGrad ? reduceTo(broadcastMap(name, expr, operands), x.shape) : null;
}

/** a + b */
export function add(a: Tensor, b: Tensor): Tensor {
  check('add', a, b);
  const y = broadcastMap('add', 'a + b', [a, b]);
  return record('add', [a, b], y, (g) => [sumTo(g, a.shape), sumTo(g, b.shape)]);
}

/** a − b */
export function sub(a: Tensor, b: Tensor): Tensor {
  check('sub', a, b);
  const y = broadcastMap('sub', 'a - b', [a, b]);
  return record('sub', [a, b], y, (g) => [sumTo(g, a.shape), gradOf(b, 'neg', '-a', [g])]);
}

/** a · b */
export function mul(a: Tensor, b: Tensor): Tensor {
  check('mul', a, b);
  const y = broadcastMap('mul', 'a * b', [a, b]);
  return record('mul', [a, b], y, (g, [sa, sb]) => [gradOf(a, 'mul', 'a * b', [g, sb]), gradOf(b, 'mul', 'a * b', [g, sa])], [a, b]);
}

/** a / b */
export function div(a: Tensor, b: Tensor): Tensor {
  check('div', a, b);
  const y = broadcastMap('div', 'a / b', [a, b]);
  return record('div', [a, b], y, (g, [sa, sb]) => [gradOf(a, 'div', 'a / b', [g, sb]), gradOf(b, 'div_grad_b', '-a * b / (c * c)', [g, sa, sb])], [a, b]);
}

/** 1 where a == b, else 0 (no gradient). */
export function equal(a: Tensor, b: Tensor): Tensor {
  check('equal', a, b);
  return broadcastMap('eq', 'select(0.0, 1.0, a == b)', [a, b]);
}
