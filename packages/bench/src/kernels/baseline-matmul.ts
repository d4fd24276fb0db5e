/**
 * The reference point for the library's matmul: a plain register-tiled kernel as found in most
 * WebGPU tutorials — 4×4 outputs per thread, vec4 loads, 16×16 workgroups, no workgroup memory.
 * It reads only full vec4s, so M, N and K must be multiples of 4 (square-ish aligned matrices).
 * Kept here, not in the library, so the benchmark can report library / baseline.
 */
import { Params, Tensor, getBackend } from '@rpsam2/tensor';

const TILE = 4;
const WG = 16;

function wgsl(params: Params): string {
  return `
@group(0) @binding(0) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> B: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> C: array<vec4<f32>>;
${params.wgsl(3)}
@compute @workgroup_size(${WG}, ${WG}, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let M = params.M; let N = params.N; let K = params.K;
  let row = gid.y * 4u;
  let col = gid.x * 4u;
  if (row >= M || col >= N) { return; }
  let k4 = K / 4u; let n4 = N / 4u;
  var c0 = vec4<f32>(0.0); var c1 = vec4<f32>(0.0); var c2 = vec4<f32>(0.0); var c3 = vec4<f32>(0.0);
  for (var k = 0u; k < k4; k++) {
    let a0 = A[(row + 0u) * k4 + k]; let a1 = A[(row + 1u) * k4 + k];
    let a2 = A[(row + 2u) * k4 + k]; let a3 = A[(row + 3u) * k4 + k];
    let b0 = B[(4u * k + 0u) * n4 + gid.x]; let b1 = B[(4u * k + 1u) * n4 + gid.x];
    let b2 = B[(4u * k + 2u) * n4 + gid.x]; let b3 = B[(4u * k + 3u) * n4 + gid.x];
    c0 += a0.x * b0 + a0.y * b1 + a0.z * b2 + a0.w * b3;
    c1 += a1.x * b0 + a1.y * b1 + a1.z * b2 + a1.w * b3;
    c2 += a2.x * b0 + a2.y * b1 + a2.z * b2 + a2.w * b3;
    c3 += a3.x * b0 + a3.y * b1 + a3.z * b2 + a3.w * b3;
  }
  C[(row + 0u) * n4 + gid.x] = c0;
  C[(row + 1u) * n4 + gid.x] = c1;
  C[(row + 2u) * n4 + gid.x] = c2;
  C[(row + 3u) * n4 + gid.x] = c3;
}`;
}

/** C = A·B for A [M, K], B [K, N] with M, N, K multiples of 4; returns a new [M, N] tensor. */
export function baselineMatmul(a: Tensor, b: Tensor): Tensor {
  const [M, K] = a.shape;
  const [Kb, N] = b.shape;
  if (a.rank !== 2 || b.rank !== 2 || K !== Kb || M % TILE || N % TILE || K % TILE) {
    throw new RangeError(`baselineMatmul: needs [M, K]·[K, N] with M, N, K multiples of 4, got [${a.shape}]·[${b.shape}]`);
  }
  const out = Tensor.empty([M, N]);
  const params = new Params().u32('M', M).u32('N', N).u32('K', K);
  getBackend().run({
    kernel: { key: 'bench:baseline-matmul-4x4', wgsl: () => wgsl(params) },
    inputs: [a.range, b.range],
    outputs: [out.range],
    params: params.bytes(),
    workgroups: [Math.ceil(N / (TILE * WG)), Math.ceil(M / (TILE * WG))],
  });
  return out;
}
