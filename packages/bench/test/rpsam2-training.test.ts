/**
 * `bench train-rpsam2`: the recipe's run configuration (its own data seed, train / val / test by
 * case, the paper's settings where not stated otherwise), the flags, and the export of a finished
 * run as the shipped block — weights (F16, loadable as a plain shift-block file), config.json,
 * the model card (numbers from the run, hand-written notes kept across exports), the figures.
 * The export is exercised on a miniature Table 1 run with the default SAM 2.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCheckpoint, loadShiftBlockFrom } from '@rpsam2/rpsam2';
import { decodeImage } from '@rpsam2/sam2';
import { SAM2_EVAL_DATA_SEED, SAM2_TRAIN_DATA_SEED } from '../src/sam2-training/synthetic-source.js';
import { DEFAULT_GENERATE } from '../src/runs/experiment-config.js';
import { RPSAM2_ABLATION_STEPS, RPSAM2_DATA, RPSAM2_DATA_SEED, RPSAM2_RECIPE, rpsam2AblationRunConfig, rpsam2TrainingRunConfig } from '../src/rpsam2-training/recipe.js';
import { CLICK_VARIANTS, LOSS_VARIANTS } from '../src/ablations/variants.js';
import { validateExperimentConfig } from '../src/runs/experiment-config.js';
import { parseTrainRpsam2Args } from '../src/rpsam2-training/command.js';
import { exportShiftBlock, RETRAIN_COMMAND } from '../src/rpsam2-training/export.js';
import { KEPT_NOTES_MARKER } from '../src/rpsam2-training/model-card.js';
import { parseRunArgs } from '../src/runs/run-args.js';
import { executeRun } from '../src/runs/run-command.js';
import { memoryIO } from '../src/runs/run-io.js';
import { StopSignal } from '../src/runs/stop-signal.js';
import { useTempDir } from './helpers/fixtures.js';

const tmp = useTempDir('rpsam2-training');

describe('train-rpsam2 recipe and flags', () => {
  it('trains on its own synthetic set: train split, best checkpoint on val, reported on test', () => {
    const c = rpsam2TrainingRunConfig();
    expect(new Set([RPSAM2_DATA_SEED, SAM2_TRAIN_DATA_SEED, SAM2_EVAL_DATA_SEED, DEFAULT_GENERATE.seed]).size).toBe(4);
    expect(c.data.generate).toEqual(RPSAM2_DATA);
    expect(c.data).toMatchObject({ trainSplit: 'train', valSplit: 'val', evalSplit: 'test', dataset: 'synthetic' });
    expect(c.rpsam2.shiftBlock).toBe(''); // trained in the run
    expect(c.training.base).toEqual(RPSAM2_RECIPE);
    // The paper's architecture, batch and clicks; then the deviations (lr, the localised identity
    // start, no Dice term, clipping), named in the recipe's comment and the model card.
    expect(c.training.base).toMatchObject({ shiftBlock: 'paper', batchSize: 4, clicksPerObject: 10 });
    expect(c.training.base).toMatchObject({ lr: 3e-4, zeroInitHead: true, positionInit: 'sam2', tieCrossAttention: 2, loss: { useDice: false }, clipGradNorm: 1 });
    expect(c.protocol.seeds.length).toBe(10);
  });

  it('flags: --epochs and --set override the recipe; bad values are refused', () => {
    const a = parseTrainRpsam2Args(['--epochs', '3', '--set', 'lr=0.001', '--out', '/tmp/x', '--export', '/tmp/y']) as unknown as { config: ReturnType<typeof rpsam2TrainingRunConfig>; out: string; exportDir: string };
    expect(a.config.training.base).toMatchObject({ epochs: 3, lr: 0.001, batchSize: 4 });
    expect(a.out).toBe('/tmp/x');
    expect(a.exportDir).toBe('/tmp/y');
    expect(() => parseTrainRpsam2Args(['--epochs', '0'])).toThrow(/--epochs needs at least 1/);
    expect(() => parseTrainRpsam2Args(['--epochs', 'x'])).toThrow(/--epochs needs a non-negative integer/);
    expect(() => parseTrainRpsam2Args(['--set', 'nokey'])).toThrow(/expected key=value/);
    expect(() => parseTrainRpsam2Args(['--bogus'])).toThrow(/Unknown option '--bogus'/);
  });

  it('--ablate: the Fig. 3b variants on the recipe\'s data, each for --max-steps steps, no export', () => {
    type Parsed = { config: ReturnType<typeof rpsam2TrainingRunConfig>; out: string; ablate?: string };
    const loss = parseTrainRpsam2Args(['--ablate', 'loss']) as unknown as Parsed;
    expect(loss.out).toBe('runs/rpsam2-ablate-loss');
    expect(loss.config.kind).toBe('ablate-loss');
    expect(loss.config.rpsam2.variants.map((v) => v.label)).toEqual(LOSS_VARIANTS.map((v) => v.label));
    expect(loss.config.training.base).toEqual({ ...RPSAM2_RECIPE, maxSteps: RPSAM2_ABLATION_STEPS });
    // The same data, validation and test split as the shipped block's run.
    const recipe = rpsam2TrainingRunConfig();
    expect(loss.config.data).toEqual(recipe.data);
    expect(loss.config.training.extraTrainSets).toEqual(recipe.training.extraTrainSets);
    expect(loss.config.protocol).toEqual(recipe.protocol);
    const clicks = parseTrainRpsam2Args(['--ablate', 'clicks', '--max-steps', '50', '--cache', '/tmp/c']) as unknown as Parsed;
    expect(clicks.config.kind).toBe('ablate-clicks');
    expect(clicks.config.rpsam2.variants.map((v) => v.x)).toEqual(CLICK_VARIANTS.map((v) => v.x));
    expect(clicks.config.training.base).toMatchObject({ maxSteps: 50 });
    expect(clicks.config.cache.dir).toBe('/tmp/c');
    expect(() => validateExperimentConfig(rpsam2AblationRunConfig('clicks'))).not.toThrow();
    expect(() => parseTrainRpsam2Args(['--ablate', 'dice'])).toThrow(/--ablate needs 'loss' or 'clicks', got 'dice'/);
    expect(() => parseTrainRpsam2Args(['--ablate', 'loss', '--export', '/tmp/y'])).toThrow(/drop --export or --ablate/);
    expect(() => parseTrainRpsam2Args(['--max-steps', '10'])).toThrow(/needs --ablate/);
    expect(() => parseTrainRpsam2Args(['--ablate', 'loss', '--max-steps', '0'])).toThrow(/--max-steps needs an integer ≥ 1, got '0'/);
  });
});

describe('train-rpsam2 --export', () => {
  it('writes the chosen block (F16, loadable), config.json, the model card with the run’s numbers, and keeps hand-written notes', async () => {
    const run = join(tmp.dir, 'run');
    const io = memoryIO();
    const args = parseRunArgs(['--cases', '2', '--frames', '1', '--size', '96x72', '--instruments', '2', '--seeds', '2', '--steps', '1', '--grid-step', '48', '--heatmaps', '1', '--heatmap-clicks', '6', '--out', run], 'table1');
    expect(await executeRun(args, io, new StopSignal())).toBe(0);
    const out = join(tmp.dir, 'shipped');
    await expect(exportShiftBlock({ runDir: join(tmp.dir, 'missing'), out, io })).rejects.toThrow(/has no results\.json: the run has not finished/);
    await exportShiftBlock({ runDir: run, out, io });
    expect(io.lines.at(-1)).toMatch(/^exported .*last\.safetensors \(step 1, .*\) → .*weights\.safetensors \([\d.]+ MB, F16; max \|Δ\| [\d.e+-]+\), config\.json, MODEL_CARD\.md, 1 figures$/);

    const weights = join(out, 'weights.safetensors');
    expect((await stat(weights)).size).toBeLessThan(5e6);
    const ck = await openCheckpoint(weights);
    expect(ck.meta).toBeNull(); // a plain shift-block file
    const block = await loadShiftBlockFrom(ck);
    const trained = await loadShiftBlockFrom(await openCheckpoint(join(run, 'train', 'RP-SAM2')));
    try {
      expect(block.config).toMatchObject({ dModel: 64, heads: 8, ffn: 2048, layers: 6, imageTokens: 1024 });
      // F16 storage: the values agree with the checkpoint to F16 rounding.
      const [a, b] = await Promise.all([block.head!.weight.get('weight').data(), trained.head!.weight.get('weight').data()]);
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(Math.abs(b[i]) * 1e-3 + 1e-7);
    } finally {
      block.dispose();
      trained.dispose();
    }

    const cfg = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(cfg.sam2).toMatch(/^sam2\.1-synthetic sha256:[0-9a-f]{16}$/); // the exact SAM 2 weights it was trained on
    expect(cfg).toMatchObject({ format: 'rpsam2-shift-block', storage: 'F16', retrain: RETRAIN_COMMAND, checkpoint: { globalStep: 1 } });
    expect(cfg.training.maxSteps).toBe(1);

    const results = JSON.parse(await readFile(join(run, 'results.json'), 'utf8'));
    const card = await readFile(join(out, 'MODEL_CARD.md'), 'utf8');
    expect(card).toContain('# rpsam2-synthetic: the default shift block');
    expect(card).toContain(RETRAIN_COMMAND);
    expect(card).toContain(`| instrument mDSC | ${results.headline.sam2InstrumentMdsc.mean.toFixed(3)} ±`);
    expect(card).toMatch(/!\[figures\/heatmap-1-[A-Za-z-]+\.jpg\]\(figures\/heatmap-1-[A-Za-z-]+\.jpg\)/);
    expect(card).toContain(KEPT_NOTES_MARKER);
    // The heatmap ships as a JPEG of the run's PNG (same size, close pixels).
    const fig = card.match(/figures\/(heatmap-1-[A-Za-z-]+)\.jpg/)![1];
    const png = decodeImage(new Uint8Array(await readFile(join(run, 'figures', `${fig}.png`))));
    const jpg = decodeImage(new Uint8Array(await readFile(join(out, 'figures', `${fig}.jpg`))));
    expect([jpg.width, jpg.height]).toEqual([png.width, png.height]);
    let err = 0;
    for (let i = 0; i < png.data.length; i++) err += Math.abs(png.data[i] - jpg.data[i]);
    expect(err / png.data.length).toBeLessThan(6);

    // Notes written by hand below the marker survive the next export.
    await writeFile(join(out, 'MODEL_CARD.md'), `${card}\n## What it still gets wrong\nHand-written.\n`);
    await exportShiftBlock({ runDir: run, out, io });
    const again = await readFile(join(out, 'MODEL_CARD.md'), 'utf8');
    expect(again).toContain('## What it still gets wrong\nHand-written.');
    expect(again.split(KEPT_NOTES_MARKER).length).toBe(2);
  });
});
