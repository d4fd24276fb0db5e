/**
 * The kernel benchmark's cases: matmul (library and baseline), attention, the patch-embedding
 * conv and layer norm, at the shapes SAM 2 (Hiera-L, 1024² input) uses, and the mask decoder's
 * input laid out as tokens (`imageTokens` against the ops it replaces).
 *
 * Ops that another part of the library may not provide yet are looked up by name, so a missing
 * op makes its case print a note and skip instead of breaking the build.
 */
import * as T from '@rpsam2/tensor';
import { xorshift32, type Tensor } from '@rpsam2/tensor';
import { baselineMatmul } from './baseline-matmul.js';

/** One benchmark case. */
export interface KernelCase {
  /** Short id, e.g. `matmul-1024`. */
  id: string;
  /** What runs: `library matmul`, `baseline matmul`, … */
  name: string;
  /** Human-readable shape. */
  shape: string;
  /** Cases of the same group (adjacent in the list) are timed round-robin, for fair ratios. */
  group?: string;
  /** Work per run: floating-point ops (GFLOP/s is reported) or bytes moved (GB/s). */
  work: { flops: number } | { bytes: number };
  /** Creates the inputs; returns the timed function and a cleanup, or a reason to skip. */
  setup(): { run: () => Tensor | Tensor[]; dispose: () => void } | { skip: string };
}

type AnyFn = (...args: never[]) => unknown;

/** A library op by name, or undefined while it is not exported. */
function libraryOp<F extends AnyFn>(name: string): F | undefined {
  const f = (T as unknown as Record<string, unknown>)[name];
  return typeof f === 'function' ? (f as F) : undefined;
}

