/**
 * The Fig. 3a experiment from its config, stage by stage, in its run directory:
 *
 *  1. data: the synthetic CaDIS-like domain is generated into the run (or the CaDIS folder is
 *     opened); the training split's instrument classes per frame are listed;
 *  2. SAM 2 and the in-distribution shift block (the shipped one for the default SAM 2);
 *  3. feature caches: the training split with candidate sets (the shift block's fine-tuning reads
 *     them; SAM2-FT reads the features and masks), the validation split (the fine-tuned block's
 *     checkpoint is chosen on it), the test split (features only);
 *  4. per share, a stratified subset of the training split (`subsets.json`), then:
 *     a. RP-SAM2: the shift block fine-tuned on the subset from the in-distribution block
 *        (rpsam2's trainer, best checkpoint on val); at 0 % the zero-shot block;
 *     b. pseudo masks of the rest of the split, one click per instrument, by SAM 2 and by that
 *        RP-SAM2, with their Dice against the ground truth;
 *     c. SAM2-FT twice: SAM 2's mask decoder fine-tuned on the subset's ground truth plus each
 *        pseudo-mask set (encoder and prompt encoder frozen, cached features);
 *     d. evaluation on the test split — which no fine-tune sees — with Table 1's protocol (one
 *        click per instrument and seed): SAM 2 (once), RP-SAM2 and both SAM2-FT, each SAM2-FT
 *        loaded back from its exported weights as a SAM 2 model;
 *  5. report: results.json, ood.csv, ood.md and figures/ood-mdsc.png.
 *
 * With a queue (`--queue`), step d's groups are evaluated one after the other by `bench worker`
 * processes (`evaluateWithQueue`, as `bench table1 --queue`): the same records in the same order.
 *
 * Every stage is resumable: a stop request (Ctrl-C) ends the current unit of work, what was
 * written stays valid, and `--resume <dir>` continues where the run stopped (the samples, pseudo
 * masks and trainings already on disk are kept; trainings continue from their checkpoints).
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { defaultShiftBlockSpec, loadShiftBlockFrom, openCheckpoint, ProgressLine, type FeatureCache, type ShiftBlock } from '@rpsam2/rpsam2';
import { defaultModelPaths, Sam2ImagePredictor } from '@rpsam2/sam2';
import { openCadis } from '../datasets/cadis.js';
import type { FrameRef } from '../datasets/types.js';
import { frameCacheId } from '../evaluation/dataset-adapter.js';
import { evalProgressText, evaluate, listObjects, type EvalGroup, type EvalProgress, type EvaluationReport } from '../evaluation/evaluate.js';
import { rpsam2Method, sam2Method, type EvalMethod } from '../evaluation/methods.js';
import { loadSam2Spec, type LoadedSam2, type Sam2Spec } from '../evaluation/sam2-models.js';
import type { ShardMethodSpec } from '../queue/jobs.js';
import { absoluteSpec, evaluateWithQueue, type EvaluationQueue } from '../queue/table1-shards.js';
import { SampleLog } from '../evaluation/samples.js';
import { DEFAULT_SHIFT_BLOCK } from '../runs/experiment-config.js';
import { runSession, type ExperimentOutcome, type RunSession } from '../runs/experiment.js';
import { cacheDir, ensureFeatureCache } from '../runs/feature-caches.js';
import { slug, writeJson } from '../runs/run-dir.js';
import type { RunIO } from '../runs/run-io.js';
import type { StopSignal } from '../runs/stop-signal.js';
import { ensureSyntheticData } from '../runs/synthetic-data.js';
import { trainVariant, variantTrainConfig } from '../runs/training.js';
import { finetuneDecoder, type FinetuneFrame } from './decoder-finetune.js';
import { oodMethodNames, shareLabel, type OodConfig } from './ood-config.js';
import { writeOodReport, type ShareRecord } from './ood-report.js';
import { ensurePseudoMasks, pseudoQuality } from './pseudo-masks.js';
import { stratifiedSubset } from './stratified.js';

/** Options of {@link runOod}. */
export interface OodRunOptions {
  io: RunIO;
  stop: StopSignal;
  resumed: boolean;
  /** Shard the evaluation over `bench worker` processes through this queue (the same samples as in-process). */
  queue?: EvaluationQueue;
}

