/**
 * A benchmark run from its config, stage by stage, in its run directory:
 *
 *  1. data: the synthetic set is generated into the run (or the dataset folder is opened);
 *  2. SAM 2: the main model (the embedded default model without --weights);
 *  3. RP-SAM2: the given shift block, or — per variant — the training split's features and
 *     candidate sets are cached and the shift block is trained (rpsam2's Trainer);
 *  4. the evaluated frames are encoded once per SAM 2 (feature cache);
 *  5. evaluation: every method, object and seed (samples.jsonl), then each extra SAM 2 row;
 *  6. report: Table 1 (Markdown, CSV, JSON), heatmaps, results.json, and the caller's extras
 *     (the ablation tables and plots).
 *
 * Every stage is resumable: a stop request (Ctrl-C) ends the current unit of work, everything
 * written stays valid, and `--resume <dir>` continues where the run stopped. Stage times go to
 * timings.json (summed over sessions).
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { defaultShiftBlockNotice, defaultShiftBlockSpec, loadShiftBlockFrom, openCheckpoint, ProgressLine, formatDuration, type FeatureCache, type ShiftBlock } from '@rpsam2/rpsam2';
import { Sam2ImagePredictor } from '@rpsam2/sam2';
import { initNode } from '@rpsam2/tensor/node';
import { openCadis } from '../datasets/cadis.js';
import { openCataract1k } from '../datasets/cataract1k.js';
import { formatIssues, type SegmentationDataset } from '../datasets/types.js';
import { frameCacheId } from '../evaluation/dataset-adapter.js';
import { evaluate, evalProgressText, listObjects, type EvalGroup, type EvalProgress, type EvaluationTimings } from '../evaluation/evaluate.js';
import { rpsam2Method, sam2Method, type EvalMethod } from '../evaluation/methods.js';
import { loadSam2Spec, type LoadedSam2, type Sam2Spec } from '../evaluation/sam2-models.js';
import { extraTrainableParameters } from '../evaluation/trainable-params.js';
import { SampleLog } from '../evaluation/samples.js';
import { formatP } from '../evaluation/significance.js';
import { summarizeEvaluation, type EvaluationSummary } from '../evaluation/summarize.js';
import { adapterLine, captureEnvironment, type RunEnvironment } from './environment.js';
import { DEFAULT_SHIFT_BLOCK, FEATURES_ONLY_GRID_STEP, featuresOnlyLossError, methodNames, TABLE1_VARIANT, type ExperimentConfig, type VariantSpec } from './experiment-config.js';
import { ensureExtraTrainSets } from './extra-train-sets.js';
import { cacheDir, ensureFeatureCache } from './feature-caches.js';
import { writeHeatmaps } from './heatmap-figures.js';
import { buildResults, headlineOf, TESTS_NOTE, type DatasetInfo, type MethodInfo, type ModelInfo } from './results.js';
import { pathExists, readJson, slug, writeFileSafe, writeJson } from './run-dir.js';
import type { RunIO } from './run-io.js';
import { StageTimer } from './stage-timer.js';
import type { StopSignal } from './stop-signal.js';
import { buildTable1, type Table1 } from './table1.js';
import { table1Caption, table1Csv, table1Json, table1Markdown } from './table-writers.js';
import { ensureSyntheticData } from './synthetic-data.js';
import { trainVariant, variantTrainConfig } from './training.js';
import { absoluteSpec, evaluateWithQueue, type EvaluationQueue } from '../queue/table1-shards.js';
import type { ShardMethodSpec } from '../queue/jobs.js';

/** An RP-SAM2 column: its variant and shift block. */
export interface TrainedColumn {
  spec: VariantSpec;
  block: ShiftBlock;
  checkpoint: string;
  steps: number | null;
}

/** What the report hook (ablations) gets. */
export interface ReportContext {
  config: ExperimentConfig;
  dir: string;
  summary: EvaluationSummary;
  table: Table1;
  columns: readonly TrainedColumn[];
  io: RunIO;
}

