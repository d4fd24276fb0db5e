/**
 * The one list of the ops that have a gradient rule: the names under which they record on the
 * tape (`record(op, …)`, shown in errors and profiles). Ops missing here (argmax, greater, sign,
 * casts that change the dtype, …) cut the graph. With the debug check on (the tensor tests and
 * `check-ops` turn it on) `record` throws for a name not in the list, so the list cannot go stale.
 */
import { UNARY_OPS, type UnaryOp } from '../kernels/unary.js';

const UNARY_WITH_GRADIENT = (Object.keys(UNARY_OPS) as UnaryOp[]).filter((op) => UNARY_OPS[op].grad !== null);

/** The names of every op that records a backward rule on the tape (ops missing here cut the graph). */
export const GRADIENT_OPS: ReadonlySet<string> = new Set([
  // elementwise
  'add',
  'sub',
  'mul',
  'div',
  'where',
  ...UNARY_WITH_GRADIENT,
  // reductions and normalisation
  'sum',
  'mean',
  'amax',
  'softmax',
  'log_softmax',
  'layerNorm',
  'layerNorm2d',
  // shape and data movement
  'reshape',
  'expand',
  'permute',
  'slice',
  'narrow',
  'split',
  'cat',
  'stack',
  'pad',
  'repeatInterleave',
  'gatherRows',
  'cast',
  // linear algebra, convolution, pooling, resampling
  'matmul',
  'matmulT',
  'linear',
  'scaledDotProductAttention',
  'conv2d',
  'convTranspose2d',
  'maxPool2d',
  'avgPool2d',
  'interpolate',
  'samplePoints',
  // losses
  'bceWithLogits',
  'rpsam2DistanceLoss',
]);

let check = false;

/** Turns the debug check of {@link GRADIENT_OPS} in `record` on or off. */
export function setGradientOpsCheck(on: boolean): void {
  check = on;
}

/** Throws (when the debug check is on) unless `op` is in {@link GRADIENT_OPS}. */
export function assertGradientOp(op: string): void {
  if (check && !GRADIENT_OPS.has(op)) {
    throw new Error(`record: op '${op}' has a gradient rule but is not listed in GRADIENT_OPS (autograd/gradient-ops.ts); add it there`);
  }
}
