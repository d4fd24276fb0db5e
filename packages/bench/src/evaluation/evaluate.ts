/**
 * The Table 1 evaluation loop. For every model group (a SAM 2 and the methods on it), every test
 * frame, every instrument object and every seed: the protocol's click, each method's mask, Dice
 * and HD95 against the ground truth at the original resolution, one record per sample appended
 * to `samples.jsonl`.
 *
 * Order and resumption: groups, then frames (dataset order), objects (annotation order), methods
 * (column order), seeds — the order of the file. A unit (group, frame, object, method) is decoded
 * as one batch of its seeds' clicks; a unit whose samples are all recorded is skipped (a frame
 * whose units all are is not even loaded), a partly recorded one is decoded again with the same
 * batch and only its missing samples are written. So an interrupted run, resumed, writes exactly
 * the file an uninterrupted run writes.
 */
import { formatDuration } from '@rpsam2/rpsam2';
import type { FrameRef, SegmentationDataset } from '../datasets/types.js';
import { maskMetrics } from '../metrics/mask-metrics.js';
import type { EvalMethod } from './methods.js';
import { clickPoint, protocolClick } from './protocol-clicks.js';
import { sampleKey, type SampleLog, type SampleRecord } from './samples.js';

/** A SAM 2 model and the methods on it. */
export interface EvalGroup {
  /** For messages ('SAM 2 sam2.1-synthetic', an extra row's name, …). */
  name: string;
  methods: readonly EvalMethod[];
  /** Makes `frame`'s features current for the group's methods (e.g. from the feature cache). */
  setImage(frame: FrameRef): Promise<void>;
  /** Frees the current image's features (after the group's last frame). */
  releaseImage?(): void;
}

/** Progress after each unit. */
export interface EvalProgress {
  /** Samples recorded (including those of a resumed run). */
  done: number;
  total: number;
  /** Samples computed in this run. */
  computed: number;
  frame: string;
  group: string;
  /** Mean wall time per computed sample so far (decode + metrics + feature loads), ms. */
  msPerSample: number;
  etaMs: number;
}

/** A progress line of the evaluation ("evaluate <group>: done/total samples (…%), ms/sample, eta"). */
export function evalProgressText(p: EvalProgress): string {
  return `  evaluate ${p.group}: ${p.done}/${p.total} samples (${((100 * p.done) / p.total).toFixed(0)}%), ${p.msPerSample.toFixed(0)} ms/sample, eta ${formatDuration(p.etaMs)}`;
}

/** What the loop needs. */
export interface EvaluationPlan {
  dataset: SegmentationDataset;
  frames: readonly FrameRef[];
  groups: readonly EvalGroup[];
  seeds: readonly number[];
  /** Added to the drawn pixel (x, y) before prompting (see `clickPoint`). */
  clickOffset: number;
  log: SampleLog;
  /** Checked before every record: true stops (what is written stays valid). */
  shouldStop?: () => boolean;
  onProgress?: (p: EvalProgress) => void;
}

/** Time spent, ms. */
export interface EvaluationTimings {
  total: number;
  /** Loading features (cache reads / uploads). */
  features: number;
  /** Loading ground-truth masks. */
  masks: number;
  /** Dice + HD95 on the CPU. */
  metrics: number;
  /** Per method: decode time and clicks decoded. */
  methods: Record<string, { ms: number; clicks: number }>;
}

/** The outcome of {@link evaluate}. */
export interface EvaluationReport {
  stopped: boolean;
  total: number;
  /** Samples already in the log when the run started. */
  resumed: number;
  computed: number;
  frames: number;
  /** Frames with at least one instrument. */
  framesWithObjects: number;
  objects: number;
  timings: EvaluationTimings;
}

/** The instrument objects of every frame (index and class only; masks are loaded when needed). */
export async function listObjects(dataset: SegmentationDataset, frames: readonly FrameRef[]): Promise<{ index: number; classKey: string }[][]> {
  const out: { index: number; classKey: string }[][] = [];
  for (const f of frames) out.push((await dataset.loadObjects(f)).map((o) => ({ index: o.index, classKey: o.classKey })));
  return out;
}

