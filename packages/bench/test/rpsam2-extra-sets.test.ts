/**
 * Extra training sets (`training.extraTrainSets`) and features-only training caches
 * (`training.featuresOnlyTrain`): the config checks (each error names the field and the fix), the
 * recipe of `bench train-rpsam2`, and a miniature run with one extra set — its train split is
 * generated under the run, cached features only at the path an earlier run's cache can be copied
 * to, listed in the trainer's `data.extraCaches` and trained on; a rerun reuses the complete cache
 * without generating the set again, and completes a partial one; the export's model card names it.
 */
import { readdir, readFile, rm, cp } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FEATURES_ONLY_GRID_STEP, realRunConfig, validateExperimentConfig, type ExperimentConfig, type GenerateSpec } from '../src/runs/experiment-config.js';
import { extraSetCacheDir, FEATURES_ONLY_TRAIN_KIND } from '../src/runs/extra-train-sets.js';
import { RPSAM2_DATA, RPSAM2_EXTRA_DATA, RPSAM2_RECIPE, rpsam2TrainingRunConfig } from '../src/rpsam2-training/recipe.js';
import { exportShiftBlock } from '../src/rpsam2-training/export.js';
import { parseRunArgs, type RunArgs } from '../src/runs/run-args.js';
import { executeRun } from '../src/runs/run-command.js';
import { pathExists } from '../src/runs/run-dir.js';
import { openCheckpoint } from '@rpsam2/rpsam2';
import { memoryIO } from '../src/runs/run-io.js';
import { StopSignal } from '../src/runs/stop-signal.js';
import { useTempDir } from './helpers/fixtures.js';

const tmp = useTempDir('rpsam2-extra-sets');

const CENTROID = { distTarget: 'centroid', candidateReach: 0.1, loss: { useDice: false, useDist: true, useOut: false } };

/** The recipe's config with these training-data settings. */
function withTraining(t: Partial<ExperimentConfig['training']>, base?: Record<string, unknown>): ExperimentConfig {
  const c = rpsam2TrainingRunConfig();
  c.training = { ...c.training, ...t, ...(base ? { base } : {}) };
  return c;
}

const extra = (seed: number, more: Partial<GenerateSpec> = {}): GenerateSpec => ({ seed, cases: 3, framesPerCase: 2, width: 96, height: 72, minInstruments: 1, maxInstruments: 2, ...more });

