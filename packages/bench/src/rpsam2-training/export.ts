/**
 * `bench train-rpsam2 --export <dir>`: writes the shift block a finished training run chose (the
 * checkpoint that validated best) as the shipped default block:
 *
 *   weights.safetensors   the block's parameters, top-level names, F16 (a plain shift-block file:
 *                         its sizes are read from the shapes, its heads from the metadata)
 *   config.json           the block's sizes, the SAM 2 it fits, the training config, the checkpoint
 *                         it came from (step, epoch, val Dice) and the command that retrains it
 *   MODEL_CARD.md         data, recipe, training time, val and test numbers per class, figures
 *                         (see model-card.ts); its hand-written notes are kept across exports
 *   figures/*.jpg         the run's click heatmaps (SAM 2 next to RP-SAM2), as JPEG
 *
 * The written weights are read back and checked against the checkpoint before anything else is
 * written; every file is replaced atomically.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { decodeImage, encodeJpeg } from '@rpsam2/sam2';
import { join } from 'node:path';
import { MetricsLog, loadShiftBlockFrom, openCheckpoint, type ShiftBlock, type TrainConfig } from '@rpsam2/rpsam2';
import { saveTensors, type Tensor } from '@rpsam2/tensor';
import { writeFileAtomic } from '@rpsam2/tensor/node';
import { pathExists, readJson, slug, toJson } from '../runs/run-dir.js';
import type { RunIO } from '../runs/run-io.js';
import type { StageTimings } from '../runs/stage-timer.js';
import { TABLE1_VARIANT, type ExperimentConfig } from '../runs/experiment-config.js';
import { KEPT_NOTES_MARKER, shiftBlockCardMarkdown, type CardResults, type TrainingData, type ValPoint } from './model-card.js';

/** Format tag of the shipped block's metadata and config.json. */
export const SHIFT_BLOCK_EXPORT_FORMAT = 'rpsam2-shift-block';

/** The command that retrains the shipped block (README, model card, config.json). */
export const RETRAIN_COMMAND = 'pnpm bench train-rpsam2 --export packages/rpsam2/models/synthetic';

async function readLog(path: string): Promise<{ val: ValPoint[]; stepMs: number[] }> {
  const val: ValPoint[] = [];
  const stepMs: number[] = [];
  if (!(await pathExists(path))) return { val, stepMs };
  for (const l of await MetricsLog.read(path)) {
    if (l.type === 'val') val.push({ epoch: Number(l.epoch), step: Number(l.step), dice: Number(l.dice), rawDice: Number(l.rawDice), inCandidate: Number(l.inCandidate), rawInCandidate: Number(l.rawInCandidate), best: Boolean(l.best) });
    else if (l.type === 'train') stepMs.push(Number(l.ms));
  }
  return { val, stepMs };
}

/** Max |a − b| over two blocks' parameters (the export check). */
async function maxParamDiff(a: ShiftBlock, b: ShiftBlock): Promise<number> {
  const pb = new Map(b.namedParams().map(([n, s]) => [n, s.get(n)]));
  let worst = 0;
  for (const [n, s] of a.namedParams()) {
    const other = pb.get(n);
    if (!other) throw new Error(`export check: the written file has no '${n}'`);
    const [x, y] = await Promise.all([s.get(n).data(), other.data()]);
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  }
  return worst;
}

