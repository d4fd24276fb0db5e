/**
 * The kernel of {@link imageTokens} (ops/image-tokens.ts): an NCHW image [B, C, P] (P = H·W
 * pixels) plus an addend, stored channels-last as tokens [B, P, C], in one pass. A thread moves
 * a block of 4 channels × 4 pixels as a 4×4 transpose (4 vec4 loads along the pixels, 4 vec4
 * stores along the channels; C and P multiples of 4), adding the addend on the way: per channel
 * ([B, C], one vec4 per block) or a full image ([B, C, P], read as the image is). Each input's
 * batch stride is a uniform (0 broadcasts a batch of 1).
 *
 * Why not also the tokens plus a positional encoding as a second output: measured on lavapipe
 * (SAM 2's decoder, [1, 256, 64, 64]), that kernel took 4.0–4.7 ms against 1.6–1.9 ms for this
 * one and 1.2–1.3 ms for the separate add; the image's strided reads make every extra access
 * of this kernel dearer than in a plain elementwise pass.
 */
import type { Kernel } from '../backend/backend.js';
import { Params, bindings, linearMain } from './wgsl.js';

/** Threads per workgroup. */
export const IMAGE_TOKENS_WG = 64;

/** How the addend is laid out: one value per channel, or a full NCHW image. */
export type ImageTokensAddend = 'channel' | 'image';

/** The uniforms of one dispatch: `n` = B·(C/4)·(P/4) threads; batch strides in elements. */
export function imageTokensParams(p: { n: number; c: number; pixels: number; xBatch: number; aBatch: number }): Params {
  return new Params().u32('n', p.n).u32('c', p.c).u32('p', p.pixels).u32('xb', p.xBatch).u32('ab', p.aBatch);
}

/** Bindings X (image), A (addend) → Y (tokens). */
export function imageTokensKernel(addend: ImageTokensAddend): Kernel {
  return {
    key: `imageTokens:${addend}`,
    wgsl: () => {
      const p = imageTokensParams({ n: 0, c: 0, pixels: 0, xBatch: 0, aBatch: 0 });
      const v4 = 'vec4<f32>';
      const rows = [0, 1, 2, 3];
      // the addend's 4 channels of the block (channel), or each channel's 4 pixels (image)
      const readAddend =
        addend === 'channel'
          ? `  let a = A[(b * params.ab + c0) / 4u];`
          : rows.map((r) => `  let a${r} = A[(b * params.ab + (c0 + ${r}u) * P + p0) / 4u];`).join('\n');
      const addendOf = (k: number) => (addend === 'channel' ? 'a' : `${v4}(${rows.map((r) => `a${r}[${k}]`).join(', ')})`);
      // Threads run along the channels first: the stores of neighbouring threads are contiguous
      // (with the pixels first, the two-output variant above took 5.9–9.7 ms instead of 4.0–4.7).
      const body = `  let C = params.c; let P = params.p;
  let cq = C / 4u;
  let c0 = (t % cq) * 4u;
  let r = t / cq;
  let pq = P / 4u;
  let p0 = (r % pq) * 4u;
  let b = r / pq;
${rows.map((r) => `  let x${r} = X[(b * params.xb + (c0 + ${r}u) * P + p0) / 4u];`).join('\n')}
${readAddend}
${rows.map((k) => `  Y[((b * P + p0 + ${k}u) * C + c0) / 4u] = ${v4}(${rows.map((r) => `x${r}[${k}]`).join(', ')}) + ${addendOf(k)};`).join('\n')}`;
      return `${bindings(['X', 'A'], ['Y'], { X: v4, A: v4, Y: v4 })}
${p.wgsl(3)}${linearMain(body, IMAGE_TOKENS_WG, 't')}`;
    },
  };
}