/** Options of {@link runExperiment}. */
export interface RunOptions {
  io: RunIO;
  stop: StopSignal;
  /** True when continuing a run (its config.json is the config). */
  resumed: boolean;
  /** Extra outputs after Table 1 (returns the files written, relative to the run directory). */
  report?: (ctx: ReportContext) => Promise<string[]>;
  /** Shard the evaluation over `bench worker` processes through this queue (the same samples as in-process). */
  queue?: EvaluationQueue;
}

/** The outcome of a run. */
export interface ExperimentOutcome {
  status: 'done' | 'interrupted';
  dir: string;
  /** The stage that was interrupted. */
  stoppedIn?: string;
  summary?: EvaluationSummary;
}

async function openData(c: ExperimentConfig, root: string): Promise<SegmentationDataset> {
  if (c.data.dataset === 'cadis') return openCadis(root);
  return openCataract1k(root, { annotations: c.data.annotations });
}

function limit<T>(xs: T[], n: number): T[] {
  return n > 0 ? xs.slice(0, n) : xs;
}

/** env.json: the environment of every session of the run (first the one that started it). */
async function recordEnvironment(dir: string, env: RunEnvironment): Promise<void> {
  const path = join(dir, 'env.json');
  const prev = (await pathExists(path)) ? await readJson<{ sessions?: RunEnvironment[] }>(path) : null;
  const sessions = [...(prev?.sessions ?? []), env];
  await writeJson(path, { ...sessions[0], sessions });
}

/** Starts a session of a run: the GPU, env.json, and the run's first lines (directory, adapter). */
export async function startRun(dir: string, io: RunIO, resumed: boolean): Promise<void> {
  await initNode();
  const env = await captureEnvironment();
  await recordEnvironment(dir, env);
  io.out(`run: ${dir}${resumed ? ' (resumed)' : ''}`);
  io.out(`adapter: ${adapterLine(env)}; node ${env.node}; ${env.os.cpus} CPU cores`);
}

/** What the stages of a run session share (see {@link runSession}). */
export interface RunSession {
  /** The run's stage times (timings.json, summed over sessions). */
  timer: StageTimer;
  /** Disposers of what the stages loaded, run last first when the session ends, however it ends. */
  cleanup: (() => void | Promise<void>)[];
  /** The outcome of a stop request in `stage` (what was written stays valid for `--resume`). */
  interrupted(stage: string): ExperimentOutcome;
}

/**
 * Runs one session of the run in `dir` (Table 1 and ablations, the OOD experiment): opens its
 * stage timer, starts it ({@link startRun}), runs `stages`, prints the stage times when the run is
 * done, and disposes what the stages registered in `cleanup` even when they throw or stop.
 */
export async function runSession(dir: string, io: RunIO, resumed: boolean, stages: (session: RunSession) => Promise<ExperimentOutcome>): Promise<ExperimentOutcome> {
  const timer = await StageTimer.open(dir);
  const cleanup: (() => void | Promise<void>)[] = [];
  const interrupted = (stage: string): ExperimentOutcome => ({ status: 'interrupted', dir, stoppedIn: stage });
  try {
    await startRun(dir, io, resumed);
    const outcome = await stages({ timer, cleanup, interrupted });
    if (outcome.status === 'done') {
      io.out('stages:');
      for (const line of timer.summaryLines()) io.out(line);
    }
    return outcome;
  } finally {
    for (const f of cleanup.reverse()) await f();
  }
}

/** Runs (or continues) the experiment `c` in `dir` (see the module comment). */
export async function runExperiment(c: ExperimentConfig, dir: string, options: RunOptions): Promise<ExperimentOutcome> {
  return runSession(dir, options.io, options.resumed, (session) => experimentStages(c, dir, options, session));
}

