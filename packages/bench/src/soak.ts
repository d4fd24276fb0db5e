/**
 * `bench soak`: a long run of ordinary work that must not leak. It loads the embedded default
 * SAM 2 and the shipped shift block, makes predictions round-robin over synthetic frames, prompts
 * (clicks, multimask on and off, boxes, batches) and both predictors (`Sam2ImagePredictor`,
 * `RpSam2Predictor`), then trains a fresh shift block for a few steps with checkpoints. It samples
 * the GPU pool's live bytes and Node's heap as it goes and fails (exit 1) when either grows past
 * its bound between the first and the last window after a warm-up, or when the pool does not
 * return to where it started once everything is disposed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { OnTheFlySource, resolveTrainConfig, RpSam2Predictor, ShiftBlock, syntheticShapes, Trainer, type Click } from '@rpsam2/rpsam2';
import { Sam2ImagePredictor, type Prompt, type RgbImage } from '@rpsam2/sam2';
import { getBackend } from '@rpsam2/tensor';
import { initNode } from '@rpsam2/tensor/node';
import { nonNegativeIntFlag, positiveIntFlag, type CommandArgs } from './args.js';
import { UsageError } from './runs/run-args.js';
import { processIO, type RunIO } from './runs/run-io.js';
import { renderSyntheticFrame, SYNTHETIC_CLASSES, type SyntheticFrame } from './synthetic/index.js';
import { median } from './stats.js';

export const SOAK_USAGE = 'soak [--predictions 1000] [--train-steps 40 (0: none)] [--quick] [--json]';

/** Default sizes; `--quick` uses the smaller pair (about a minute or two on a 2-core CPU). */
export const SOAK_DEFAULTS = { predictions: 1000, trainSteps: 40 } as const;
export const SOAK_QUICK = { predictions: 100, trainSteps: 10 } as const;

/**
 * The bounds a soak run is judged by: growth of the median over the last window after warm-up
 * against the first. The pool's live bytes between predictions (or steps) are a pure function of
 * what is held — the features of the current image, the weights, the optimizer state — so any
 * growth is a leak; the heap moves with the garbage collector, hence a loose bound.
 */
export const SOAK_BOUNDS = { liveBytes: 0, heapUsed: 64 * 2 ** 20 } as const;

export interface SoakArgs extends CommandArgs {
  predictions: number;
  trainSteps: number;
}