/** Exports the block chosen by the finished run in `runDir` to `out` (see the module comment). */
export async function exportShiftBlock(options: { runDir: string; out: string; io: RunIO }): Promise<void> {
  const { runDir, out, io } = options;
  const resultsPath = join(runDir, 'results.json');
  if (!(await pathExists(resultsPath))) throw new Error(`${runDir} has no results.json: the run has not finished (rerun the command to continue it)`);
  const config = await readJson<ExperimentConfig>(join(runDir, 'config.json'));
  const results = await readJson<CardResults>(resultsPath);
  const timings = await readJson<StageTimings>(join(runDir, 'timings.json'));
  const trainDir = join(runDir, 'train', slug(TABLE1_VARIANT.label));
  const ck = await openCheckpoint(trainDir, { prefer: 'best' });
  if (!ck.meta) throw new Error(`${ck.path}: not a training checkpoint`);
  const log = await readLog(join(trainDir, 'log.jsonl'));
  // Written by runs with extra training sets: the sets, frames and objects the block trained on.
  const dataPath = join(runDir, 'training-data.json');
  const trainingData = (await pathExists(dataPath)) ? await readJson<TrainingData>(dataPath) : null;

  const block = await loadShiftBlockFrom(ck);
  let check: ShiftBlock | null = null;
  try {
    const c = block.config;
    const tensors: Record<string, Tensor> = {};
    for (const [name, slot] of block.namedParams()) tensors[name] = slot.get(name);
    const bytes = await saveTensors(tensors, { format: SHIFT_BLOCK_EXPORT_FORMAT, heads: String(c.heads), ...(c.refineSteps ? { refineSteps: String(c.refineSteps) } : {}), sam2: results.models[0]?.label ?? '', config: JSON.stringify(c) }, { dtype: 'F16' });
    await mkdir(join(out, 'figures'), { recursive: true });
    const weightsPath = join(out, 'weights.safetensors');
    await writeFileAtomic(weightsPath, bytes);
    // Read back: the file must load as the same block (F16 rounding only).
    check = await loadShiftBlockFrom(await openCheckpoint(weightsPath));
    const sizes = (x: ShiftBlock['config']) => [x.dModel, x.heads, x.ffn, x.layers, x.tokens, x.imageTokens, x.head ?? 'linear', x.refineSteps ?? 1].join(',');
    if (sizes(check.config) !== sizes(c)) {
      throw new Error(`export check: ${weightsPath} reads back as ${JSON.stringify(check.config)}, expected ${JSON.stringify(c)}`);
    }
    const diff = await maxParamDiff(block, check);
    if (!(diff < 1e-2)) throw new Error(`export check: ${weightsPath} differs from ${ck.path} by ${diff} (more than F16 rounding)`);

    const figures: string[] = [];
    const figDir = join(runDir, 'figures');
    if (await pathExists(figDir)) {
      // JPEG: the heatmaps show a frame, ~1.7 MB each as PNG, ~0.2 MB as JPEG (they ship in the package).
      for (const f of (await readdir(figDir)).filter((x) => x.startsWith('heatmap-') && x.endsWith('.png')).sort()) {
        const jpg = f.replace(/\.png$/, '.jpg');
        await writeFileAtomic(join(out, 'figures', jpg), encodeJpeg(decodeImage(new Uint8Array(await readFile(join(figDir, f))), f), 85));
        figures.push(`figures/${jpg}`);
      }
    }
    const trainStage = timings.stages.find((s) => s.name === `train ${TABLE1_VARIANT.label}`);
    const cacheStage = timings.stages.find((s) => s.name === 'cache training features');
    const exported = {
      format: SHIFT_BLOCK_EXPORT_FORMAT,
      version: 1,
      name: 'rpsam2-synthetic',
      sam2: results.models[0]?.label ?? '',
      shiftBlock: c,
      parameters: block.paramCount(),
      storage: 'F16',
      checkpoint: { kind: ck.meta.kind, globalStep: ck.meta.state.globalStep, epoch: ck.meta.state.bestEpoch, valDice: ck.meta.state.bestValDice },
      data: config.data.generate,
      extraTrainData: (trainingData?.extra ?? []).map((e) => ({ ...e.spec, trainFrames: e.frames, trainObjects: e.objects })),
      candidates: { gridStep: config.training.gridStep, epsilon: config.training.epsilon, featuresOnlyTrain: config.training.featuresOnlyTrain === true },
      training: ck.meta.config,
      retrain: RETRAIN_COMMAND,
    };
    await writeFileAtomic(join(out, 'config.json'), new TextEncoder().encode(toJson(exported)));
    const cardPath = join(out, 'MODEL_CARD.md');
    const previous = (await pathExists(cardPath)) ? await readFile(cardPath, 'utf8') : '';
    const kept = previous.includes(KEPT_NOTES_MARKER) ? previous.slice(previous.indexOf(KEPT_NOTES_MARKER) + KEPT_NOTES_MARKER.length).trim() : '';
    const card = shiftBlockCardMarkdown({
      config,
      results,
      block: c,
      parameters: block.paramCount(),
      fileBytes: bytes.length,
      checkpoint: exported.checkpoint,
      val: log.val,
      stepMs: log.stepMs,
      trainSeconds: trainStage?.seconds ?? null,
      cacheSeconds: cacheStage?.seconds ?? null,
      figures,
      retrain: RETRAIN_COMMAND,
      notes: kept,
      training: (ck.meta.config as TrainConfig | undefined) ?? null,
      trainingData,
    });
    await writeFileAtomic(cardPath, new TextEncoder().encode(card));
    io.out(`exported ${ck.path} (step ${exported.checkpoint.globalStep}, val Dice ${exported.checkpoint.valDice?.toFixed(4)}) → ${weightsPath} (${(bytes.length / 1e6).toFixed(2)} MB, F16; max |Δ| ${diff.toExponential(1)}), config.json, MODEL_CARD.md, ${figures.length} figures`);
  } finally {
    block.dispose();
    check?.dispose();
  }
}