describe('training.extraTrainSets and training.featuresOnlyTrain', () => {
  it('the recipe trains on the base set and the three extra sets, features only, with the pointer head', () => {
    const c = rpsam2TrainingRunConfig();
    expect(() => validateExperimentConfig(c)).not.toThrow();
    expect(c.data.generate).toEqual(RPSAM2_DATA);
    expect(c.data).toMatchObject({ trainSplit: 'train', valSplit: 'val', evalSplit: 'test' });
    expect(c.training.featuresOnlyTrain).toBe(true);
    const spec = { framesPerCase: 10, width: 1024, height: 768, minInstruments: 1, maxInstruments: 2 };
    // Exactly the specs of the earlier manual runs, so that their caches are reusable.
    expect(c.training.extraTrainSets).toEqual([
      { seed: 3005, cases: 100, ...spec },
      { seed: 3006, cases: 200, ...spec },
      { seed: 3008, cases: 300, ...spec },
    ]);
    expect(c.training.extraTrainSets).toEqual(RPSAM2_EXTRA_DATA);
    expect(c.training.extraTrainSets).not.toBe(RPSAM2_EXTRA_DATA); // a copy: a run's config cannot change the recipe
    // The recipe's training settings, a copy (a run's config cannot change the recipe), and the
    // ones features-only caches rest on: the centroid distance term alone, which needs no
    // candidate sets (the config check refuses the candidate target with them).
    expect(c.training.base).toEqual(RPSAM2_RECIPE);
    expect(c.training.base).not.toBe(RPSAM2_RECIPE);
    expect(c.training.base).toMatchObject({ ...CENTROID, shiftHead: 'pointer', refineSteps: 2 });
    expect(c.training.gridStep).toBe(16); // the validation cache keeps its candidates
  });

  it('configs without the fields are unchanged and valid', () => {
    const c = rpsam2TrainingRunConfig();
    delete c.training.extraTrainSets;
    delete c.training.featuresOnlyTrain;
    expect(() => validateExperimentConfig(c)).not.toThrow();
    expect(() => validateExperimentConfig(realRunConfig('table1', '/data', 'cadis'))).not.toThrow();
  });

  it('refuses each bad setting, naming the field and the fix', () => {
    const bad = (c: ExperimentConfig) => () => validateExperimentConfig(c);
    expect(bad(withTraining({ extraTrainSets: [extra(RPSAM2_DATA.seed)] }))).toThrow(/training\.extraTrainSets\[0\]\.seed 3003 is data\.generate's seed: .*give it another seed/);
    expect(bad(withTraining({ extraTrainSets: [extra(7), extra(8), extra(7)] }))).toThrow(/training\.extraTrainSets\[2\]\.seed 7 is used by another extra set: each extra set needs its own seed/);
    const real = realRunConfig('table1', '/data', 'cadis');
    real.training = { ...real.training, base: { ...real.training.base, ...CENTROID }, extraTrainSets: [extra(7)] };
    expect(bad(real)).toThrow(/training\.extraTrainSets needs a generated synthetic data set .* this run reads cadis .* remove training\.extraTrainSets/);
    expect(bad(withTraining({ extraTrainSets: extra(7) as unknown as GenerateSpec[] }))).toThrow(/training\.extraTrainSets must be a list of generate specs/);
    expect(bad(withTraining({ extraTrainSets: [extra(7, { cases: 2.5 })] }))).toThrow(/training\.extraTrainSets\[0\]\.cases must be an integer, got 2\.5/);
    expect(bad(withTraining({ extraTrainSets: [{ seed: 7 } as GenerateSpec] }))).toThrow(/training\.extraTrainSets\[0\]\.cases must be an integer, got undefined/);
    expect(bad(withTraining({ extraTrainSets: [extra(7, { minInstruments: 3, maxInstruments: 2 })] }))).toThrow(/training\.extraTrainSets\[0\]: instruments must satisfy 1 ≤ minInstruments ≤ maxInstruments ≤ 4, got 3–2/);
    expect(bad(withTraining({ extraTrainSets: [extra(7, { domain: 'cadis' })] }))).toThrow(/training\.extraTrainSets\[0\]\.domain must be cataract1k/);
    const given = withTraining({ extraTrainSets: [extra(7)] });
    given.rpsam2.shiftBlock = '/some/block.safetensors';
    expect(bad(given)).toThrow(/training\.extraTrainSets trains the block in the run; it cannot go with a given shift block/);
    expect(bad(withTraining({ featuresOnlyTrain: 'yes' as unknown as boolean }))).toThrow(/training\.featuresOnlyTrain must be true or false, got "yes"/);
    // Features-only caches hold no candidate grid: the candidate target is refused, the centroid one (or no distance term) is fine.
    const candidates = { ...rpsam2TrainingRunConfig().training.base, distTarget: 'candidates' };
    expect(bad(withTraining({ featuresOnlyTrain: true, extraTrainSets: [] }, candidates))).toThrow(/training\.featuresOnlyTrain caches features only, and the distance term against the grid's candidates needs candidate sets: set training\.base\.distTarget 'centroid'/);
    expect(bad(withTraining({ featuresOnlyTrain: false, extraTrainSets: [extra(7)] }, { shiftBlock: 'paper' }))).toThrow(/training\.extraTrainSets caches features only, and the distance term/);
    expect(bad(withTraining({ featuresOnlyTrain: true, extraTrainSets: [extra(7)] }, { shiftBlock: 'paper', loss: { useDist: false } }))).not.toThrow();
    expect(bad(withTraining({ featuresOnlyTrain: false, extraTrainSets: [] }, { shiftBlock: 'paper' }))).not.toThrow();
  });
});

describe('a run with an extra training set', () => {
  it('caches the extra set features only, trains on it (data.extraCaches), reuses it on a rerun and names it in the model card', async () => {
    const run = join(tmp.dir, 'run');
    const parsed = parseRunArgs(['--cases', '2', '--frames', '2', '--size', '96x72', '--instruments', '1-2', '--seeds', '1', '--steps', '1', '--grid-step', '48', '--heatmaps', '0', '--out', run], 'table1');
    const c = parsed.config!;
    c.training = { ...c.training, base: { ...c.training.base, ...CENTROID, shiftHead: 'pointer', refineSteps: 2, positionInit: 'sam2' }, featuresOnlyTrain: true, extraTrainSets: [extra(77)] };
    validateExperimentConfig(c);
    const args: RunArgs = { ...parsed, config: c };
    const io = memoryIO();
    expect(await executeRun(args, io, new StopSignal())).toBe(0);
    const text = io.lines.join('\n');

    // The base train split: features only (grid 4096), not at the run's 48-px grid.
    const cacheRoot = join(run, 'cache');
    const [slug] = await readdir(cacheRoot);
    expect((await readdir(join(cacheRoot, slug))).sort()).toEqual(['eval-test', FEATURES_ONLY_TRAIN_KIND]);
    expect(text).toMatch(/train training features \(features only\): 2 frames, 2 computed/);

    // The extra set: generated under the run, its train split (2 of 3 cases: 1 val-less train case… by case) cached features only.
    const extraCache = join(run, 'extra-77', 'cache', slug, 'train-train-g4096');
    expect(extraSetCacheDir(c, run, { slug }, { seed: 77 })).toBe(extraCache);
    expect(await pathExists(join(run, 'extra-77', 'data', 'synthetic.json'))).toBe(true);
    const index = JSON.parse(await readFile(join(extraCache, 'index.json'), 'utf8'));
    expect(index.gridStep).toBe(FEATURES_ONLY_GRID_STEP);
    // cases 3: val ⌊3/5⌋ = 0, test 1, train 2 cases × 2 frames.
    expect(index.entries.map((e: { id: string }) => e.id).sort()).toEqual(['case_9001__case9001_01.png', 'case_9001__case9001_02.png', 'case_9002__case9002_01.png', 'case_9002__case9002_02.png']);
    // Features only: a grid point or so per object (a 16-px grid would have dozens on a 96×72 frame).
    for (const e of index.entries) for (const o of e.objects) expect(o.gridCount).toBeLessThanOrEqual(4);
    expect(text).toMatch(/extra set 1\/1 \(seed 77\): 3 cases × 2 frames, 96×72, 1–2 instruments; its train split trains the block/);
    expect(text).toMatch(/extra set 1\/1 \(seed 77\) train features \(features only\): 4 frames, 4 computed/);

    // The trainer's config lists it, and it trains on both: 2 + 4 images.
    const trained = JSON.parse(await readFile(join(run, 'train', 'RP-SAM2', 'config.json'), 'utf8'));
    expect(trained.data.extraCaches).toEqual([extraCache]);
    expect(trained.data.cache).toBe(join(cacheRoot, slug, 'train-train-g4096'));
    expect(trained).toMatchObject({ shiftHead: 'pointer', distTarget: 'centroid' });
    expect(text).toMatch(/RP-SAM2: shift block [\d,]+ parameters .*; \d+ objects in 6 images;/);
    const data = JSON.parse(await readFile(join(run, 'training-data.json'), 'utf8'));
    expect(data.extra).toEqual([{ spec: extra(77), frames: 4, objects: index.entries.reduce((n: number, e: { objects: unknown[] }) => n + e.objects.length, 0), cache: extraCache }]);
    expect(data.base).toMatchObject({ frames: 2 });

    // Rerun: the complete cache is used as it is — the set is not generated again (its frames are gone).
    await rm(join(run, 'extra-77', 'data'), { recursive: true });
    const io2 = memoryIO();
    expect(await executeRun({ kind: 'table1', json: false, quick: false, rest: [], resume: run }, io2, new StopSignal())).toBe(0);
    expect(io2.lines.join('\n')).toMatch(/extra set 1\/1 \(seed 77\): 4 train frames cached earlier, features only → .*extra-77/);
    expect(await pathExists(join(run, 'extra-77', 'data'))).toBe(false);

    // A cache copied from another run of the same set is reused; a partial one is completed (the set generated for it).
    const run2 = join(tmp.dir, 'run2');
    await cp(join(run, 'extra-77'), join(run2, 'extra-77'), { recursive: true });
    await rm(join(run2, 'extra-77', 'cache', slug, 'train-train-g4096', 'images', 'case_9002__case9002_02.png.safetensors'));
    const io3 = memoryIO();
    expect(await executeRun({ ...args, out: run2, config: { ...c } }, io3, new StopSignal())).toBe(0);
    expect(io3.lines.join('\n')).toMatch(/extra set 1\/1 \(seed 77\) train features \(features only\): 4 frames, 1 computed in .*, 3 from the cache/);

    // The model card describes the data and the recipe the block was trained with.
    const out = join(tmp.dir, 'shipped');
    await exportShiftBlock({ runDir: run, out, io });
    const card = await readFile(join(out, 'MODEL_CARD.md'), 'utf8');
    expect(card).toMatch(/\| extra, seed 77 \| 3 \| 2 \| 96×72 \| 1–2 \| 4 \| \d+ \|/);
    expect(card).toMatch(/\| base, seed \d+ \(train split\) \| 2 \| 2 \| 96×72 \| 1–2 \| 2 \| \d+ \|/);
    expect(card).toContain('| output head | pointer');
    // Two inference steps travel with the plain file (its metadata), so every predictor applies them.
    expect(card).toContain('| inference steps | 2 (the block is applied again');
    expect((await openCheckpoint(join(out, 'weights.safetensors'))).shiftBlock).toMatchObject({ head: 'pointer', refineSteps: 2 });
    expect(card).toContain("| distance target | the point 0.1 towards the mask's centroid per axis |");
    expect(card).toContain('| loss | Dist (α 1, β 0.1, γ 1, θ 15) |');
    expect(card).toContain('| training data | seed');
    expect(card).toContain('+ the train splits of seeds 77 |');
    expect(card).toContain('| candidates | none for training (features only); validation grid 48 px, ε 0.005 |');
    const cfg = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(cfg.extraTrainData).toEqual([{ ...extra(77), trainFrames: 4, trainObjects: data.extra[0].objects }]);
  }, 300_000); // a whole run (generate, cache, train, evaluate): over 120 s on a loaded 2-core machine
});
