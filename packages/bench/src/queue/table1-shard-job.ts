/**
 * A `table1-shard` job on a worker: the samples of a few frames of a run's evaluation (a Table 1
 * run, or the test-split evaluation of one share of a `bench ood` run) for one model group,
 * computed by the run's own evaluation loop (`evaluate`) with the methods rebuilt in the run's
 * column order and the features read from the run's feature cache — so every record is the
 * record the single-process run computes. The run's config.json says how to open its data (its
 * `format` tells a Table 1 run from an OOD run, whose data is a CaDIS folder). The shard is
 * written to a temporary file and renamed into place when complete: a shard file that exists is
 * complete, and a re-delivered job finds it and does nothing (two workers on one shard never
 * share a file).
 *
 * The opened dataset, feature cache, SAM 2 and shift blocks stay loaded for the next shard of the
 * same run and group ({@link Table1ShardContext}).
 */
import { hostname } from 'node:os';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UnrecoverableError } from 'bullmq';
import { defaultShiftBlockSpec, FeatureCache, loadShiftBlockFrom, openCheckpoint, type ShiftBlock } from '@rpsam2/rpsam2';
import { Sam2ImagePredictor } from '@rpsam2/sam2';
import { openCadis } from '../datasets/cadis.js';
import { openCataract1k } from '../datasets/cataract1k.js';
import type { FrameRef, SegmentationDataset, SplitName } from '../datasets/types.js';
import { frameCacheId } from '../evaluation/dataset-adapter.js';
import { evaluate, type EvalGroup } from '../evaluation/evaluate.js';
import { rpsam2Method, sam2Method, type EvalMethod } from '../evaluation/methods.js';
import { readSamples, SampleLog } from '../evaluation/samples.js';
import { loadSam2Spec, type LoadedSam2 } from '../evaluation/sam2-models.js';
import { OOD_CONFIG_FORMAT, validateOodConfig, type OodConfig } from '../ood/ood-config.js';
import { validateExperimentConfig, type ExperimentConfig } from '../runs/experiment-config.js';
import { pathExists, readJson } from '../runs/run-dir.js';
import type { Table1ShardJobData, Table1ShardJobResult } from './jobs.js';

interface Loaded {
  key: string;
  ds: SegmentationDataset;
  frames: Map<string, FrameRef>;
  cache: FeatureCache;
  model: LoadedSam2;
  predictor: Sam2ImagePredictor;
  blocks: ShiftBlock[];
  methods: EvalMethod[];
}

/** The data of a run from its config.json: a Table 1 run's dataset, or an OOD run's CaDIS folder. */
async function openRunData(c: ExperimentConfig | OodConfig, dataRoot: string): Promise<SegmentationDataset> {
  if (c.format === OOD_CONFIG_FORMAT) {
    validateOodConfig(c as OodConfig);
    return openCadis(dataRoot);
  }
  const e = c as ExperimentConfig;
  validateExperimentConfig(e);
  return e.data.dataset === 'cadis' ? openCadis(dataRoot) : openCataract1k(dataRoot, { annotations: e.data.annotations });
}

/** What a worker keeps loaded for consecutive shards of one run and group. */
export class Table1ShardContext {
  private current: Loaded | null = null;

  /** The loaded run and group of `d` (the previous one is freed when it differs). */
  async get(d: Table1ShardJobData): Promise<Loaded> {
    const key = JSON.stringify([d.runDir, d.dataRoot, d.split, d.evalDir, d.group]);
    if (this.current?.key === key) return this.current;
    this.dispose();
    const configPath = join(d.runDir, 'config.json');
    if (!(await pathExists(configPath))) throw new UnrecoverableError(`${configPath}: not found (is the run folder shared with this worker at the same path?)`);
    const ds = await openRunData(await readJson<ExperimentConfig | OodConfig>(configPath), d.dataRoot);
    const frames = new Map(ds.framesIn(d.split as SplitName).map((f) => [f.id, f]));
    const cache = await FeatureCache.open(d.evalDir);
    const model = await loadSam2Spec(d.group.sam2);
    const predictor = new Sam2ImagePredictor(model.model);
    const blocks: ShiftBlock[] = [];
    const loaded: Loaded = { key, ds, frames, cache, model, predictor, blocks, methods: [] };
    this.current = loaded;
    for (const m of d.group.methods) {
      if (m.kind === 'sam2') loaded.methods.push(sam2Method(m.name, predictor));
      else {
        const file = m.checkpoint === '' ? (await defaultShiftBlockSpec()).weights : m.checkpoint;
        const block = await loadShiftBlockFrom(await openCheckpoint(file, { prefer: 'best', heads: m.heads }));
        blocks.push(block);
        loaded.methods.push(rpsam2Method(m.name, predictor, block));
      }
    }
    return loaded;
  }

  /** Frees what is loaded (idempotent). */
  dispose(): void {
    const c = this.current;
    this.current = null;
    if (!c) return;
    c.predictor.dispose();
    c.model.model.dispose();
    for (const b of c.blocks) b.dispose();
  }
}

/** Runs a `table1-shard` job (see the module comment). */
export async function table1ShardJob(d: Table1ShardJobData, ctx: Table1ShardContext, worker: string): Promise<Table1ShardJobResult> {
  const t0 = performance.now();
  const none = { features: 0, masks: 0, metrics: 0, methods: {} };
  if (await pathExists(d.shardFile)) {
    const { records } = await readSamples(d.shardFile);
    return { samples: records.length, outcome: 'cached', timings: none, worker, ms: performance.now() - t0 };
  }
  const run = await ctx.get(d);
  const frames = d.frameIds.map((id) => {
    const f = run.frames.get(id);
    if (!f) throw new UnrecoverableError(`${d.runDir}: frame ${id} is not in the ${d.split} split of ${d.dataRoot}`);
    return f;
  });
  const tmp = `${d.shardFile}.tmp-${hostname()}-${process.pid}`;
  await mkdir(dirname(d.shardFile), { recursive: true });
  await rm(tmp, { force: true });
  const { log } = await SampleLog.open(tmp, { resume: false });
  let report;
  try {
    const group: EvalGroup = {
      name: d.group.name,
      methods: run.methods,
      setImage: async (f) => {
        const img = await run.cache.load(frameCacheId(f.id));
        run.predictor.setFeatures(img.features, img.origHW);
      },
      releaseImage: () => run.predictor.resetImage(),
    };
    report = await evaluate({ dataset: run.ds, frames, groups: [group], seeds: d.seeds, clickOffset: d.clickOffset, log });
  } finally {
    await log.close();
  }
  await rename(tmp, d.shardFile);
  const t = report.timings;
  return { samples: report.computed, outcome: 'computed', timings: { features: t.features, masks: t.masks, metrics: t.metrics, methods: t.methods }, worker, ms: performance.now() - t0 };
}
