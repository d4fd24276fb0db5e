/**
 * `rpsam2 candidates --data <dataset> --out <cache> --sam2-weights f [--sam2-config …] [--f16]
 * [--grid-step 8] [--epsilon 0.005]`: builds (or completes) the frozen-feature cache — SAM 2's
 * image features and every object's candidate set — for `rpsam2 train` in cached mode. Rerun to
 * resume: images already on disk are skipped. Ctrl-C stops after the current image (everything
 * written stays valid).
 */
import { ensureOutputDir, initNode } from '@rpsam2/tensor/node';
import { loadSam2, Sam2ImagePredictor } from '@rpsam2/sam2';
import { buildFeatureCache } from '../cache/feature-cache.js';
import { openDataset } from '../train/open-dataset.js';
import { ProgressLine, formatDuration } from '../train/progress.js';
import { choiceOption, defineCommand, intOption, numberOption, UsageError, type CliIO, type Command, type OptionsTable, type ParsedCommand } from '@rpsam2/sam2/cli';
import { baseName, resolveSam2Source } from './common.js';

export const CANDIDATES_USAGE = `usage: rpsam2 candidates --data <synthetic:N[:seed]|manifest.json> --out <cache dir>
                        [--sam2-weights <.pt|.safetensors>] [--sam2-config <t|s|b+|l|config.yaml|config.json>]
                        [--f16] [--grid-step 8] [--epsilon 0.005] [--dtype f32|f16]

  --data          the dataset: synthetic:<count>[:<seed>] or a manifest JSON
  --out           the feature cache directory (index.json + images/<id>.safetensors)
  --f16           store the image features as f16 (half the disk; loaded back as f32)
  --grid-step     candidate grid step in pixels (default 8)
  --epsilon       candidates: Dice ≥ best − epsilon (default 0.005)
  --dtype         SAM 2 weight storage on the GPU (default f32)
  Rerun the same command to resume; Ctrl-C stops after the current image.`;

/** The options of `rpsam2 candidates` (see {@link CANDIDATES_USAGE}). */
const CANDIDATES_OPTIONS = {
  data: { type: 'string' },
  out: { type: 'string' },
  'sam2-weights': { type: 'string' },
  'sam2-config': { type: 'string' },
  f16: { type: 'boolean', default: false },
  'grid-step': { type: 'string' },
  epsilon: { type: 'string' },
  dtype: { type: 'string', default: 'f32' },
} as const satisfies OptionsTable;

/** Runs `rpsam2 candidates`; returns the exit status (0 done, 130 interrupted). */
export const candidatesCommand: Command = defineCommand({ command: 'rpsam2 candidates', usage: CANDIDATES_USAGE, options: CANDIDATES_OPTIONS }, runCandidates);

async function runCandidates({ values }: ParsedCommand<typeof CANDIDATES_OPTIONS>, io: CliIO): Promise<number> {
  if (!values.data) throw new UsageError(`candidates: --data is required\n${CANDIDATES_USAGE}`);
  if (!values.out) throw new UsageError(`candidates: --out is required\n${CANDIDATES_USAGE}`);
  const gridStep = intOption(values['grid-step'], 'grid-step', 8);
  const epsilon = numberOption(values.epsilon, 'epsilon', 0.005, { min: 0 });
  const dtype = choiceOption(values.dtype, 'dtype', ['f32', 'f16']);
  const { weights, config: sam2Config } = await resolveSam2Source(values['sam2-weights'], values['sam2-config'], '--sam2-weights', io);
  let dataset;
  try {
    dataset = await openDataset(values.data);
  } catch (e) {
    throw new UsageError(`--data: ${(e as Error).message}`);
  }
  await ensureOutputDir(values.out);

  await initNode();
  const { model, report } = await loadSam2({ weights, config: sam2Config, dtype });
  const predictor = new Sam2ImagePredictor(model);
  let stop = false;
  io.onInterruptible?.(() => {
    stop = true;
    io.err('stopping after the current image (rerun to resume)');
  });
  const bar = new ProgressLine(io.progress ?? { write: (s: string) => io.err(s.replace(/\n$/, '')) });
  try {
    io.err(`SAM 2 ${report.config} from ${report.source}; ${dataset.name}: ${dataset.length} images → ${values.out} (${values.f16 ? 'f16' : 'f32'} features, grid ${gridStep} px, ε ${epsilon})`);
    const t0 = performance.now();
    let computed = 0;
    const r = await buildFeatureCache({
      dataset,
      predictor,
      dir: values.out,
      weightsLabel: baseName(weights),
      dtype: values.f16 ? 'f16' : 'f32',
      gridStep,
      epsilon,
      shouldStop: () => stop,
      onWarning: (m) => bar.log(`warning: ${m}`),
      onProgress: (p) => {
        if (!p.skipped) computed++;
        const rate = computed ? (performance.now() - t0) / computed : 0;
        bar.update(`${p.done}/${p.total} ${p.id}: ${p.skipped ? 'cached' : `${p.objects} objects, ${p.candidates} candidates, ${(p.ms / 1000).toFixed(1)} s`} | eta ${formatDuration(rate * (p.total - p.done))}`);
      },
    });
    bar.done();
    io.out(`${r.stopped ? 'stopped' : 'done'}: ${r.computed} images computed, ${r.skipped} already cached, ${r.objects} objects; ${values.out}/index.json`);
    return r.stopped ? 130 : 0;
  } finally {
    predictor.dispose();
    model.dispose();
  }
}
