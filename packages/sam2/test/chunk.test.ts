/**
 * Row chunking (nn/chunk.ts) where an intermediate would exceed the largest storage binding:
 * the helpers on their own, and the whole encoder with a lowered binding limit (so that the
 * windows' attention and the MLP run in chunks at a small size) against the unchunked pass.
 */
import { describe, expect, it } from 'vitest';
import { getBackend, maxAbsError, noGrad, packedAttentionUsesRegisterKernel, tensor, tidy, type Tensor } from '@rpsam2/tensor';
import { affine } from '@rpsam2/tensor';
import { mapRows, mapTokens, rowsPerBinding } from '../src/nn/chunk.js';
import { MLP } from '../src/nn/layers.js';
import { initRandomWeights } from '../src/weights/random.js';
import { Sam2Model } from '../src/model/sam2-model.js';
import { loadWeights } from '../src/weights/load-weights.js';
import { isVideoOnlyKey } from '../src/model/sam2-model.js';
import { encoderActivationBytes } from '../src/memory/estimate.js';
import { randomPixels } from '../src/memory/measure.js';
import { openWeights } from '../src/weights/source.js';
import { fixtureConfig, fixtureDir } from './support.js';

/** Runs `fn` with the backend's maxBinding lowered to `bytes`. */
async function withMaxBinding<T>(bytes: number, fn: () => Promise<T>): Promise<T> {
  const backend = getBackend();
  Object.defineProperty(backend, 'maxBinding', { value: bytes, configurable: true });
  try {
    return await fn();
  } finally {
    delete (backend as unknown as Record<string, unknown>).maxBinding;
  }
}

describe('row chunking', () => {
  it('mapRows / mapTokens equal one call, for chunk sizes that do and do not divide', async () => {
    const x = tensor(Float32Array.from({ length: 7 * 3 * 5 }, (_, i) => Math.sin(i)), [7, 3, 5]);
    const fn = (t: Tensor) => affine(t, 2, 1);
    const whole = fn(x);
    for (const rows of [1, 2, 3, 7, 100]) {
      const y = mapRows(x, rows, fn);
      expect(y.shape).toEqual([7, 3, 5]);
      expect(maxAbsError(await y.data(), await whole.data()).err).toBe(0);
      y.dispose();
    }
    // 21 tokens of 5 channels; a per-token intermediate of 2^20 floats forces 1-token chunks at 4 MiB.
    const t = await withMaxBinding(4 * 2 ** 20, async () => {
      expect(rowsPerBinding(2 ** 20)).toBe(1);
      return mapTokens(x, 2 ** 20, fn);
    });
    expect(t.shape).toEqual([7, 3, 5]);
    expect(maxAbsError(await t.data(), await whole.data()).err).toBe(0);
    for (const a of [x, whole, t]) a.dispose();
  });

  it("Hiera's MLP through mapTokens: chunked equals unchunked", async () => {
    const mlp = new MLP(8, 32, 8, 2, 'gelu');
    initRandomWeights(mlp, { std: 0.3 });
    const x = tensor(Float32Array.from({ length: 2 * 5 * 7 * 8 }, (_, i) => Math.cos(i * 0.37)), [2, 5, 7, 8]);
    try {
      const whole = tidy(() => mlp.forward(x));
      // 70 tokens with a hidden layer of 32 floats: a 4 KiB limit gives chunks of 32, 32 and 6 tokens.
      const chunked = await withMaxBinding(4096, async () => tidy(() => mapTokens(x, 32, (t) => mlp.forward(t))));
      expect(chunked.shape).toEqual([2, 5, 7, 8]);
      expect(maxAbsError(await chunked.data(), await whole.data()).err).toBeLessThan(1e-6);
      whole.dispose();
      chunked.dispose();
    } finally {
      x.dispose();
      mlp.dispose();
    }
  });

  it('the encoder with a 300 KiB binding limit (chunked windows) equals the unchunked pass; the estimate follows', async () => {
    const cfg = { ...fixtureConfig('tiny256'), imageSize: 128 };
    const model = new Sam2Model(cfg);
    const backend = getBackend();
    try {
      await loadWeights(model, (await openWeights(fixtureDir('tiny256') + 'weights.safetensors')).source, { ignore: isVideoOnlyKey });
      const pixels = randomPixels(128);
      const run = async () => {
        await backend.sync();
        backend.pool.resetPeak();
        const base = backend.stats().liveBytes;
        const f = noGrad(() => tidy(() => model.forwardImage(pixels)));
        const out = [await f.imageEmbed.data(), await f.highRes[0].data(), await f.highRes[1].data()];
        const act = backend.stats().peakBytes - base + pixels.size * 4;
        f.imageEmbed.dispose();
        f.highRes.forEach((h) => h.dispose());
        return { out, act };
      };
      const plain = await run();
      // Block 1's qkv (1024 tokens × 96 = 384 KiB) exceeds it; its 16 windows run in 2 chunks.
      // (Lower limits fail elsewhere: block 6's single padded 14×14 window has a 294 KiB qkv.)
      const limit = 300 * 1024;
      const chunked = await withMaxBinding(limit, run);
      pixels.dispose();
      for (let i = 0; i < 3; i++) expect(maxAbsError(chunked.out[i], plain.out[i]).err).toBeLessThan(1e-5);
      // Chunking lowers the peak; the estimate models both.
      expect(chunked.act).toBeLessThan(plain.act);
      for (const [act, maxB] of [[plain.act, 2 ** 27], [chunked.act, limit]]) {
        const est = encoderActivationBytes(cfg, 128, maxB, packedAttentionUsesRegisterKernel);
        expect(est / act).toBeGreaterThan(0.85);
        expect(est / act).toBeLessThan(1.15);
      }
    } finally {
      model.dispose();
    }
  });
});