/** The stages of {@link runExperiment}, in a session of the run. */
async function experimentStages(c: ExperimentConfig, dir: string, options: RunOptions, { timer, cleanup, interrupted }: RunSession): Promise<ExperimentOutcome> {
  const { io, stop } = options;

  // 1. Data.
  const root = c.data.generate ? join(dir, 'data') : resolve(c.data.root);
  if (c.data.generate) {
    const gen = c.data.generate;
    await timer.run('generate data', () => ensureSyntheticData(root, gen, io));
  }
  const ds = await timer.run('open data', () => openData(c, root));
  const evalFramesAll = limit(ds.framesIn(c.data.evalSplit), c.data.limitImages);
  const listingAll = await timer.run('open data', () => listObjects(ds, evalFramesAll));
  // Counted after listing: rasterising the objects adds warnings (an object covering no pixel is dropped).
  const issues = { errors: ds.issues.filter((i) => i.severity === 'error').length, warnings: ds.issues.filter((i) => i.severity === 'warning').length };
  if (issues.warnings) for (const line of formatIssues(ds.name, ds.issues, 10).split('\n')) io.err(`  ${line}`);
  // Only frames with an instrument are evaluated (and encoded).
  const keep = evalFramesAll.map((_, i) => listingAll[i].length > 0);
  const evalFrames = evalFramesAll.filter((_, i) => keep[i]);
  const listing = listingAll.filter((_, i) => keep[i]);
  const objectCount = listing.reduce((n, l) => n + l.length, 0);
  if (objectCount === 0) throw new Error(`${ds.name}: the ${c.data.evalSplit} split (${evalFramesAll.length} frames, split from ${ds.split.source}) has no instrument object to evaluate`);
  const classNames = new Map(ds.classes.map((k) => [k.key, k.name]));
  const perClass = ds.instrumentKeys
    .map((key) => ({ key, name: classNames.get(key) ?? key, objects: listing.reduce((n, l) => n + l.filter((o) => o.classKey === key).length, 0) }))
    .filter((x) => x.objects > 0);
  io.out(`  evaluated: ${c.data.evalSplit} split, ${evalFrames.length} frames with ${objectCount} instrument objects (${perClass.map((p) => `${p.key} ${p.objects}`).join(', ')}); ${c.protocol.seeds.length} seeds`);

  // 2. SAM 2.
  const main = await timer.run('load SAM 2', () => loadSam2Spec(c.sam2));
  cleanup.push(() => main.model.dispose());
  io.out(`SAM 2: ${main.description}`);
  const predictor = new Sam2ImagePredictor(main.model);
  cleanup.push(() => predictor.dispose());
  const cacheRoot = c.cache.dir ? resolve(c.cache.dir) : join(dir, 'cache');

  // 3. RP-SAM2.
  const columns: TrainedColumn[] = [];
  cleanup.push(() => columns.forEach((col) => col.block.dispose()));
  let trainFrameCount: number | null = null;
  if (c.rpsam2.shiftBlock) {
    const shipped = c.rpsam2.shiftBlock === DEFAULT_SHIFT_BLOCK ? await defaultShiftBlockSpec() : null;
    const ck = await openCheckpoint(shipped ? shipped.weights : c.rpsam2.shiftBlock, { prefer: 'best', heads: c.rpsam2.heads });
    const block = await loadShiftBlockFrom(ck);
    columns.push({ spec: TABLE1_VARIANT, block, checkpoint: ck.path, steps: ck.meta?.state.globalStep ?? null });
    if (shipped) io.out(`RP-SAM2: ${defaultShiftBlockNotice(shipped.card)}`);
    io.out(`RP-SAM2: shift block ${ck.path} (${block.paramCount().toLocaleString('en-US')} parameters${ck.meta ? `, ${ck.meta.state.globalStep} training steps` : ', plain weights file'})`);
  } else {
    const trainFrames = limit(ds.framesIn(c.data.trainSplit), c.data.limitTrainImages);
    trainFrameCount = trainFrames.length;
    if (trainFrames.length === 0) throw new Error(`${ds.name}: no frames in the ${c.data.trainSplit} split to train RP-SAM2 on (give --shift-block to evaluate a trained one)`);
    const featuresOnly = c.training.featuresOnlyTrain === true;
    const trainStep = featuresOnly ? FEATURES_ONLY_GRID_STEP : c.training.gridStep;
    const extraSets = c.training.extraTrainSets ?? [];
    io.out(
      `RP-SAM2: training ${c.rpsam2.variants.length} variant(s) on the ${c.data.trainSplit} split (${trainFrames.length} frames)${extraSets.length ? ` and the train splits of ${extraSets.length} extra set(s) (seeds ${extraSets.map((e) => e.seed).join(', ')}), features only` : ''}; candidates: ${featuresOnly ? `none for training (features only), validation grid ${c.training.gridStep} px` : `grid ${c.training.gridStep} px`}, ε ${c.training.epsilon}`,
    );
    // A features-only cache has no real candidates: check every variant's loss before caching.
    if (featuresOnly || extraSets.length) {
      for (const v of c.rpsam2.variants) {
        const why = featuresOnlyLossError(variantTrainConfig(c, v, { out: join(dir, 'train', slug(v.label)), cache: '-', valCache: '' }, main.label));
        if (why) throw new Error(`training of ${v.name}: its training caches are features only, and ${why}`);
      }
    }
    const cand = { gridStep: c.training.gridStep, epsilon: c.training.epsilon };
    const trainDir = cacheDir(cacheRoot, main, `train-${c.data.trainSplit}-g${trainStep}`);
    const trainCache = await timer.run('cache training features', () =>
      ensureFeatureCache({
        what: featuresOnly ? `${c.data.trainSplit} training features (features only)` : 'training features + candidates',
        ds,
        frames: trainFrames,
        model: main,
        dir: trainDir,
        dtype: c.cache.dtype,
        candidates: { gridStep: trainStep, epsilon: c.training.epsilon },
        io,
        stop,
      }),
    );
    if (!trainCache) return interrupted('cache training features');
    const extras = await ensureExtraTrainSets({ config: c, runDir: dir, model: main, timer, io, stop });
    if (!extras) return interrupted('cache training features');
    if (extras.infos.length) {
      await writeJson(join(dir, 'training-data.json'), {
        base: { spec: c.data.generate, split: c.data.trainSplit, frames: trainFrames.length, objects: trainCache.objectCount, cache: trainDir },
        extra: extras.infos,
      });
    }
    let valCache: FeatureCache | null = null;
    let valDir = '';
    const valFrames = c.data.valSplit ? ds.framesIn(c.data.valSplit) : [];
    if (valFrames.length > 0) {
      valDir = cacheDir(cacheRoot, main, `val-${c.data.valSplit}-g${c.training.gridStep}`);
      valCache = await timer.run('cache training features', () =>
        ensureFeatureCache({ what: 'validation features + candidates', ds, frames: valFrames, model: main, dir: valDir, dtype: c.cache.dtype, candidates: cand, io, stop }),
      );
      if (!valCache) return interrupted('cache training features');
    }
    for (const v of c.rpsam2.variants) {
      const cfg = variantTrainConfig(c, v, { out: join(dir, 'train', slug(v.label)), cache: trainDir, valCache: valDir, extraCaches: extras.infos.map((e) => e.cache) }, main.label);
      const t = await timer.run(`train ${v.label}`, () =>
        trainVariant({
          name: v.name,
          model: main.model,
          config: cfg,
          trainCache,
          trainIds: trainFrames.map((f) => frameCacheId(f.id)),
          extraCaches: extras.caches,
          valCache,
          valIds: valFrames.map((f) => frameCacheId(f.id)),
          io,
          onTrainer: stop.forwarder(),
        }),
      );
      if (!t.block) return interrupted(`train ${v.label}`);
      columns.push({ spec: v, block: t.block, checkpoint: t.checkpoint, steps: t.summary?.state.globalStep ?? null });
    }
  }
  if (stop.requested) return interrupted('training');
  // The methods on the main SAM 2 (this also checks that each shift block fits it).
  const methods: EvalMethod[] = [sam2Method('SAM 2', predictor), ...columns.map((col) => rpsam2Method(col.spec.name, predictor, col.block))];

  // 4. Features of the evaluated frames.
  const evalDir = cacheDir(cacheRoot, main, `eval-${c.data.evalSplit}`);
  const evalCache = await timer.run('encode evaluated frames', () =>
    ensureFeatureCache({ what: `${c.data.evalSplit} features`, ds, frames: evalFrames, model: main, dir: evalDir, dtype: c.cache.dtype, candidates: null, io, stop }),
  );
  if (!evalCache) return interrupted('encode evaluated frames');

  // 5. Evaluation.
  const { log, resumed } = await SampleLog.open(join(dir, 'samples.jsonl'), { resume: true });
  cleanup.push(() => log.close());
  if (resumed) io.out(`  samples.jsonl: ${resumed} samples from earlier sessions`);
  const mainGroup: EvalGroup = {
    name: `SAM 2 (${main.config.name})`,
    methods,
    setImage: async (f) => {
      const img = await evalCache.load(frameCacheId(f.id));
      predictor.setFeatures(img.features, img.origHW);
    },
    releaseImage: () => predictor.resetImage(),
  };
  const evalTimings: EvaluationTimings = { total: 0, features: 0, masks: 0, metrics: 0, methods: {} };
  const addTimings = (t: EvaluationTimings) => {
    evalTimings.total += t.total;
    evalTimings.features += t.features;
    evalTimings.masks += t.masks;
    evalTimings.metrics += t.metrics;
    Object.assign(evalTimings.methods, t.methods);
  };
  const bar = new ProgressLine(io.progress);
  const onProgress = (p: EvalProgress) => bar.update(evalProgressText(p));
  const seeds = c.protocol.seeds;
  // With --queue the workers compute the samples (the same records, merged in the same order).
  const queued = (name: string, sam2: Sam2Spec, methods: ShardMethodSpec[], evalDir: string) =>
    evaluateWithQueue({ queue: options.queue!, runDir: resolve(dir), dataRoot: resolve(root), split: c.data.evalSplit, evalDir: resolve(evalDir), group: { name, sam2: absoluteSpec(sam2), methods }, dataset: ds, frames: evalFrames, listing, seeds, clickOffset: c.protocol.clickOffset, log, stop, io, onProgress });
  const mainMethods: ShardMethodSpec[] = [
    { kind: 'sam2', name: 'SAM 2' },
    ...columns.map((col): ShardMethodSpec => ({ kind: 'rpsam2', name: col.spec.name, checkpoint: c.rpsam2.shiftBlock === DEFAULT_SHIFT_BLOCK ? '' : resolve(col.checkpoint), heads: c.rpsam2.heads })),
  ];
  const evalMain = await timer.run('evaluate', () =>
    options.queue
      ? queued(mainGroup.name, c.sam2, mainMethods, evalDir)
      : evaluate({ dataset: ds, frames: evalFrames, groups: [mainGroup], seeds, clickOffset: c.protocol.clickOffset, log, shouldStop: () => stop.requested, onProgress }, listing),
  );
  bar.done();
  addTimings(evalMain.timings);
  if (evalMain.stopped) return interrupted('evaluate');
  io.out(`  evaluated ${methods.map((m) => m.name).join(', ')}: ${evalMain.total} samples (${evalMain.computed} now, ${evalMain.resumed} earlier) in ${formatDuration(evalMain.timings.total)}`);

  // The released SAM 2 is frozen: it trains nothing.
  const models: ModelInfo[] = [
    { name: 'SAM 2', description: main.description, label: main.label, imageSize: main.config.imageSize, parameters: main.report.parameters, trainableParameters: 0 },
  ];
  for (const extra of c.extras) {
    const stage = `extra ${extra.name}`;
    const outcome = await timer.run(stage, async () => {
      const m: LoadedSam2 = await loadSam2Spec({ weights: extra.weights, config: extra.config, dtype: c.sam2.dtype });
      const pred = new Sam2ImagePredictor(m.model);
      try {
        io.out(`${extra.name}: ${m.description}`);
        models.push({ name: extra.name, description: m.description, label: m.label, imageSize: m.config.imageSize, parameters: m.report.parameters, trainableParameters: extraTrainableParameters(m.model) });
        const cache = await ensureFeatureCache({ what: `${extra.name} ${c.data.evalSplit} features`, ds, frames: evalFrames, model: m, dir: cacheDir(cacheRoot, m, `eval-${c.data.evalSplit}`), dtype: c.cache.dtype, candidates: null, io, stop });
        if (!cache) return 'stopped';
        const group: EvalGroup = {
          name: extra.name,
          methods: [sam2Method(extra.name, pred)],
          setImage: async (f) => {
            const img = await cache.load(frameCacheId(f.id));
            pred.setFeatures(img.features, img.origHW);
          },
          releaseImage: () => pred.resetImage(),
        };
        const r = options.queue
          ? await queued(extra.name, { weights: extra.weights, config: extra.config, dtype: c.sam2.dtype }, [{ kind: 'sam2', name: extra.name }], cacheDir(cacheRoot, m, `eval-${c.data.evalSplit}`))
          : await evaluate({ dataset: ds, frames: evalFrames, groups: [group], seeds, clickOffset: c.protocol.clickOffset, log, shouldStop: () => stop.requested, onProgress }, listing);
        bar.done();
        addTimings(r.timings);
        return r.stopped ? 'stopped' : 'done';
      } finally {
        pred.dispose();
        m.model.dispose();
      }
    });
    if (outcome === 'stopped') return interrupted(stage);
  }

  // 6. Report.
  const { summary, table } = await timer.run('report', async () => {
    const summary = summarizeEvaluation(log.records, methodNames(c), 'SAM 2', ds.instrumentKeys);
    const table = buildTable1(summary.methods, ds.instrumentKeys, classNames);
    const trainable = new Map<string, number>([...models.map((m): [string, number] => [m.name, m.trainableParameters]), ...columns.map((col): [string, number] => [col.spec.name, col.block.paramCount()])]);
    table.trainableParams = table.methods.map((name) => trainable.get(name) ?? null);
    await writeFileSafe(join(dir, 'table1.md'), table1Report(c, table, summary, main));
    await writeFileSafe(join(dir, 'table1.csv'), table1Csv(table));
    await writeJson(join(dir, 'table1.json'), table1Json(table));
    await mkdir(join(dir, 'figures'), { recursive: true });
    return { summary, table };
  });
  const figures: string[] = [];
  if (c.figures.heatmapObjects > 0) {
    const baseline = log.records.filter((r) => r.method === 'SAM 2');
    figures.push(
      ...(await timer.run('figures', () =>
        writeHeatmaps({
          runDir: dir,
          ds,
          frames: evalFrames,
          baselineSamples: baseline,
          methods,
          setImage: mainGroup.setImage,
          releaseImage: mainGroup.releaseImage!,
          count: c.figures.heatmapObjects,
          classes: c.figures.heatmapClasses,
          targetClicks: c.figures.heatmapClicks,
          clickOffset: c.protocol.clickOffset,
          io,
        }),
      )),
    );
  }
  if (options.report) figures.push(...(await timer.run('figures', () => options.report!({ config: c, dir, summary, table, columns, io }))));
  const methodInfo: MethodInfo[] = [
    { name: 'SAM 2', kind: 'sam2', model: main.label },
    ...columns.map((col): MethodInfo => ({ name: col.spec.name, kind: 'rpsam2', model: main.label, checkpoint: col.checkpoint, training: c.rpsam2.shiftBlock ? undefined : { set: col.spec.set, steps: col.steps, config: `train/${slug(col.spec.label)}/config.json` } })),
    ...c.extras.map((e, i): MethodInfo => ({ name: e.name, kind: 'sam2', model: models[i + 1]?.label ?? e.weights })),
  ];
  const datasetInfo: DatasetInfo = {
    name: ds.name,
    root,
    loader: c.data.dataset === 'cadis' ? 'cadis' : c.data.annotations === 'coco' ? 'cataract1k (COCO)' : 'cataract1k (Supervisely)',
    generated: c.data.generate !== null,
    split: c.data.evalSplit,
    frames: evalFramesAll.length,
    framesWithObjects: evalFrames.length,
    objects: objectCount,
    classes: perClass,
    trainFrames: trainFrameCount,
    issues,
  };
  io.out('');
  for (const line of table1Markdown(table).trimEnd().split('\n')) io.out(line);
  io.out('');
  printSummary(io, summary, c);
  const results = buildResults({ config: c, runDir: dir, dataset: datasetInfo, methods: methodInfo, summary, timings: timer.timings(), evaluation: evalTimings, figures, models });
  await writeJson(join(dir, 'results.json'), results);
  return { status: 'done', dir, summary };
}

