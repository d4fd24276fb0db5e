/** Reference matrix products: batched matmul with broadcasting and transposes, and linear. */
import { bcastShape, refZeros, sizeOfShape, sumToShape, unravel, type Ref, type RefOp } from './ref.js';

export interface MatmulArgs {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
}

/** Element (i, j) of op(matrix `m`) of a batched operand whose stored matrix is [r, c]. */
function at(t: Ref, base: number, i: number, j: number, trans: boolean): number {
  const c = t.shape[t.shape.length - 1];
  return trans ? t.data[base + j * c + i] : t.data[base + i * c + j];
}

/** Offset of the matrix of `t` used by output batch multi-index `idx` (broadcast). */
function matBase(t: Ref, idx: readonly number[]): number {
  const batch = t.shape.slice(0, -2);
  const off = idx.length - batch.length;
  let f = 0;
  for (let d = 0; d < batch.length; d++) f = f * batch[d] + (batch[d] === 1 ? 0 : idx[d + off]);
  return f * sizeOfShape(t.shape.slice(-2));
}

function dims(a: Ref, b: Ref, { transA = false, transB = false }: MatmulArgs) {
  const [ra, ca] = a.shape.slice(-2);
  const [rb, cb] = b.shape.slice(-2);
  const M = transA ? ca : ra;
  const K = transA ? ra : ca;
  const N = transB ? rb : cb;
  if ((transB ? cb : rb) !== K) throw new Error(`matmulRef: inner dims differ for [${a.shape}] · [${b.shape}]`);
  const batch = bcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  return { M, K, N, batch };
}

/**
 * Calls `body` for every output element (z, i, j) of the batched [..., M, N] product, in order,
 * with the offsets `ba`, `bb` of the operands' (broadcast) matrices for output batch z.
 */
function forEachOutput(
  a: Ref,
  b: Ref,
  M: number,
  N: number,
  batch: readonly number[],
  body: (z: number, i: number, j: number, ba: number, bb: number) => void,
): void {
  const nb = sizeOfShape(batch);
  for (let z = 0; z < nb; z++) {
    const idx = unravel(z, batch);
    const ba = matBase(a, idx);
    const bb = matBase(b, idx);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) body(z, i, j, ba, bb);
  }
}

/** C = alpha · op(A) · op(B), batched with broadcasting (both operands at least 2-D). */
export const matmulRef: RefOp<MatmulArgs> = {
  forward([a, b], args) {
    const { M, K, N, batch } = dims(a, b, args);
    const alpha = args.alpha ?? 1;
    const out = refZeros([...batch, M, N]);
    forEachOutput(a, b, M, N, batch, (z, i, j, ba, bb) => {
      let s = 0;
      for (let k = 0; k < K; k++) s += at(a, ba, i, k, !!args.transA) * at(b, bb, k, j, !!args.transB);
      out.data[(z * M + i) * N + j] = alpha * s;
    });
    return out;
  },
  vjp([a, b], args, up) {
    const { M, K, N, batch } = dims(a, b, args);
    const alpha = args.alpha ?? 1;
    // Gradients per output batch (in the operands' stored layouts), then summed to their shapes.
    const ga = refZeros([...batch, ...a.shape.slice(-2)]);
    const gb = refZeros([...batch, ...b.shape.slice(-2)]);
    const ca = a.shape[a.shape.length - 1];
    const cb = b.shape[b.shape.length - 1];
    forEachOutput(a, b, M, N, batch, (z, i, j, ba, bb) => {
      const u = alpha * up.data[(z * M + i) * N + j];
      for (let k = 0; k < K; k++) {
        const ia = z * M * K + (args.transA ? k * ca + i : i * ca + k);
        const ib = z * K * N + (args.transB ? j * cb + k : k * cb + j);
        ga.data[ia] += u * at(b, bb, k, j, !!args.transB);
        gb.data[ib] += u * at(a, ba, i, k, !!args.transA);
      }
    });
    return [sumToShape(ga, a.shape), sumToShape(gb, b.shape)];
  },
};

/** y = x · Wᵀ + b for x [..., in], W [out, in], b [out] (optional third input). */
export const linearRef: RefOp<Record<string, never>> = {
  forward([x, w, b]) {
    const [nOut, nIn] = w.shape;
    const rows = x.data.length / nIn;
    const out = refZeros([...x.shape.slice(0, -1), nOut]);
    for (let r = 0; r < rows; r++)
      for (let o = 0; o < nOut; o++) {
        let s = b ? b.data[o] : 0;
        for (let i = 0; i < nIn; i++) s += x.data[r * nIn + i] * w.data[o * nIn + i];
        out.data[r * nOut + o] = s;
      }
    return out;
  },
  vjp([x, w, b], _args, up) {
    const [nOut, nIn] = w.shape;
    const rows = x.data.length / nIn;
    const gx = refZeros(x.shape);
    const gw = refZeros(w.shape);
    const gb = b ? refZeros(b.shape) : null;
    for (let r = 0; r < rows; r++)
      for (let o = 0; o < nOut; o++) {
        const u = up.data[r * nOut + o];
        if (gb) gb.data[o] += u;
        for (let i = 0; i < nIn; i++) {
          gx.data[r * nIn + i] += u * w.data[o * nIn + i];
          gw.data[o * nIn + i] += u * x.data[r * nIn + i];
        }
      }
    return b ? [gx, gw, gb] : [gx, gw];
  },
};