/** Runs the evaluation (see the module comment). */
export async function evaluate(plan: EvaluationPlan, listing?: { index: number; classKey: string }[][]): Promise<EvaluationReport> {
  const t0 = performance.now();
  const { dataset, frames, groups, seeds, log } = plan;
  if (seeds.length === 0) throw new Error('evaluate: no seeds');
  if (new Set(seeds).size !== seeds.length) throw new Error(`evaluate: repeated seeds in [${seeds}]`);
  const names = groups.flatMap((g) => g.methods.map((m) => m.name));
  if (new Set(names).size !== names.length) throw new Error(`evaluate: method names must be unique, got ${names.join(', ')}`);
  const objs = listing ?? (await listObjects(dataset, frames));
  const objectCount = objs.reduce((n, o) => n + o.length, 0);
  const total = objectCount * seeds.length * names.length;
  const timings: EvaluationTimings = { total: 0, features: 0, masks: 0, metrics: 0, methods: Object.fromEntries(names.map((n) => [n, { ms: 0, clicks: 0 }])) };
  const report: EvaluationReport = { stopped: false, total, resumed: 0, computed: 0, frames: frames.length, framesWithObjects: objs.filter((o) => o.length > 0).length, objects: objectCount, timings };
  const keyOf = (method: string, frame: FrameRef, object: number, seed: number) => sampleKey({ method, image: frame.id, object, seed });
  // Samples of this evaluation already in the log (a resumed run).
  for (const g of groups) {
    for (const m of g.methods) frames.forEach((f, i) => objs[i].forEach((o) => seeds.forEach((s) => (report.resumed += log.has(keyOf(m.name, f, o.index, s)) ? 1 : 0))));
  }
  let done = report.resumed;
  let computeMs = 0;
  const stop = () => plan.shouldStop?.() === true;

  outer: for (const g of groups) {
    try {
      for (let fi = 0; fi < frames.length; fi++) {
        const frame = frames[fi];
        const pending = objs[fi].some((o) => g.methods.some((m) => seeds.some((s) => !log.has(keyOf(m.name, frame, o.index, s)))));
        if (!pending) continue;
        if (stop()) {
          report.stopped = true;
          break outer;
        }
        const tu = performance.now();
        let t = performance.now();
        await g.setImage(frame);
        timings.features += performance.now() - t;
        t = performance.now();
        const objects = await dataset.loadObjects(frame);
        timings.masks += performance.now() - t;
        if (objects.map((o) => o.index).join() !== objs[fi].map((o) => o.index).join()) {
          throw new Error(`evaluate: the objects of ${frame.id} changed while evaluating (${objs[fi].length} listed, ${objects.length} loaded)`);
        }
        for (const obj of objects) {
          const clicks = seeds.map((s) => protocolClick(obj.mask, s, frame.id, obj.index));
          const points = clicks.map((c) => clickPoint(c, plan.clickOffset));
          for (const m of g.methods) {
            const keys = seeds.map((s) => keyOf(m.name, frame, obj.index, s));
            if (keys.every((k) => log.has(k))) continue;
            t = performance.now();
            const masks = await m.segment(points);
            timings.methods[m.name].ms += performance.now() - t;
            timings.methods[m.name].clicks += points.length;
            for (let i = 0; i < seeds.length; i++) {
              if (log.has(keys[i])) continue;
              if (stop()) {
                report.stopped = true;
                break outer;
              }
              t = performance.now();
              const met = maskMetrics({ width: obj.mask.width, height: obj.mask.height, data: masks[i].mask }, obj.mask);
              timings.metrics += performance.now() - t;
              const rec: SampleRecord = {
                method: m.name,
                seed: seeds[i],
                image: frame.id,
                object: obj.index,
                class: obj.classKey,
                click: [clicks[i].x, clicks[i].y],
                refined: masks[i].refined,
                dice: met.dice,
                hd95: met.hd95,
                hd95Pooled: met.hd95Pooled,
                empty: met.empty,
                score: masks[i].score,
                maskIndex: masks[i].maskIndex,
              };
              await log.append(rec);
              report.computed++;
              done++;
            }
          }
        }
        computeMs += performance.now() - tu;
        const per = report.computed ? computeMs / report.computed : 0;
        plan.onProgress?.({ done, total, computed: report.computed, frame: frame.id, group: g.name, msPerSample: per, etaMs: per * (total - done) });
      }
    } finally {
      g.releaseImage?.();
    }
  }
  timings.total = performance.now() - t0;
  return report;
}