/** table1.md: the table, its caption, the headline numbers and the tests. */
function table1Report(c: ExperimentConfig, t: Table1, s: EvaluationSummary, main: LoadedSam2): string {
  const h = headlineOf(s);
  const lines = [
    `# ${c.kind === 'table1' ? 'Table 1' : `Ablation: ${c.kind.replace('ablate-', '')}`} — ${c.name}`,
    '',
    `SAM 2: ${main.description}. Protocol: one click drawn uniformly from each instrument object's mask per seed (${c.protocol.seeds.length} seeds), multimask output, the mask with the highest predicted IoU; RP-SAM2 refines the click first.`,
    '',
    table1Markdown(t).trimEnd(),
    '',
    table1Caption(t),
    '',
    `SAM 2 single-click instrument mDSC: ${fmtMs(h.sam2InstrumentMdsc, 3)}; click-position spread (std of DSC over the ${c.protocol.seeds.length} clicks per object, mean over objects): ${fmt(h.sam2ClickSpread, 3)}.`,
    '',
    '## Tests against SAM 2',
    '',
    TESTS_NOTE,
    '',
    ...s.comparisons.map(
      (k) =>
        `- ${k.a} vs ${k.b}: per-object Dice ${signed(k.wilcoxonDice.meanDifference)} (median ${signed(k.wilcoxonDice.medianDifference)}), Wilcoxon n = ${k.wilcoxonDice.n} (${k.wilcoxonDice.zeros} ties at zero), W = ${k.wilcoxonDice.statistic}, ${formatP(k.wilcoxonDice.p)} (${k.wilcoxonDice.method}); HD95 ${signed(k.wilcoxonHd95.meanDifference, 1)} px, ${formatP(k.wilcoxonHd95.p)}; paired t over seeds: t = ${fmt(k.tTestSeedsDice.t, 2)}, ${formatP(k.tTestSeedsDice.p)}.`,
    ),
    '',
  ];
  return lines.join('\n');
}

