/**
 * The run's image-feature caches, built with `@rpsam2/rpsam2`'s feature cache (one safetensors
 * file per image, written atomically; a rerun skips what is on disk): per SAM 2 model, the
 * evaluated frames' features (encoded once, shared by every method on that model and every
 * seed), and for training the training frames' features with each object's candidate set.
 * The cache settings name the weights by content hash, so a shared cache folder (`--cache`) is
 * never read for other weights.
 */
import { join } from 'node:path';
import { buildFeatureCache, FeatureCache, formatDuration, ProgressLine } from '@rpsam2/rpsam2';
import { Sam2ImagePredictor } from '@rpsam2/sam2';
import type { FrameRef, SegmentationDataset } from '../datasets/types.js';
import { toRpsam2Dataset } from '../evaluation/dataset-adapter.js';
import type { LoadedSam2 } from '../evaluation/sam2-models.js';
import type { RunIO } from './run-io.js';
import type { StopSignal } from './stop-signal.js';

/** The folder of a model's cache of one kind (`eval-test`, `train-g16`, …). */
export function cacheDir(root: string, model: LoadedSam2, what: string): string {
  return join(root, model.slug, what);
}

/**
 * Builds (or completes) a cache of `frames` and opens it; null when a stop was requested before
 * it was complete. With `candidates`, each instrument object's candidate set is computed too
 * (training); without, only the image features are stored (evaluation).
 */
export async function ensureFeatureCache(options: {
  what: string;
  ds: SegmentationDataset;
  frames: readonly FrameRef[];
  model: LoadedSam2;
  dir: string;
  dtype: 'f32' | 'f16';
  candidates: { gridStep: number; epsilon: number } | null;
  io: RunIO;
  stop: StopSignal;
}): Promise<FeatureCache | null> {
  const { io, frames } = options;
  const predictor = new Sam2ImagePredictor(options.model.model);
  const bar = new ProgressLine(io.progress);
  let computedMs = 0;
  try {
    const report = await buildFeatureCache({
      dataset: toRpsam2Dataset(options.ds, frames, { objects: options.candidates !== null, name: `${options.ds.name} ${options.what}` }),
      predictor,
      dir: options.dir,
      weightsLabel: options.model.label,
      dtype: options.dtype,
      gridStep: options.candidates?.gridStep,
      epsilon: options.candidates?.epsilon,
      shouldStop: () => options.stop.requested,
      onWarning: (m) => bar.log(`  warning: ${m}`),
      onProgress: (p) => {
        if (!p.skipped) computedMs += p.ms;
        const per = p.skipped ? '' : ` (${(p.ms / 1000).toFixed(1)} s${options.candidates ? `, ${p.objects} objects, ${p.candidates} candidates` : ''})`;
        bar.update(`  ${options.what}: ${p.done}/${p.total} frames${per}`);
      },
    });
    bar.done();
    const n = report.computed;
    io.out(
      `  ${options.what}: ${frames.length} frames${n ? `, ${n} computed in ${formatDuration(computedMs)} (${(computedMs / 1000 / n).toFixed(1)} s/frame)` : ''}${report.skipped ? `, ${report.skipped} from the cache` : ''} → ${options.dir}`,
    );
    if (report.stopped) return null;
    return await FeatureCache.open(options.dir);
  } finally {
    predictor.dispose();
  }
}
