/**
 * `bench sam2 [--json] [--sizes tiny1024,t,l,default] [--dtype f32|f16] [--quick] [--repeat N]`:
 * the SAM 2 image path per size: encoder time per image and decoder time per prompt (medians),
 * the pool's peak bytes during the encoder pass, and the load time. `tiny1024` is the shared
 * fixture's tiny model at 1024 with its real weights; t, s, b+, l are the official configs with
 * random weights (timings do not depend on weight values); `default` is the embedded default model
 * (512 px) with its weights, its prompt and full predict at a 1024×768 frame's size (the synthetic
 * frames', so "full predict" is the click-to-mask latency of the labeling page and `pnpm bench`).
 * With `--json` only a JSON array goes to stdout.
 *
 * On a software adapter (lavapipe) the large sizes take minutes per encoder pass: a size whose
 * first (warm-up) pass took over 60 s is not repeated, and its encoder time is that first pass
 * (which includes shader compilation), flagged `encoderSingleRun`.
 */
import { getBackend, noGrad, shutdown, tidy } from '@rpsam2/tensor';
import { initNode } from '@rpsam2/tensor/node';
import { readFileSync } from 'node:fs';
// Types only: the module is imported when the command runs, so that the other bench commands
// do not need @rpsam2/sam2 installed.
import type { Sam2Config } from '@rpsam2/sam2';
import { parseArgs as parseCommonArgs, type CommandArgs } from './args.js';
import { median } from './stats.js';
import { sharedFixtureDir } from './shared-fixtures.js';

/** One size's result (the JSON output is an array of these). */
export interface Sam2BenchResult {
  id: string;
  size: string;
  config: string;
  imageSize: number;
  weights: 'fixture' | 'random' | 'default';
  dtype: 'f32' | 'f16';
  adapter: string;
  parameters?: number;
  loadMs?: number;
  /** Median encoder time per image (ms), readback of the embedding included. */
  encoderMs?: number;
  encoderRuns?: number;
  /** First encoder pass (includes shader compilation). */
  encoderFirstMs?: number;
  /** True when the first pass was slow enough that it is the only one (encoderMs = encoderFirstMs). */
  encoderSingleRun?: boolean;
  /** Pool peak bytes during an encoder pass (weights included). */
  peakBytes?: number;
  weightBytes?: number;
  /** Median decoder time per prompt (1 click, 3 masks; prompt encoder + mask decoder, low-res output). */
  decoderMs?: number;
  /** Median time of a full `predict` (decoder + upsampling to the image size + readback). */
  predictMs?: number;
  decoderRuns?: number;
  skipped?: string;
}

export interface Sam2BenchArgs extends CommandArgs {
  sizes: string[];
  dtype: 'f32' | 'f16';
}

const DEFAULT_SIZES = ['tiny1024', 't'];
const KNOWN = ['tiny1024', 'tiny256', 't', 's', 'b+', 'l', 'default'];
/** The frame size whose prompts and masks the `default` size times (the synthetic frames'). */
const DEFAULT_FRAME: [number, number] = [768, 1024];
const SINGLE_RUN_MS = 60_000;

/** The common flags plus `--sizes a,b,c` and `--dtype f32|f16`. */
export function parseSam2BenchArgs(argv: readonly string[]): Sam2BenchArgs {
  const rest: string[] = [];
  let sizes = DEFAULT_SIZES;
  let dtype: 'f32' | 'f16' = 'f32';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--sizes' || a === '--dtype') {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      if (a === '--dtype') {
        if (v !== 'f32' && v !== 'f16') throw new Error(`--dtype needs f32 or f16, got '${v}'`);
        dtype = v;
      } else {
        sizes = v.split(',').map((s) => s.trim()).filter(Boolean);
        const bad = sizes.filter((s) => !KNOWN.includes(s));
        if (bad.length || !sizes.length) throw new Error(`--sizes: unknown size(s) ${bad.join(', ') || "''"} (expected some of ${KNOWN.join(', ')})`);
      }
    } else rest.push(a);
  }
  return { ...parseCommonArgs(rest), sizes, dtype };
}

/** A SAM 2 fixture's folder in the shared fixtures (next to the repository), or in $SAM2_FIXTURES. */
export function fixtureDir(name: string): string {
  return `${sharedFixtureDir('sam2', 'SAM2_FIXTURES')}${name}/`;
}

const round = (x: number) => Math.round(x * 10) / 10;

type Sam2Module = typeof import('@rpsam2/sam2');

/** The model config of a SAM 2 fixture (`tiny1024`, `tiny256`): its meta.json, at its image size. */
export function fixtureConfig(sam2: Sam2Module, size: string): Sam2Config {
  const meta = JSON.parse(readFileSync(fixtureDir(size) + 'meta.json', 'utf8'));
  return sam2.parseOfficialConfig({ ...meta.model_config, image_size: meta.image_size ?? meta.model_config.image_size }, size);
}