function fmt(x: number, d: number): string {
  return Number.isFinite(x) ? x.toFixed(d) : 'n/a';
}

function fmtMs(m: { mean: number; std: number }, d: number): string {
  return Number.isFinite(m.std) ? `${fmt(m.mean, d)} ± ${fmt(m.std, d)}` : fmt(m.mean, d);
}

function signed(x: number, d = 3): string {
  return Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(d)}` : 'n/a';
}

/** The headline lines printed at the end of a run. */
function printSummary(io: RunIO, s: EvaluationSummary, c: ExperimentConfig): void {
  const h = headlineOf(s);
  io.out(`SAM 2 single-click instrument mDSC: ${fmtMs(h.sam2InstrumentMdsc, 3)} (mHD95 ${fmtMs(h.sam2InstrumentMhd95, 1)} px); click-position spread: ${fmt(h.sam2ClickSpread, 3)} (std of DSC over the ${c.protocol.seeds.length} clicks per object, mean over objects)`);
  for (const m of h.methods.filter((x) => x.name !== h.baseline)) {
    const k = s.comparisons.find((x) => x.a === m.name);
    const test = k ? `; vs SAM 2: Wilcoxon on per-object Dice ${formatP(k.wilcoxonDice.p)} (n = ${k.wilcoxonDice.n}), paired t over seeds ${formatP(k.tTestSeedsDice.p)}` : '';
    io.out(`${m.name}: mDSC ${fmtMs(m.mDSC, 3)}, mHD95 ${fmtMs(m.mHD95, 1)} px, click spread ${fmt(m.clickSpread, 3)}${test}`);
  }
}
