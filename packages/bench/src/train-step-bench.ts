/**
 * `bench train-step [--json] [--sizes tiny256,paper] [--quick] [--repeat N]`: time of one RP-SAM2
 * training step — a batch of 4 objects × 10 clicks, SAM 2 frozen with cached features (no encoder
 * pass) — and its split: shift block forward and backward, SAM 2 decoder (prompt encoder + mask
 * decoder + compound loss) forward and backward, and the Adam update. The split comes from the
 * step itself (`forwardBackward` with `timing`: the GPU is synced between phases); the step time
 * is measured separately without those syncs. Medians of the repeats, after one warm-up step.
 *
 * Sizes:
 * - tiny256: the shared fixture's tiny SAM 2 (256 px) with its weights and the RP-SAM2 fixture's
 *   tiny shift block with its weights (d 32, FFN 64, 6 layers), 4 images encoded from random
 *   pixels;
 * - paper: SAM 2.1 tiny ('t', 1024 px, d 256) with random weights and random features, and the
 *   paper-size shift block (d 256, 8 heads, FFN 2048, 6 layers, 64×64 image tokens: 10,522,628
 *   parameters) with random (seeded) weights. Timings do not depend on weight values;
 * - default: the embedded default SAM 2 (512 px, d 64) and the paper's shift block at its width
 *   (the shipped block's architecture), random features, the paper's loss (Dice + Dist + Out);
 * - default-recipe: the same with the shipped block's loss (Dist + Out: no decoder pass).
 *
 * With `--json` only a JSON array goes to stdout.
 */
import { Adam, getBackend, noGrad, shutdown, tensor, tidy } from '@rpsam2/tensor';
import { initNode } from '@rpsam2/tensor/node';
import { readFileSync } from 'node:fs';
import { parseArgs as parseCommonArgs, type CommandArgs } from './args.js';
import { median } from './stats.js';
import { sharedFixtureDir } from './shared-fixtures.js';

export interface TrainStepBenchResult {
  id: string;
  size: string;
  sam2: string;
  imageSize: number;
  sam2Weights: 'fixture' | 'random' | 'default';
  shiftBlockWeights: 'fixture' | 'random';
  shiftBlockParameters: number;
  /** The loss terms of the step. */
  loss: string;
  objects: number;
  clicksPerObject: number;
  /** Clicks per decoder pass (whole objects). */
  decodeChunkClicks: number;
  adapter: string;
  /** Median wall time of a whole step (forward, backward, Adam), ms. */
  stepMs?: number;
  shiftFwdMs?: number;
  shiftBwdMs?: number;
  decoderFwdMs?: number;
  decoderBwdMs?: number;
  optimizerMs?: number;
  clicksPerSec?: number;
  /** First step (includes shader compilation), ms. */
  firstStepMs?: number;
  runs?: number;
  skipped?: string;
}

export interface TrainStepBenchArgs extends CommandArgs {
  sizes: string[];
}

const KNOWN = ['tiny256', 'paper', 'default', 'default-recipe'];
const OBJECTS = 4;
const CLICKS = 10;

export function parseTrainStepArgs(argv: readonly string[]): TrainStepBenchArgs {
  const rest: string[] = [];
  let sizes = [...KNOWN];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--sizes') {
      const v = argv[++i];
      if (v === undefined) throw new Error('--sizes needs a value');
      sizes = v.split(',').map((s) => s.trim()).filter(Boolean);
      const bad = sizes.filter((s) => !KNOWN.includes(s));
      if (bad.length || !sizes.length) throw new Error(`--sizes: unknown size(s) ${bad.join(', ') || "''"} (expected some of ${KNOWN.join(', ')})`);
    } else rest.push(argv[i]);
  }
  return { ...parseCommonArgs(rest), sizes };
}

function fixtures(kind: 'sam2' | 'rpsam2', name: string): string {
  return `${sharedFixtureDir(kind, kind === 'sam2' ? 'SAM2_FIXTURES' : 'RPSAM2_FIXTURES')}${name}/`;
}

const round = (x: number) => Math.round(x * 10) / 10;

type Rp = typeof import('@rpsam2/rpsam2');
type Sam2 = typeof import('@rpsam2/sam2');