/** Parses `soak`'s flags (`--quick` sets the smaller sizes unless they are given). */
export function parseSoakArgs(argv: string[]): SoakArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { predictions: { type: 'string' }, 'train-steps': { type: 'string' }, quick: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}: ${SOAK_USAGE}`);
  }
  const { values } = parsed;
  const sizes = values.quick ? SOAK_QUICK : SOAK_DEFAULTS;
  const flag = (name: string, v: string | undefined, d: number, read: (flag: string, v: string) => number) => {
    if (v === undefined) return d;
    try {
      return read(name, v);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  };
  const predictions = flag('predictions', values.predictions, sizes.predictions, positiveIntFlag);
  const trainSteps = flag('train-steps', values['train-steps'], sizes.trainSteps, nonNegativeIntFlag);
  // The growth check needs samples after warm-up to compare (one per step while training).
  if (predictions < 10) throw new UsageError(`--predictions needs at least 10 (to compare memory over time), got ${predictions}`);
  if (trainSteps > 0 && trainSteps < 3) throw new UsageError(`--train-steps needs 0 (no training) or at least 3, got ${trainSteps}`);
  return { json: values.json!, quick: values.quick!, rest: [], predictions, trainSteps };
}

/** One memory sample: after `step` predictions (or training steps) of a phase. */
export interface SoakSample {
  phase: 'predict' | 'train';
  step: number;
  /** Seconds since the run started. */
  t: number;
  /** The tensor library's buffer pool: bytes held by tensors. */
  liveBytes: number;
  /** `process.memoryUsage().heapUsed`. */
  heapUsed: number;
}

export type SoakMetric = 'liveBytes' | 'heapUsed';

/** The growth of one metric over one phase. */
export interface Growth {
  phase: SoakSample['phase'];
  metric: SoakMetric;
  /** Samples dropped as warm-up, and samples per window. */
  warmup: number;
  window: number;
  /** Medians of the first and last windows after warm-up; growth = last − first. */
  first: number;
  last: number;
  growth: number;
  bound: number;
  ok: boolean;
}

/**
 * The growth of `metric` over `samples` (one phase, in order): the first `warmupFraction` of the
 * samples are dropped (pipelines compile, pools and caches fill), then the median of the last
 * quarter of the rest is compared with the median of its first quarter (windows of at least 3
 * samples, so that one garbage-collector swing does not decide; at most half the rest each).
 * Throws with fewer than two samples left after warm-up (nothing to compare).
 */
export function growthOf(samples: readonly SoakSample[], metric: SoakMetric, bound: number, warmupFraction = 0.2): Growth {
  const warmup = Math.max(1, Math.floor(samples.length * warmupFraction));
  const rest = samples.slice(warmup).map((s) => s[metric]);
  if (rest.length < 2) throw new Error(`soak: ${samples.length} ${samples[0]?.phase ?? ''} samples leave ${rest.length} after warm-up; at least 2 are needed (run more steps)`);
  const window = Math.max(1, Math.min(Math.floor(rest.length / 2), Math.max(3, Math.floor(rest.length / 4))));
  const first = median(rest.slice(0, window));
  const last = median(rest.slice(-window));
  const growth = last - first;
  return { phase: samples[0].phase, metric, warmup, window, first, last, growth, bound, ok: growth <= bound };
}

/** Every phase's growth of both metrics against {@link SOAK_BOUNDS}. */
export function soakVerdict(samples: readonly SoakSample[], bounds: Record<SoakMetric, number> = SOAK_BOUNDS): Growth[] {
  const phases = [...new Set(samples.map((s) => s.phase))];
  return phases.flatMap((p) => {
    const ps = samples.filter((s) => s.phase === p);
    return (['liveBytes', 'heapUsed'] as const).map((m) => growthOf(ps, m, bounds[m]));
  });
}

const MIB = 2 ** 20;
/** Bytes as MiB with two decimals (signed for growth). */
export function mib(bytes: number, signed = false): string {
  const s = (bytes / MIB).toFixed(2);
  return signed && bytes >= 0 ? `+${s}` : s;
}

/** Up to `rows` samples of each phase, evenly spaced (first and last kept), as a markdown table. */
export function formatSoakTable(samples: readonly SoakSample[], rows = 8): string[] {
  const out = ['| phase | step | time (s) | pool live (MiB) | heap used (MiB) |', '| --- | ---: | ---: | ---: | ---: |'];
  for (const p of [...new Set(samples.map((s) => s.phase))]) {
    const ps = samples.filter((s) => s.phase === p);
    const n = Math.min(rows, ps.length);
    const picked = n <= 1 ? ps.slice(0, n) : Array.from({ length: n }, (_, i) => ps[Math.round((i * (ps.length - 1)) / (n - 1))]);
    for (const s of picked) out.push(`| ${s.phase} | ${s.step} | ${s.t.toFixed(1)} | ${mib(s.liveBytes)} | ${mib(s.heapUsed)} |`);
  }
  return out;
}

/** One line per growth check: what grew, by how much, against which bound. */
export function formatVerdict(growths: readonly Growth[]): string[] {
  return growths.map(
    (g) =>
      `${g.ok ? 'ok  ' : 'FAIL'} ${g.phase} ${g.metric === 'liveBytes' ? 'pool live bytes' : 'heap used'}: ${mib(g.first)} → ${mib(g.last)} MiB (${mib(g.growth, true)} MiB; bound ${mib(g.bound, true)} MiB; medians of ${g.window} samples after ${g.warmup} warm-up)`,
  );
}

/** A click inside an object: its crop's pixel nearest the box centre (boxes of thin instruments miss them). */
function clickIn(o: SyntheticFrame['objects'][number]): Click {
  const { x0, y0, w, h } = o.box;
  let best: Click = [x0 + w / 2, y0 + h / 2];
  let bestD = Infinity;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!o.crop[y * w + x]) continue;
      const d = (x - w / 2) ** 2 + (y - h / 2) ** 2;
      if (d < bestD) [bestD, best] = [d, [x0 + x + 0.5, y0 + y + 0.5]];
    }
  }
  return best;
}

/** SAM 2's prompts, in turn: a click (three masks), clicks + a negative (one mask), a box, a box and a click for two objects. */
function sam2Prompt(i: number, frame: SyntheticFrame, clicks: Click[]): Prompt {
  const o = frame.objects;
  const box = (k: number) => [o[k].box.x0, o[k].box.y0, o[k].box.x0 + o[k].box.w, o[k].box.y0 + o[k].box.h];
  const k = i % o.length;
  switch (i % 4) {
    case 0:
      return { points: [clicks[k]], labels: [1], multimaskOutput: true };
    case 1:
      return { points: [clicks[k], [2, 2]], labels: [1, 0], multimaskOutput: false };
    case 2:
      return { box: box(k), multimaskOutput: false };
    default: {
      const ks = [k, (k + 1) % o.length];
      return { points: ks.map((j) => [clicks[j]]), labels: ks.map(() => [1]), box: ks.map(box), multimaskOutput: true };
    }
  }
}

export interface SoakReport {
  predictions: number;
  trainSteps: number;
  frames: number;
  /** Median ms per prediction call of each predictor. */
  sam2MedianMs: number;
  rpsam2MedianMs: number;
  trainStepMedianMs: number;
  /** Steps at which a `last` checkpoint was seen written. */
  checkpointSteps: number[];
  /** Pool live bytes before loading anything, and after everything was disposed. */
  liveBytesBefore: number;
  liveBytesAfter: number;
  samples: SoakSample[];
  growth: Growth[];
  ok: boolean;
  seconds: number;
}

/** Runs the soak and returns its report (no printing beyond progress on `io.err`). */
export async function runSoak(args: Pick<SoakArgs, 'predictions' | 'trainSteps'>, io: RunIO = processIO): Promise<SoakReport> {
  await initNode();
  const backend = getBackend();
  const t0 = performance.now();
  const samples: SoakSample[] = [];
  // Synchronous (the trainer's progress callback is): the pool counts a buffer as free when its
  // tensor is disposed, not when the GPU is done with it, so no queue drain is needed.
  const sample = (phase: SoakSample['phase'], step: number) => {
    samples.push({ phase, step, t: (performance.now() - t0) / 1000, liveBytes: backend.stats().liveBytes, heapUsed: process.memoryUsage().heapUsed });
  };
  await backend.sync();
  const liveBytesBefore = backend.stats().liveBytes;

  // Frames of two sizes, so that switching images also changes the masks' size and the click transform.
  const frames = [0, 1, 2, 3].map((k) => renderSyntheticFrame({ width: k % 2 ? 320 : 256, height: k % 2 ? 240 : 192, seed: 9000 + k, classes: SYNTHETIC_CLASSES.slice(k, k + 2) }));
  const images: RgbImage[] = frames.map((f) => ({ width: f.width, height: f.height, channels: 3, data: f.rgb }));
  const clicks = frames.map((f) => f.objects.map(clickIn));

  const rp = await RpSam2Predictor.load();
  const sam2 = new Sam2ImagePredictor(rp.model);
  const sam2Ms: number[] = [];
  const rpMs: number[] = [];
  const trainMs: number[] = [];
  // Steps of the `last` checkpoints seen on disk (a save follows the progress report of its step).
  const checkpointSteps = new Set<number>();
  const sampleEvery = Math.max(1, Math.floor(args.predictions / 50));
  // Predictions per image before both predictors move to the next one.
  const perImage = 8;
  try {
    for (let i = 0; i < args.predictions; i++) {
      const f = Math.floor(i / perImage) % frames.length;
      if (i % perImage === 0) {
        await sam2.setImage(images[f]);
        await rp.setImage(images[f]);
      }
      const j = i >> 1;
      const t = performance.now();
      if (i % 2 === 0) {
        await sam2.predict(sam2Prompt(j, frames[f], clicks[f]));
        sam2Ms.push(performance.now() - t);
      } else {
        const cs = clicks[f];
        // One click, or all of the frame's objects in one batch.
        await (j % 2 ? rp.predict(cs) : rp.predict(cs[j % cs.length]));
        rpMs.push(performance.now() - t);
      }
      if ((i + 1) % sampleEvery === 0) sample('predict', i + 1);
      if ((i + 1) % 50 === 0) io.err(`soak: ${i + 1}/${args.predictions} predictions`);
    }
    // Training is measured on its own: the predictors' image features go first.
    sam2.resetImage();
    rp.resetImage();

    if (args.trainSteps > 0) {
      const out = mkdtempSync(join(tmpdir(), 'rpsam2-soak-'));
      const src = await OnTheFlySource.create(rp.model, syntheticShapes({ count: 4, height: 96, width: 128, objectsPerImage: [1, 2], seed: 11 }), { augment: { hflip: true, vflip: false, brightness: 0.2 }, gridStep: 16, epsilon: 0.005 });
      const checkpointEvery = Math.max(2, Math.floor(args.trainSteps / 5));
      const config = resolveTrainConfig({ out, mode: 'on-the-fly', epochs: 1000, maxSteps: args.trainSteps, batchSize: 2, clicksPerObject: 4, lr: 1e-4, checkpointEvery, val: { every: 1000 } });
      // A fresh block of the shipped block's sizes: training memory is what is measured, not its result.
      const block = new ShiftBlock(rp.shiftBlock.config).init(0);
      const readCheckpoint = () => {
        const path = join(out, 'checkpoints', 'last.json');
        if (existsSync(path)) checkpointSteps.add((JSON.parse(readFileSync(path, 'utf8')) as { state: { globalStep: number } }).state.globalStep);
      };
      const trainer = new Trainer({
        model: rp.model,
        block,
        train: src,
        val: null,
        config,
        out,
        onProgress: (p) => {
          trainMs.push(p.stepMs);
          sample('train', p.globalStep);
          readCheckpoint();
        },
      });
      try {
        const s = await trainer.run();
        if (s.state.globalStep !== args.trainSteps) throw new Error(`soak: training stopped after ${s.state.globalStep} of ${args.trainSteps} steps (${s.reason})`);
        readCheckpoint();
        if (!checkpointSteps.has(args.trainSteps)) throw new Error(`soak: no checkpoint of the last step (${args.trainSteps}) was written to ${out}`);
      } finally {
        trainer.dispose();
        src.dispose();
        block.dispose();
        rmSync(out, { recursive: true, force: true });
      }
    }
  } finally {
    sam2.dispose();
    rp.dispose();
  }
  await backend.sync();
  const liveBytesAfter = backend.stats().liveBytes;
  const growth = soakVerdict(samples);
  return {
    predictions: args.predictions,
    trainSteps: args.trainSteps,
    frames: frames.length,
    sam2MedianMs: median(sam2Ms),
    rpsam2MedianMs: median(rpMs),
    trainStepMedianMs: median(trainMs),
    checkpointSteps: [...checkpointSteps].sort((a, b) => a - b),
    liveBytesBefore,
    liveBytesAfter,
    samples,
    growth,
    ok: growth.every((g) => g.ok) && liveBytesAfter === liveBytesBefore,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Runs `bench soak`: 0 when nothing grew past its bound, 1 otherwise. */
export async function soakCommand(commandArgs: CommandArgs, io: RunIO = processIO): Promise<number> {
  const args = commandArgs as SoakArgs;
  const r = await runSoak(args, io);
  if (args.json) {
    io.out(JSON.stringify(r));
    return r.ok ? 0 : 1;
  }
  const training = r.trainSteps > 0 ? `, ${r.trainSteps} training steps (${r.trainStepMedianMs.toFixed(0)} ms median, checkpoints at steps ${r.checkpointSteps.join(', ')})` : ', no training';
  io.out(`soak: ${r.predictions} predictions (SAM 2 ${r.sam2MedianMs.toFixed(0)} ms, RP-SAM2 ${r.rpsam2MedianMs.toFixed(0)} ms median per call) over ${r.frames} frames${training} in ${r.seconds.toFixed(0)} s`);
  for (const l of formatSoakTable(r.samples)) io.out(l);
  for (const l of formatVerdict(r.growth)) io.out(l);
  io.out(`${r.liveBytesAfter === r.liveBytesBefore ? 'ok  ' : 'FAIL'} pool live bytes after disposing everything: ${r.liveBytesAfter} (before loading: ${r.liveBytesBefore})`);
  io.out(r.ok ? 'soak: ok' : 'soak: FAILED');
  return r.ok ? 0 : 1;
}
