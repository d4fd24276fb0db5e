/**
 * Losses of RP-SAM2's training/refinement: soft Dice on mask logits, binary cross-entropy with
 * logits, and the exponential point-distance loss. Each is differentiable w.r.t. every input.
 */
import { Tensor, assertTensor, assertDType } from '../tensor/tensor.js';
import { fmtShape, shapeEq } from '../tensor/shape.js';
import { record } from '../autograd/record.js';
import { tidy } from '../scope.js';
import { getBackend } from '../runtime.js';
import { Params, grid, WG } from '../kernels/wgsl.js';
import type { Kernel } from '../backend/backend.js';
import { rpsam2DistGradCandidatesKernel, rpsam2DistGradPointsKernel, rpsam2DistKernel } from '../kernels/loss.js';
import { broadcastMap } from './broadcast-map.js';
import { reduceTo, sum, mean } from './reduce.js';
import { sigmoid, affine, addScalar } from './unary.js';
import { mul, add, div } from './binary.js';

function checkSame(op: string, a: Tensor, aName: string, b: Tensor, bName: string): void {
  assertTensor(a, op, aName);
  assertTensor(b, op, bName);
  assertDType(a, ['f32'], op, aName);
  assertDType(b, ['f32'], op, bName);
  if (!shapeEq(a.shape, b.shape)) {
    throw new RangeError(`${op}: ${bName} ${b.describe()} must have the shape of ${aName} ${a.describe()}`);
  }
}

/** Options of {@link softDiceLoss}. */
export interface SoftDiceOptions {
  /** Added to numerator and denominator (default 1). */
  smooth?: number;
  /**
   * false (default): one Dice over the whole batch (sums over every element) — what the
   * reference implementation computes; true: a Dice per sample (sums over all dims but the
   * first), then the mean over samples.
   */
  perSample?: boolean;
}

/**
 * Soft Dice loss on logits: with s = sigmoid(logits),
 * `1 − (2·Σ s·t + smooth) / (Σ s + Σ t + smooth)`, the sums running over every element (the
 * whole batch at once), or per sample and then averaged with `perSample`. Returns a scalar.
 * Differentiable w.r.t. logits and target.
 */
export function softDiceLoss(logits: Tensor, target: Tensor, options: SoftDiceOptions = {}): Tensor {
  checkSame('softDiceLoss', logits, 'logits', target, 'target');
  const smooth = options.smooth ?? 1;
  const perSample = options.perSample ?? false;
  if (perSample && logits.rank < 1) throw new RangeError(`softDiceLoss: perSample needs a batch dim, logits are ${logits.describe()}`);
  const axes = perSample ? [...Array(logits.rank).keys()].slice(1) : null;
  return tidy(() => {
    const s = sigmoid(logits);
    const inter = sum(mul(s, target), axes);
    const denom = addScalar(add(sum(s, axes), sum(target, axes)), smooth);
    const dice = div(affine(inter, 2, smooth), denom);
    const loss = affine(dice, -1, 1);
    return perSample ? mean(loss) : loss;
  });
}

/** Options of {@link bceWithLogits}: the reduction (default mean) and an optional per-element weight. */
export interface BceOptions {
  reduction?: 'mean' | 'sum' | 'none';
  /** Per-element rescaling weight, broadcast to the logits' shape. */
  weight?: Tensor;
}

// log(1 + exp(−|x|)) without losing the small values (log1p by its series for |x| > 7).
const softplusNegAbs = (v: string) => `select(log(1.0 + exp(-abs(${v}))), exp(-abs(${v})) * (1.0 - 0.5 * exp(-abs(${v}))), abs(${v}) > 7.0)`;
const bceExpr = (x: string, t: string) => `max(${x}, 0.0) - ${x} * ${t} + ${softplusNegAbs(x)}`;

/**
 * Binary cross-entropy on logits (PyTorch's `binary_cross_entropy_with_logits`), in the stable
 * form `w·(max(x, 0) − x·t + log(1 + exp(−|x|)))`, reduced by mean (default), sum or none.
 * Differentiable w.r.t. logits, target and weight.
 */