/** Deterministic uniform values in [-1, 1) (xorshift), so runs are comparable. */
export function randomData(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = xorshift32(s);
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

function randomTensor(shape: number[], seed: number, scale = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = randomData(n, seed);
  if (scale !== 1) for (let i = 0; i < n; i++) d[i] *= scale;
  return T.tensor(d, shape);
}

function disposeAll(ts: Tensor[]): () => void {
  return () => ts.forEach((t) => t.dispose());
}

/**
 * A matmul case. `library-await` is the library matmul with the backend waiting by plain
 * `await` (Dawn busy-polls the JS thread meanwhile) instead of `initNode`'s napping wait: the
 * cost of that poll, timed beside the library case in the same run. Every case of the group sets
 * its wait before it runs, since the timer syncs after each run.
 */
function matmulCase(id: string, M: number, K: number, N: number, which: 'library' | 'library-await' | 'baseline', group?: string): KernelCase {
  return {
    id,
    group,
    name: which === 'library-await' ? 'library matmul, plain await' : `${which} matmul`,
    shape: `M=${M} K=${K} N=${N} ([${M},${K}]·[${K},${N}])`,
    work: { flops: 2 * M * N * K },
    setup() {
      const backend = T.getBackend();
      const nodeWait = backend.wait;
      const wait = which === 'library-await' ? T.awaitPromise : nodeWait;
      const a = randomTensor([M, K], 1);
      const b = randomTensor([K, N], 2);
      const product = which === 'baseline' ? () => baselineMatmul(a, b) : () => T.matmul(a, b);
      const run = () => {
        backend.wait = wait;
        return product();
      };
      const dispose = disposeAll([a, b]);
      return {
        run,
        dispose: () => {
          backend.wait = nodeWait;
          dispose();
        },
      };
    },
  };
}

type Sdpa = (q: Tensor, k: Tensor, v: Tensor) => Tensor;

function attentionCase(id: string, what: string, B: number, H: number, L: number, D: number): KernelCase {
  return {
    id,
    name: `attention (${what})`,
    shape: `q,k,v [B=${B}, H=${H}, L=${L}, D=${D}]`,
    // QKᵀ and PV: 2·L²·D each per head (softmax not counted).
    work: { flops: 4 * B * H * L * L * D },
    setup() {
      const sdpa = libraryOp<Sdpa>('scaledDotProductAttention');
      if (!sdpa) return { skip: 'scaledDotProductAttention is not in @rpsam2/tensor yet (ops/attention.ts)' };
      const q = randomTensor([B, H, L, D], 3);
      const k = randomTensor([B, H, L, D], 4);
      const v = randomTensor([B, H, L, D], 5);
      return { run: () => sdpa(q, k, v), dispose: disposeAll([q, k, v]) };
    },
  };
}

type Conv2d = (x: Tensor, w: Tensor, b: Tensor | null, o: { stride?: number; padding?: number }) => Tensor;

function convCase(): KernelCase {
  const [Cin, Cout, S, k, stride, pad] = [3, 144, 1024, 7, 4, 3];
  const So = Math.floor((S + 2 * pad - k) / stride) + 1;
  return {
    id: 'conv-patch-embed',
    name: 'conv2d 7×7 stride 4 (Hiera-L patch embed)',
    shape: `x [1,${Cin},${S},${S}] · w [${Cout},${Cin},${k},${k}] + b, pad ${pad} → [1,${Cout},${So},${So}]`,
    work: { flops: 2 * Cout * So * So * Cin * k * k },
    setup() {
      const conv2d = libraryOp<Conv2d>('conv2d');
      if (!conv2d) return { skip: 'conv2d is not in @rpsam2/tensor yet (ops/conv.ts)' };
      const x = randomTensor([1, Cin, S, S], 6);
      const w = randomTensor([Cout, Cin, k, k], 7, 0.1);
      const b = randomTensor([Cout], 8);
      return { run: () => conv2d(x, w, b, { stride, padding: pad }), dispose: disposeAll([x, w, b]) };
    },
  };
}

type LayerNorm = (x: Tensor, w: Tensor, b: Tensor, eps: number) => Tensor;

function layerNormCase(rows: number, C: number): KernelCase {
  return {
    id: `layernorm-${rows}x${C}`,
    name: 'layer norm (last dim)',
    shape: `x [${rows},${C}], weight/bias [${C}]`,
    // read x, write y, read weight and bias
    work: { bytes: 4 * (2 * rows * C + 2 * C) },
    setup() {
      const layerNorm = libraryOp<LayerNorm>('layerNorm');
      if (!layerNorm) return { skip: 'layerNorm is not in @rpsam2/tensor yet (ops/norm.ts)' };
      const x = randomTensor([rows, C], 9);
      const w = randomTensor([C], 10);
      const b = randomTensor([C], 11);
      return { run: () => layerNorm(x, w, b, 1e-6), dispose: disposeAll([x, w, b]) };
    },
  };
}

/**
 * SAM 2's mask decoder input, (image + no-mask embedding) laid out as tokens: `imageTokens` in
 * one pass ('fused'), or the add and the permute it replaces ('ops'), timed round-robin.
 */
function imageTokensCase(which: 'fused' | 'ops'): KernelCase {
  const [C, G] = [256, 64];
  return {
    id: which === 'fused' ? 'image-tokens' : 'image-tokens-ops',
    group: 'image-tokens',
    name: which === 'fused' ? 'imageTokens (add and layout as tokens in one pass)' : 'add, then permute to tokens (the ops imageTokens replaces)',
    shape: `x [1,${C},${G},${G}] + [1,${C},1,1] → tokens [1,${G * G},${C}]`,
    // read x, write the tokens, read the addend
    work: { bytes: 4 * (2 * C * G * G + C) },
    setup() {
      const x = randomTensor([1, C, G, G], 12);
      const a = randomTensor([1, C, 1, 1], 13);
      const run = which === 'fused' ? () => T.imageTokens(x, a) : () => T.permute(T.reshape(T.add(x, a), [1, C, G * G]), [0, 2, 1]);
      return { run, dispose: disposeAll([x, a]) };
    },
  };
}

/** Every case, in report order. The baseline and the plain-await run follow the library matmul of the same shape. */
export function kernelCases(): KernelCase[] {
  return [
    matmulCase('matmul-256', 256, 256, 256, 'library'),
    matmulCase('matmul-1024', 1024, 1024, 1024, 'library', 'matmul-1024'),
    matmulCase('baseline-matmul-1024', 1024, 1024, 1024, 'baseline', 'matmul-1024'),
    matmulCase('matmul-1024-await', 1024, 1024, 1024, 'library-await', 'matmul-1024'),
    matmulCase('matmul-2048x2048x512', 2048, 2048, 512, 'library'),
    // SAM 2 global attention: 64×64 tokens, 8 heads of 32 dims.
    attentionCase('attention-global', 'global, 64×64 tokens', 1, 8, 4096, 32),
    // Windowed attention over the same 64×64-token map cut into 8×8-token windows: 64 windows of
    // 64 tokens, batched as B = 64.
    attentionCase('attention-windowed', 'windowed, 64×64 tokens in 8×8 windows', 64, 8, 64, 32),
    convCase(),
    layerNormCase(4096, 256),
    layerNormCase(16384, 144),
    imageTokensCase('fused'),
    imageTokensCase('ops'),
  ];
}
