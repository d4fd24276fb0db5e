/**
 * Measuring the real GPU memory of one encoder pass: a model of the given config with random
 * weights, one image of random pixels, and the buffer pool's peak of live bytes. Needs an
 * initialised backend.
 */
import { SeededRandom, getBackend, noGrad, tensor, tidy } from '@rpsam2/tensor';
import type { Sam2Config } from '../config.js';
import { Sam2Model } from '../model/sam2-model.js';
import { initRandomWeights } from '../weights/random.js';
import type { WeightDType } from '../weights/load.js';

/**
 * What {@link measureEncoder} measured on the GPU: pool bytes of the weights and the peak of one
 * encoder pass, its wall time and the output shapes.
 */
export interface EncoderMeasurement {
  imageSize: number;
  dtype: WeightDType;
  /** Pool bytes held by the weights. */
  weightBytes: number;
  /** Peak pool bytes during the pass (weights included). */
  peakBytes: number;
  /** peakBytes − weightBytes. */
  activationBytes: number;
  /** Encoder wall time (ms), including the readback of the image embedding. */
  ms: number;
  /** Whether every value of the image embedding was finite. */
  finite: boolean;
  /** Output shapes: image embedding and the two high-resolution maps. */
  shapes: number[][];
}

/** Random normalised pixels [1, 3, S, S]. */
export function randomPixels(size: number, seed = 1) {
  const rng = new SeededRandom(seed);
  const data = new Float32Array(3 * size * size);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return tensor(data, [1, 3, size, size]);
}

/**
 * One encoder pass with random weights at `cfg.imageSize`; `repeats` > 1 times later passes
 * (the first compiles the pipelines) and reports the median time. Frees everything.
 */
export async function measureEncoder(cfg: Sam2Config, options: { dtype?: WeightDType; seed?: number; repeats?: number } = {}): Promise<EncoderMeasurement & { times: number[] }> {
  const backend = getBackend();
  const dtype = options.dtype ?? 'f32';
  const model = new Sam2Model(cfg);
  const pixels = randomPixels(cfg.imageSize, (options.seed ?? 0) + 1);
  try {
    await backend.sync();
    const before = backend.stats().liveBytes;
    initRandomWeights(model, { seed: options.seed, dtype });
    await backend.sync();
    const weightBytes = backend.stats().liveBytes - before;
    const times: number[] = [];
    let activationBytes = 0;
    let finite = true;
    let shapes: number[][] = [];
    for (let r = 0; r < Math.max(1, options.repeats ?? 1); r++) {
      backend.pool.resetPeak();
      const base = backend.stats().liveBytes;
      const t0 = performance.now();
      const f = noGrad(() => tidy(() => model.forwardImage(pixels)));
      try {
        const data = await f.imageEmbed.data();
        times.push(performance.now() - t0);
        // The pixels were live before the pass; they count as activations (as in the estimate).
        activationBytes = Math.max(activationBytes, backend.stats().peakBytes - base + pixels.size * 4);
        finite = finite && data.every(Number.isFinite);
        shapes = [f.imageEmbed.shape, f.highRes[0].shape, f.highRes[1].shape].map((s) => [...s]);
      } finally {
        f.imageEmbed.dispose();
        f.highRes[0].dispose();
        f.highRes[1].dispose();
      }
    }
    const sorted = [...times].sort((a, b) => a - b);
    return {
      imageSize: cfg.imageSize,
      dtype,
      weightBytes,
      peakBytes: weightBytes + activationBytes,
      activationBytes,
      ms: sorted[Math.floor((sorted.length - 1) / 2)],
      times,
      finite,
      shapes,
    };
  } finally {
    pixels.dispose();
    model.dispose();
  }
}