export function bceWithLogits(logits: Tensor, target: Tensor, options: BceOptions = {}): Tensor {
  checkSame('bceWithLogits', logits, 'logits', target, 'target');
  const reduction = options.reduction ?? 'mean';
  if (!['mean', 'sum', 'none'].includes(reduction)) {
    throw new TypeError(`bceWithLogits: reduction must be 'mean', 'sum' or 'none', got '${reduction}'`);
  }
  const weight = options.weight;
  if (weight) {
    assertTensor(weight, 'bceWithLogits', 'weight');
    assertDType(weight, ['f32'], 'bceWithLogits', 'weight');
  }
  const base = bceExpr('a', 'b');
  const inputs = weight ? [logits, target, weight] : [logits, target];
  const elem = weight
    ? broadcastMap('bce_w', `c * (${base})`, inputs, [], 'bceWithLogits', logits.shape)
    : broadcastMap('bce', base, inputs, [], 'bceWithLogits', logits.shape);
  const y = record(
    'bceWithLogits',
    inputs,
    elem,
    (g, [x, t, w]) => {
      const gIn = w ? [g, x, t, w] : [g, x, t];
      const shape = logits.shape;
      const gw = w ? ' * d' : '';
      // σ(x) − t written as (1 − t)·σ(x) − t·σ(−x): no cancellation for hard targets.
      return [
        logits.requiresGrad ? broadcastMap(`bce_dx${w ? '_w' : ''}`, `a * ((1.0 - c) * sigmoid_(b) - c * sigmoid_(-b))${gw}`, gIn, [], 'bceWithLogits', shape) : null,
        target.requiresGrad ? broadcastMap(`bce_dt${w ? '_w' : ''}`, `-a * b${gw}`, gIn, [], 'bceWithLogits', shape) : null,
        w && weight!.requiresGrad
          ? reduceTo(broadcastMap('bce_dw', `a * (${bceExpr('b', 'c')})`, [g, x, t], [], 'bceWithLogits', shape), w.shape)
          : null,
      ];
    },
    inputs,
  );
  if (reduction === 'none') return y;
  const r = reduction === 'mean' ? mean(y) : sum(y);
  y.dispose();
  return r;
}

/**
 * RP-SAM2's distance loss: for each refined point p (row of `points` [P, 2]) the minimum over
 * the candidates g (rows of `candidates` [G, 2]) of
 * `0.5·(exp(θ·|p.x − g.x|) + exp(θ·|p.y − g.y|) − 2)`. Returns [P]. The gradient flows through
 * the minimising candidate (the first one on ties) to both the point and that candidate.
 */
export function rpsam2DistanceLoss(points: Tensor, candidates: Tensor, theta = 15): Tensor {
  const op = 'rpsam2DistanceLoss';
  assertTensor(points, op, 'points');
  assertTensor(candidates, op, 'candidates');
  assertDType(points, ['f32'], op, 'points');
  assertDType(candidates, ['f32'], op, 'candidates');
  if (points.rank !== 2 || points.shape[1] !== 2 || candidates.rank !== 2 || candidates.shape[1] !== 2) {
    throw new RangeError(`${op}: points ${points.describe()} and candidates ${candidates.describe()} must be [P, 2] and [G, 2]`);
  }
  const [np] = points.shape;
  const [ng] = candidates.shape;
  if (ng === 0 && np > 0) throw new RangeError(`${op}: no candidates (candidates ${fmtShape(candidates.shape)}) for ${np} points`);
  const backend = getBackend();
  const maxWg = backend.info.limits.maxComputeWorkgroupsPerDimension;
  const out = Tensor.empty([np]);
  const arg = Tensor.empty([np], 'i32');
  const p = new Params().u32('n', np).u32('g', ng).f32('theta', theta);
  if (np > 0) {
    backend.run({
      kernel: rpsam2DistKernel(p),
      inputs: [points.range, candidates.range],
      outputs: [out.range, arg.range],
      params: p.bytes(),
      workgroups: grid(np, WG, maxWg),
    });
  }
  const y = record(
    op,
    [points, candidates],
    out,
    (g, [sp, sc, sa]) => {
      const gp = new Params().u32('n', np).u32('g', ng).f32('theta', theta);
      // The gradient of `rows` [rows, 2] (the points or the candidates), one thread per row.
      const gradOf = (kernel: Kernel, rows: number): Tensor => {
        const d = Tensor.empty([rows, 2]);
        if (rows > 0) {
          backend.run({
            kernel,
            inputs: [g.range, sp.range, sc.range, sa.range],
            outputs: [d.range],
            params: gp.bytes(),
            workgroups: grid(rows, WG, maxWg),
          });
        }
        return d;
      };
      const dPoints = points.requiresGrad ? gradOf(rpsam2DistGradPointsKernel(gp), np) : null;
      // Gather: each candidate sums over the points that chose it.
      const dCands = candidates.requiresGrad ? gradOf(rpsam2DistGradCandidatesKernel(gp), ng) : null;
      return [dPoints, dCands];
    },
    [points, candidates, arg],
  );
  arg.dispose();
  return y;
}