/** An ellipse mask of h×w (object k of 4: different places), 0/1. */
function ellipseMask(h: number, w: number, k: number): Uint8Array {
  const m = new Uint8Array(h * w);
  const cx = w * (0.3 + 0.13 * k);
  const cy = h * (0.35 + 0.1 * k);
  const a = w * 0.18;
  const b = h * 0.12;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (((x - cx) / a) ** 2 + ((y - cy) / b) ** 2 <= 1) m[y * w + x] = 1;
  return m;
}

async function benchSize(rp: Rp, sam2: Sam2, size: string, args: TrainStepBenchArgs, adapter: string, log: (s: string) => void): Promise<TrainStepBenchResult> {
  const backend = getBackend();
  const repeats = args.repeat ?? (args.quick ? 1 : size === 'paper' ? 3 : 5);
  let model: import('@rpsam2/sam2').Sam2Model;
  let block: import('@rpsam2/rpsam2').ShiftBlock;
  let weights: { sam2: 'fixture' | 'random' | 'default'; shift: 'fixture' | 'random' };
  const features: import('@rpsam2/sam2').ImageFeatures[] = [];
  let hw: [number, number];
  if (size === 'tiny256') {
    const dir = fixtures('sam2', 'tiny256');
    const meta = JSON.parse(readFileSync(dir + 'meta.json', 'utf8'));
    const cfg = sam2.parseOfficialConfig({ ...meta.model_config, image_size: meta.image_size }, 'tiny256');
    model = (await sam2.loadSam2({ config: cfg, weights: dir + 'weights.safetensors' })).model;
    const ck = await rp.openCheckpoint(fixtures('rpsam2', 'tiny256') + 'shift_block.safetensors');
    block = await rp.loadShiftBlockFrom(ck);
    weights = { sam2: 'fixture', shift: 'fixture' };
    for (let i = 0; i < OBJECTS; i++) {
      const px = sam2.randomPixels(cfg.imageSize, i + 1);
      features.push(noGrad(() => tidy(() => model.forwardImage(px))));
      px.dispose();
    }
    hw = meta.orig_hw;
  } else {
    model = size === 'paper' ? (await sam2.loadSam2({ size: 't', weights: { random: { seed: 0 } } })).model : (await sam2.loadDefaultSam2()).model;
    block = new rp.ShiftBlock(rp.shiftBlockConfigFor('paper', model.dim, model.gridSize)).init(0);
    weights = { sam2: size === 'paper' ? 'random' : 'default', shift: 'random' };
    const g = model.gridSize;
    const c = model.dim;
    const rand = (shape: number[], seed: number) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const d = new Float32Array(n);
      let s = seed;
      for (let i = 0; i < n; i++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        d[i] = (s / 4294967296 - 0.5) * 2;
      }
      return tensor(d, shape);
    };
    for (let i = 0; i < OBJECTS; i++) {
      features.push({ imageEmbed: rand([1, c, g, g], 3 * i + 1), highRes: [rand([1, c / 8, 4 * g, 4 * g], 3 * i + 2), rand([1, c / 4, 2 * g, 2 * g], 3 * i + 3)] });
    }
    hw = [512, 512];
  }
  const chunk = rp.autoDecodeChunk(model);
  const loss = size === 'default-recipe' ? { useDice: false } : {};
  const base: TrainStepBenchResult = {
    id: `train-step-${size}`,
    size,
    sam2: model.cfg.name,
    imageSize: model.cfg.imageSize,
    sam2Weights: weights.sam2,
    shiftBlockWeights: weights.shift,
    shiftBlockParameters: block.paramCount(),
    loss: loss.useDice === false ? 'Dist+Out' : 'Dice+Dist+Out',
    objects: OBJECTS,
    clicksPerObject: CLICKS,
    decodeChunkClicks: Math.min(OBJECTS * CLICKS, Math.max(CLICKS, Math.floor(chunk / CLICKS) * CLICKS)),
    adapter,
  };
  block.setTrainable(true);
  const opt = new Adam(block.parameters(), { lr: 1e-4 });
  const targets = features.map((f, k) => {
    const mask = ellipseMask(hw[0], hw[1], k);
    const cands = Float32Array.from([0.3 + 0.13 * k, 0.35 + 0.1 * k, 0.32 + 0.13 * k, 0.36 + 0.1 * k]);
    return rp.makeTargets(model, f, hw, mask, cands);
  });
  try {
    log(`${base.id}: SAM 2 ${base.sam2} (${base.imageSize} px, ${weights.sam2} weights), shift block ${base.shiftBlockParameters.toLocaleString('en-US')} parameters (${weights.shift}); ${OBJECTS} objects × ${CLICKS} clicks, loss ${base.loss}, decoder chunks of ${base.decodeChunkClicks} clicks`);
    const batch = (r: number) => targets.map((t, k) => ({ target: t, clicks: rp.objectClicks(t.mask, hw[0], hw[1], CLICKS, 100 * r + k) }));
    // A whole step without phase syncs (the number to compare), then one with them (the split).
    const step = async (r: number, timing: boolean) => {
      await backend.sync();
      const t0 = performance.now();
      opt.zeroGrad();
      const res = await rp.forwardBackward(model, block, batch(r), { timing, loss });
      const t1 = performance.now();
      opt.step();
      await backend.sync();
      const t2 = performance.now();
      opt.zeroGrad();
      return { ms: t2 - t0, optMs: t2 - t1, res };
    };
    const first = await step(0, false);
    log(`${base.id}: first step ${round(first.ms)} ms (includes shader compilation)`);
    const steps: number[] = [];
    const split = { shiftFwd: [] as number[], shiftBwd: [] as number[], decoderFwd: [] as number[], decoderBwd: [] as number[], opt: [] as number[] };
    for (let r = 1; r <= repeats; r++) {
      steps.push((await step(r, false)).ms);
      const s = await step(r, true);
      const t = s.res.timings!;
      split.shiftFwd.push(t.shiftFwd);
      split.shiftBwd.push(t.shiftBwd);
      split.decoderFwd.push(t.decoderFwd);
      split.decoderBwd.push(t.decoderBwd);
      split.opt.push(s.optMs);
    }
    const r: TrainStepBenchResult = {
      ...base,
      stepMs: round(median(steps)),
      shiftFwdMs: round(median(split.shiftFwd)),
      shiftBwdMs: round(median(split.shiftBwd)),
      decoderFwdMs: round(median(split.decoderFwd)),
      decoderBwdMs: round(median(split.decoderBwd)),
      optimizerMs: round(median(split.opt)),
      clicksPerSec: round((OBJECTS * CLICKS * 1000) / median(steps)),
      firstStepMs: round(first.ms),
      runs: steps.length,
    };
    log(
      `${base.id}: step ${r.stepMs} ms (median of ${r.runs}; ${r.clicksPerSec} clicks/s) = shift block fwd ${r.shiftFwdMs} + bwd ${r.shiftBwdMs}, decoder fwd ${r.decoderFwdMs} + bwd ${r.decoderBwdMs}, Adam ${r.optimizerMs} ms`,
    );
    return r;
  } finally {
    targets.forEach((t) => rp.disposeTargets(t));
    for (const f of features) {
      f.imageEmbed.dispose();
      f.highRes[0].dispose();
      f.highRes[1].dispose();
    }
    opt.dispose();
    block.dispose();
    model.dispose();
  }
}