/** The fine-tuning schedule in words (the default run says that it is brief). */
export function scheduleText(c: OodConfig): string {
  const b = c.training.base;
  const block = Number(b.maxSteps) > 0 ? `${String(b.maxSteps)} steps` : `${String(b.epochs)} epochs`;
  const ft = c.sam2ft.epochs > 0 ? `${c.sam2ft.epochs} epochs` : `${c.sam2ft.steps} steps`;
  const what = `shift block fine-tuned ${block}, SAM2-FT ${ft}, candidate grid ${c.training.gridStep} px`;
  if (c.schedule !== 'brief') return `${what} (the paper: 50 epochs each)`;
  const g = c.data.generate;
  return `brief, so that the default run takes minutes on a CPU — ${g ? `${g.cases} videos × ${g.framesPerCase} frames, ` : ''}${what}; the paper fine-tunes 50 epochs each (give --data for its schedule)`;
}

function limit<T>(xs: T[], n: number): T[] {
  return n > 0 ? xs.slice(0, n) : xs;
}

/** Runs (or continues) the OOD experiment `c` in `dir` (see the module comment). */
export async function runOod(c: OodConfig, dir: string, options: OodRunOptions): Promise<ExperimentOutcome> {
  return runSession(dir, options.io, options.resumed, (session) => oodStages(c, dir, options, session));
}

