/**
 * The kernels of RP-SAM2's exponential point-distance loss (run by ops/loss.ts): per point the
 * minimum over the candidates of 0.5·(exp(θ·|Δx|) + exp(θ·|Δy|) − 2) and its argmin, and the
 * gradients through the minimising candidate. `params` holds n (points), g (candidates), theta.
 * Pure generators: no tensors, no dispatch.
 */
import type { Kernel } from '../backend/backend.js';
import { Params, WG, bindings, linearMain } from './wgsl.js';

/** Bindings P [n, 2], C [g, 2] → Y [n], A [n] (i32 argmin). One thread per point. */
export function rpsam2DistKernel(p: Params): Kernel {
  return { key: 'rpsam2_dist', wgsl: () => rpsam2DistWgsl(p) };
}

function rpsam2DistWgsl(p: Params): string {
  return `${bindings(['P', 'C'], ['Y', 'A'], { A: 'i32' })}\n${p.wgsl(4)}${linearMain(`  let px = P[2u * i];
  let py = P[2u * i + 1u];
  var best = 3.402823e38;
  var arg = 0i;
  for (var j = 0u; j < params.g; j++) {
    let d = 0.5 * (exp(params.theta * abs(px - C[2u * j])) + exp(params.theta * abs(py - C[2u * j + 1u])) - 2.0);
    if (d < best) { best = d; arg = i32(j); }
  }
  Y[i] = best;
  A[i] = arg;`)}`;
}

// dD/dp.x = 0.5·θ·exp(θ|dx|)·sign(dx) (sign(0) = 0, as PyTorch's abs).
const slope = `fn slope(d: f32) -> f32 { return 0.5 * params.theta * exp(params.theta * abs(d)) * sign(d); }`;

/** Bindings G [n], P, C, A → DP [n, 2]. One thread per point. */
export function rpsam2DistGradPointsKernel(gp: Params): Kernel {
  return { key: 'rpsam2_dist_grad_points', wgsl: () => rpsam2DistGradPointsWgsl(gp) };
}

function rpsam2DistGradPointsWgsl(gp: Params): string {
  return `${bindings(['G', 'P', 'C', 'A'], ['DP'], { A: 'i32' })}\n${gp.wgsl(5)}\n${slope}${linearMain(`  let j = u32(A[i]);
  DP[2u * i] = G[i] * slope(P[2u * i] - C[2u * j]);
  DP[2u * i + 1u] = G[i] * slope(P[2u * i + 1u] - C[2u * j + 1u]);`)}`;
}

/** Bindings G [n], P, C, A → DC [g, 2]. Gather: each candidate sums over the points that chose it. */
export function rpsam2DistGradCandidatesKernel(gp: Params): Kernel {
  return { key: 'rpsam2_dist_grad_cands', wgsl: () => rpsam2DistGradCandidatesWgsl(gp) };
}

function rpsam2DistGradCandidatesWgsl(gp: Params): string {
  return `${bindings(['G', 'P', 'C', 'A'], ['DC'], { A: 'i32' })}\n${gp.wgsl(5)}\n${slope}${linearMain(`  var gx = 0.0;
  var gy = 0.0;
  for (var i = 0u; i < params.n; i++) {
    if (u32(A[i]) != j) { continue; }
    gx -= G[i] * slope(P[2u * i] - C[2u * j]);
    gy -= G[i] * slope(P[2u * i + 1u] - C[2u * j + 1u]);
  }
  DC[2u * j] = gx;
  DC[2u * j + 1u] = gy;`, WG, 'j', 'params.g')}`;
}