/** Runs `bench train-step`. */
export async function trainStepCommand(commandArgs: CommandArgs): Promise<number> {
  const args = commandArgs as TrainStepBenchArgs;
  if (!args.sizes) args.sizes = [...KNOWN];
  const log = (s: string) => (args.json ? process.stderr : process.stdout).write(`${s}\n`);
  const rp = await import('@rpsam2/rpsam2');
  const sam2 = await import('@rpsam2/sam2');
  const backend = await initNode();
  const a = backend.info.adapter;
  const adapter = a.description || a.device || a.vendor || 'unknown adapter';
  log(`adapter: ${adapter}; sizes ${args.sizes.join(', ')}; batch ${OBJECTS} objects × ${CLICKS} clicks, cached features`);
  const results: TrainStepBenchResult[] = [];
  let failed = 0;
  for (const size of args.sizes) {
    if (args.only && !size.includes(args.only)) continue;
    try {
      results.push(await benchSize(rp, sam2, size, args, adapter, log));
    } catch (e) {
      failed++;
      const msg = (e as Error).message.split('\n')[0];
      log(`failed train-step-${size}: ${msg}`);
      results.push({ id: `train-step-${size}`, size, sam2: '', imageSize: 0, sam2Weights: size === 'tiny256' ? 'fixture' : 'random', shiftBlockWeights: size === 'tiny256' ? 'fixture' : 'random', shiftBlockParameters: 0, loss: '', objects: OBJECTS, clicksPerObject: CLICKS, decodeChunkClicks: 0, adapter, skipped: `failed: ${msg}` });
    }
  }
  if (args.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  shutdown();
  return failed ? 1 : 0;
}