async function benchSize(sam2: Sam2Module, size: string, args: Sam2BenchArgs, adapter: string, log: (s: string) => void): Promise<Sam2BenchResult> {
  const { loadSam2, loadDefaultSam2, presetConfig, randomPixels, Sam2ImagePredictor } = sam2;
  const backend = getBackend();
  const fixture = size.startsWith('tiny');
  const embedded = size === 'default';
  const repeats = args.repeat ?? (args.quick ? 1 : 3);
  const t0 = performance.now();
  const { model, report } = embedded
    ? await loadDefaultSam2({ dtype: args.dtype })
    : await loadSam2({ config: fixture ? fixtureConfig(sam2, size) : presetConfig(size), weights: fixture ? fixtureDir(size) + 'weights.safetensors' : { random: { seed: 0 } }, dtype: args.dtype });
  const loadMs = performance.now() - t0;
  const cfg: Sam2Config = model.cfg;
  const base: Sam2BenchResult = { id: `sam2-${size}`, size, config: cfg.name, imageSize: cfg.imageSize, weights: embedded ? 'default' : fixture ? 'fixture' : 'random', dtype: args.dtype, adapter };
  // Prompts and full-size masks at the model's input size, or at the frame size of the default model's data.
  const [fh, fw] = embedded ? DEFAULT_FRAME : [cfg.imageSize, cfg.imageSize];
  const predictor = new Sam2ImagePredictor(model);
  const pixels = randomPixels(cfg.imageSize);
  try {
    log(`${base.id}: loaded ${report.parameters.toLocaleString('en-US')} parameters (${report.format}, ${args.dtype}) in ${round(loadMs)} ms; encoding at ${cfg.imageSize}×${cfg.imageSize} …`);
    // Encoder: the first pass compiles the pipelines; later passes are timed.
    const encode = async () => {
      await backend.sync();
      backend.pool.resetPeak();
      const t = performance.now();
      const f = noGrad(() => tidy(() => model.forwardImage(pixels)));
      await f.imageEmbed.data();
      return { ms: performance.now() - t, f, peak: backend.stats().peakBytes };
    };
    const first = await encode();
    let features = first.f;
    let peakBytes = first.peak;
    const runs: number[] = [];
    if (first.ms <= SINGLE_RUN_MS) {
      for (let i = 0; i < repeats; i++) {
        const r = await encode();
        runs.push(r.ms);
        peakBytes = Math.max(peakBytes, r.peak);
        features.imageEmbed.dispose();
        for (const h of features.highRes) h.dispose();
        features = r.f;
      }
    }
    const encoderMs = runs.length ? median(runs) : first.ms;
    log(`${base.id}: encoder ${round(encoderMs)} ms (${runs.length ? `median of ${runs.length}, ` : 'single run, '}first ${round(first.ms)} ms), peak ${(peakBytes / 2 ** 20).toFixed(1)} MiB`);

    // Decoder: one positive click, three masks, on the cached features.
    predictor.setFeatures(features, [fh, fw]);
    const prompt = { points: [[fw * 0.4, fh * 0.55]], labels: [1], multimaskOutput: true };
    const decode = async () => {
      await backend.sync();
      const t = performance.now();
      const out = noGrad(() => tidy(() => predictor.decode(prompt).lowRes));
      await backend.sync();
      const ms = performance.now() - t;
      out.dispose();
      return ms;
    };
    const decRepeats = args.repeat ?? (args.quick ? 3 : 10);
    await decode();
    const dec: number[] = [];
    for (let i = 0; i < decRepeats; i++) dec.push(await decode());
    const pred: number[] = [];
    for (let i = 0; i < Math.max(1, Math.min(3, decRepeats)); i++) {
      const t = performance.now();
      await predictor.predict(prompt);
      pred.push(performance.now() - t);
    }
    const r: Sam2BenchResult = {
      ...base,
      parameters: report.parameters,
      loadMs: round(loadMs),
      encoderMs: round(encoderMs),
      encoderRuns: runs.length || 1,
      encoderFirstMs: round(first.ms),
      encoderSingleRun: runs.length === 0,
      peakBytes,
      weightBytes: report.weightBytes,
      decoderMs: round(median(dec)),
      predictMs: round(median(pred)),
      decoderRuns: dec.length,
    };
    log(`${base.id}: decoder ${r.decoderMs} ms per prompt (median of ${dec.length}), full predict ${r.predictMs} ms`);
    return r;
  } finally {
    pixels.dispose();
    predictor.dispose();
    model.dispose();
  }
}

/** Runs `bench sam2`. */
export async function sam2Command(commandArgs: CommandArgs): Promise<number> {
  const args = commandArgs as Sam2BenchArgs;
  if (!args.sizes) Object.assign(args, { sizes: DEFAULT_SIZES, dtype: 'f32' });
  const log = (s: string) => (args.json ? process.stderr : process.stdout).write(`${s}\n`);
  const sam2 = await import('@rpsam2/sam2');
  const backend = await initNode();
  const a = backend.info.adapter;
  const adapter = a.description || a.device || a.vendor || 'unknown adapter';
  log(`adapter: ${adapter}; sizes ${args.sizes.join(', ')}; weights ${args.dtype}; max binding ${backend.maxBinding} bytes`);
  const results: Sam2BenchResult[] = [];
  let failed = 0;
  for (const size of args.sizes) {
    try {
      results.push(await benchSize(sam2, size, args, adapter, log));
    } catch (e) {
      failed++;
      const msg = (e as Error).message.split('\n')[0];
      log(`failed sam2-${size}: ${msg}`);
      results.push({ id: `sam2-${size}`, size, config: size, imageSize: 0, weights: size.startsWith('tiny') ? 'fixture' : 'random', dtype: args.dtype, adapter, skipped: `failed: ${msg}` });
    }
  }
  if (args.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  shutdown();
  return failed ? 1 : 0;
}