/** The stages of {@link runOod}, in a session of the run. */
async function oodStages(c: OodConfig, dir: string, options: OodRunOptions, { timer, cleanup, interrupted }: RunSession): Promise<ExperimentOutcome> {
  const { io, stop } = options;
  io.out(`schedule: ${scheduleText(c)}`);

  // 1. Data.
  const root = c.data.generate ? join(dir, 'data') : resolve(c.data.root);
  if (c.data.generate) {
    const gen = c.data.generate;
    await timer.run('generate data', () => ensureSyntheticData(root, gen, io));
  }
  const ds = await timer.run('open data', () => openCadis(root));
  const trainFrames = limit(ds.framesIn('train'), c.data.limitTrainImages);
  const valFrames = ds.framesIn('val');
  const testAll = limit(ds.framesIn('test'), c.data.limitImages);
  const trainListing = await timer.run('open data', () => listObjects(ds, trainFrames));
  const testListingAll = await timer.run('open data', () => listObjects(ds, testAll));
  const testFrames = testAll.filter((_, i) => testListingAll[i].length > 0);
  const testListing = testListingAll.filter((l) => l.length > 0);
  const testObjects = testListing.reduce((n, l) => n + l.length, 0);
  if (trainFrames.length === 0) throw new Error(`${ds.name}: no frames in the train split (${ds.split.source})`);
  if (testObjects === 0) throw new Error(`${ds.name}: the test split (${testAll.length} frames) has no instrument object to evaluate`);
  io.out(`  data: ${ds.name} at ${root}: train ${trainFrames.length} frames (${trainListing.reduce((n, l) => n + l.length, 0)} instrument objects), val ${valFrames.length}, test ${testFrames.length} frames with ${testObjects} instrument objects; ${c.protocol.seeds.length} click seeds`);

  // 2. SAM 2 and the in-distribution shift block.
  const main = await timer.run('load SAM 2', () => loadSam2Spec(c.sam2));
  cleanup.push(() => main.model.dispose());
  io.out(`SAM 2: ${main.description}`);
  const predictor = new Sam2ImagePredictor(main.model);
  cleanup.push(() => predictor.dispose());
  const blockPath = c.shiftBlock.checkpoint === DEFAULT_SHIFT_BLOCK ? (await defaultShiftBlockSpec()).weights : c.shiftBlock.checkpoint;
  const zeroShot = await loadShiftBlockFrom(await openCheckpoint(blockPath, { prefer: 'best', heads: c.shiftBlock.heads }));
  cleanup.push(() => zeroShot.dispose());
  io.out(`RP-SAM2: in-distribution shift block ${blockPath} (${zeroShot.paramCount().toLocaleString('en-US')} parameters)`);
  const ftConfigArg = main.isDefault ? (await defaultModelPaths()).config : c.sam2.config;

  // 3. Feature caches.
  const cacheRoot = c.cache.dir ? resolve(c.cache.dir) : join(dir, 'cache');
  const cand = { gridStep: c.training.gridStep, epsilon: c.training.epsilon };
  const trainDir = cacheDir(cacheRoot, main, `train-g${c.training.gridStep}`);
  const trainCache = await timer.run('cache features', () => ensureFeatureCache({ what: 'training features + candidates', ds, frames: trainFrames, model: main, dir: trainDir, dtype: c.cache.dtype, candidates: cand, io, stop }));
  if (!trainCache) return interrupted('cache features');
  let valCache: FeatureCache | null = null;
  let valDir = '';
  if (valFrames.length > 0) {
    valDir = cacheDir(cacheRoot, main, `val-g${c.training.gridStep}`);
    valCache = await timer.run('cache features', () => ensureFeatureCache({ what: 'validation features + candidates', ds, frames: valFrames, model: main, dir: valDir, dtype: c.cache.dtype, candidates: cand, io, stop }));
    if (!valCache) return interrupted('cache features');
  }
  const testCache = await timer.run('cache features', () => ensureFeatureCache({ what: 'test features', ds, frames: testFrames, model: main, dir: cacheDir(cacheRoot, main, 'eval-test'), dtype: c.cache.dtype, candidates: null, io, stop }));
  if (!testCache) return interrupted('cache features');

  // 4. Shares.
  // Frames whose objects the cache dropped (empty masks) are balanced as the cache holds them.
  const cachedIds = new Set(trainCache.entries.map((e) => e.id));
  const strata = trainFrames.map((f, i) => ({ id: frameCacheId(f.id), classes: trainListing[i].map((o) => o.classKey) })).filter((s) => cachedIds.has(s.id));
  const subsets = c.shares.map((share) => stratifiedSubset(strata, share, c.samplingSeed));
  await writeJson(join(dir, 'subsets.json'), { seed: c.samplingSeed, frames: strata.length, subsets });
  const { log, resumed } = await SampleLog.open(join(dir, 'samples.jsonl'), { resume: true });
  cleanup.push(() => log.close());
  if (resumed) io.out(`  samples.jsonl: ${resumed} samples from earlier sessions`);
  const bar = new ProgressLine(io.progress);
  const testGroup = (name: string, pred: Sam2ImagePredictor, methods: EvalMethod[]): EvalGroup => ({
    name,
    methods,
    setImage: async (f: FrameRef) => {
      const img = await testCache.load(frameCacheId(f.id));
      pred.setFeatures(img.features, img.origHW);
    },
    releaseImage: () => pred.resetImage(),
  });
  const records: ShareRecord[] = [];
  const sam2Pseudo = join(dir, 'pseudo', 'sam2');
  for (const [si, share] of c.shares.entries()) {
    const sub = subsets[si];
    const at = shareLabel(share);
    const names = oodMethodNames(share);
    const shareDir = join(dir, 'shares', slug(at));
    const labelled = new Set(sub.ids);
    const rest = strata.map((s) => s.id).filter((id) => !labelled.has(id));
    io.out(`share ${at}: ${sub.ids.length} labelled frames (class counts within ${sub.maxDeviation.toFixed(2)} objects of the targets), ${rest.length} pseudo-labelled`);
    const owned: (() => void)[] = [];
    try {
      // a. The shift block for this share.
      let block: ShiftBlock = zeroShot;
      let checkpoint = blockPath;
      if (sub.ids.length > 0) {
        const v = { name: names.rpsam2, label: `rpsam2-${at}`, set: [] };
        const cfg = variantTrainConfig(c, v, { out: join(shareDir, 'rpsam2'), cache: trainDir, valCache: valDir }, main.label);
        const t = await timer.run('fine-tune shift block', () =>
          trainVariant({
            name: names.rpsam2,
            model: main.model,
            config: cfg,
            trainCache,
            trainIds: sub.ids,
            valCache,
            valIds: valCache ? valCache.entries.map((e) => e.id) : [],
            io,
            init: { checkpoint: blockPath, heads: c.shiftBlock.heads },
            onTrainer: stop.forwarder(),
          }),
        );
        if (!t.block) return interrupted(`fine-tune shift block ${at}`);
        const b = t.block;
        owned.push(() => b.dispose());
        block = b;
        checkpoint = t.checkpoint;
      }
      const rpMethod = rpsam2Method(names.rpsam2, predictor, block);

      // b. Pseudo masks of the rest.
      const rpPseudo = join(shareDir, 'pseudo-rpsam2');
      for (const [what, method, pdir] of [
        ['SAM 2', sam2Method('SAM 2', predictor), sam2Pseudo],
        [names.rpsam2, rpMethod, rpPseudo],
      ] as const) {
        await mkdir(pdir, { recursive: true });
        const ok = await timer.run('pseudo masks', () =>
          ensurePseudoMasks({
            dir: pdir,
            method,
            predictor,
            cache: trainCache,
            ids: rest,
            stream: c.pseudo.clickStream,
            seed: c.pseudo.seed,
            clickOffset: c.protocol.clickOffset,
            shouldStop: () => stop.requested,
            onProgress: (d, n) => bar.update(`  pseudo masks by ${what}: ${d}/${n} frames`),
          }),
        );
        bar.done();
        if (!ok) return interrupted(`pseudo masks ${at}`);
      }
      const quality = { sam2: await pseudoQuality(sam2Pseudo, rest), rpsam2: await pseudoQuality(rpPseudo, rest) };
      io.out(`  pseudo masks of ${rest.length} frames: Dice vs ground truth SAM 2 ${quality.sam2.meanDice.toFixed(3)}, ${names.rpsam2} ${quality.rpsam2.meanDice.toFixed(3)} (${quality.sam2.objects} objects)`);

      // c. SAM2-FT on each pseudo-mask set (plus the labelled share's ground truth).
      const ftWeights: Record<'sam2' | 'rpsam2', string> = { sam2: '', rpsam2: '' };
      for (const [src, pdir, name] of [
        ['sam2', sam2Pseudo, names.ftSam2],
        ['rpsam2', rpPseudo, names.ftRpsam2],
      ] as const) {
        const frames: FinetuneFrame[] = strata.map((s) => ({ id: s.id, pseudoDir: labelled.has(s.id) ? null : pdir }));
        const steps = c.sam2ft.epochs > 0 ? c.sam2ft.epochs * frames.length : c.sam2ft.steps;
        const ftDir = join(shareDir, `sam2ft-${src}`);
        const model = (await loadSam2Spec(c.sam2)).model;
        try {
          const r = await timer.run('SAM2-FT', () =>
            finetuneDecoder({
              model,
              cache: trainCache,
              frames,
              config: { ...c.sam2ft.trainer, steps },
              dir: ftDir,
              description: `${name}: ${sub.ids.length} labelled + ${rest.length} pseudo-labelled frames of ${ds.name} (seed ${c.samplingSeed})`,
              shouldStop: () => stop.requested,
              onTrainer: stop.forwarder(),
              onStep: (e, total) => bar.update(`  ${name}: step ${e.step}/${total} | loss ${e.loss.toFixed(4)} | ${(e.ms / 1000).toFixed(2)} s/step`),
            }),
          );
          bar.done();
          if (r.stopped) return interrupted(`SAM2-FT ${at}`);
          io.out(`  ${name}: ${r.loaded ? 'fine-tuned earlier' : `${r.steps} steps done`} → ${r.weights}`);
          ftWeights[src] = r.weights;
        } finally {
          model.dispose();
        }
      }

      // d. Evaluation on the test split.
      const groups: EvalGroup[] = [testGroup(`SAM 2 (${main.config.name})`, predictor, [...(si === 0 ? [sam2Method('SAM 2', predictor)] : []), rpMethod])];
      // What a queue worker loads for each group (the same models and methods).
      const blockSpec: ShardMethodSpec = { kind: 'rpsam2', name: names.rpsam2, checkpoint: block === zeroShot && c.shiftBlock.checkpoint === DEFAULT_SHIFT_BLOCK ? '' : resolve(checkpoint), heads: c.shiftBlock.heads };
      const specs: { sam2: Sam2Spec; methods: ShardMethodSpec[] }[] = [{ sam2: c.sam2, methods: [...(si === 0 ? [{ kind: 'sam2' as const, name: 'SAM 2' }] : []), blockSpec] }];
      const loaded: LoadedSam2[] = [];
      for (const [src, name] of [
        ['sam2', names.ftSam2],
        ['rpsam2', names.ftRpsam2],
      ] as const) {
        const spec: Sam2Spec = { weights: ftWeights[src], config: ftConfigArg, dtype: c.sam2.dtype };
        specs.push({ sam2: spec, methods: [{ kind: 'sam2', name }] });
        const m = await loadSam2Spec(spec);
        loaded.push(m);
        const p = new Sam2ImagePredictor(m.model);
        owned.push(() => {
          p.dispose();
          m.model.dispose();
        });
        groups.push(testGroup(name, p, [sam2Method(name, p)]));
      }
      const onProgress = (p: EvalProgress) => bar.update(evalProgressText(p));
      const ev = await timer.run('evaluate', async () => {
        if (!options.queue) {
          return evaluate({ dataset: ds, frames: testFrames, groups, seeds: c.protocol.seeds, clickOffset: c.protocol.clickOffset, log, shouldStop: () => stop.requested, onProgress }, testListing);
        }
        // Group by group, as `evaluate` orders the records.
        const evalDir = resolve(cacheDir(cacheRoot, main, 'eval-test'));
        const all: EvaluationReport[] = [];
        for (const [gi, g] of groups.entries()) {
          const r = await evaluateWithQueue({
            queue: options.queue,
            runDir: resolve(dir),
            dataRoot: resolve(root),
            split: 'test',
            evalDir,
            group: { name: g.name, sam2: absoluteSpec(specs[gi].sam2), methods: specs[gi].methods },
            dataset: ds,
            frames: testFrames,
            listing: testListing,
            seeds: c.protocol.seeds,
            clickOffset: c.protocol.clickOffset,
            log,
            stop,
            io,
            onProgress,
          });
          all.push(r);
          if (r.stopped) break;
        }
        return { stopped: all.some((r) => r.stopped), total: all.reduce((n, r) => n + r.total, 0), computed: all.reduce((n, r) => n + r.computed, 0), resumed: all.reduce((n, r) => n + r.resumed, 0) };
      });
      bar.done();
      if (ev.stopped) return interrupted(`evaluate ${at}`);
      io.out(`  evaluated ${groups.flatMap((g) => g.methods.map((m) => m.name)).join(', ')}: ${ev.total} samples (${ev.computed} now, ${ev.resumed} earlier)`);
      records.push({
        share,
        labelledFrames: sub.ids.length,
        pseudoFrames: rest.length,
        stratification: sub.classes,
        names,
        rpsam2Checkpoint: checkpoint,
        sam2ftWeights: ftWeights,
        sam2ftModels: loaded.map((m) => m.label),
        pseudo: quality,
      });
    } finally {
      for (const f of owned.reverse()) f();
    }
  }

  // 5. Report.
  await timer.run('report', () => writeOodReport({ config: c, dir, ds, records, log, main, testFrames: testFrames.length, testObjects, trainFrames: strata.length, io, timings: () => timer.timings() }));
  return { status: 'done', dir };
}
