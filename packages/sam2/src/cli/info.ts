/**
 * `sam2 info`: the config, parameter counts per module, a memory estimate, optionally a check of
 * a weights file against the config (keys and shapes only, no GPU) and, with `--measure`, the
 * measured peak pool bytes of one encoder pass with random weights.
 */
import { packedAttentionUsesRegisterKernel } from '@rpsam2/tensor';
import { initNode } from '@rpsam2/tensor/node';
import type { Sam2Config } from '../config.js';
import { Sam2Model } from '../model/sam2-model.js';
import { estimateMemory, formatBytes, type MemoryEstimate } from '../memory/estimate.js';
import { measureEncoder, type EncoderMeasurement } from '../memory/measure.js';
import { checkWeights } from '../weights/load.js';
import { detectPrefix, inferSize, openWeights } from '../weights/source.js';
import { presetConfig } from '../config.js';
import { ms, resolveConfigArg } from './args.js';
import { choiceOption, defineCommand, intOption, requireFile, UsageError, type CliIO, type Command, type OptionsTable, type ParsedCommand } from './shared.js';

export const INFO_USAGE = `usage: sam2 info [--config <t|s|b+|l|config.yaml|config.json>] [--weights <file>] [--image-size N]
                 [--measure [--dtype f32|f16] [--repeats N]] [--json]

  --config      size name or .yaml/.json config (default: inferred from --weights)
  --weights     check a .pt/.safetensors file against the config (names and shapes; no data read)
  --image-size  override the config's image size (a multiple of 32) for the estimate and --measure
  --measure     run one encoder pass with random weights and report the measured peak pool bytes
  --dtype       weight storage for --measure (default f16: half the weight memory)
  --repeats     encoder passes for --measure (median time; default 1)
  --json        print one JSON object instead of text`;

/** What `info` reports (the --json output). */
export interface InfoResult {
  config: Sam2Config;
  estimate: MemoryEstimate;
  weights?: {
    path: string;
    format: string;
    prefix: string;
    tensors: number;
    inferredSize: string | null;
    imagePathKeys: number;
    videoKeys: number;
    missing: string[];
    unexpected: string[];
    mismatched: string[];
    matches: boolean;
  };
  measured?: EncoderMeasurement & { times: number[]; maxBinding: number };
}

const M = (n: number) => `${(n / 1e6).toFixed(2)} M`;

/** The options of `sam2 info` (see {@link INFO_USAGE}). */
const INFO_OPTIONS = {
  config: { type: 'string' },
  weights: { type: 'string' },
  'image-size': { type: 'string' },
  measure: { type: 'boolean', default: false },
  dtype: { type: 'string', default: 'f16' },
  repeats: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const satisfies OptionsTable;

/** Runs `sam2 info`; returns the exit status (1 when --weights do not match the config). */
export const infoCommand: Command = defineCommand({ command: 'sam2 info', usage: INFO_USAGE, options: INFO_OPTIONS }, runInfo);

async function runInfo({ values }: ParsedCommand<typeof INFO_OPTIONS>, io: CliIO): Promise<number> {
  if (!values.config && !values.weights) throw new UsageError(`info: give --config or --weights\n${INFO_USAGE}`);
  const dtype = choiceOption(values.dtype, 'dtype', ['f32', 'f16']);
  const repeats = intOption(values.repeats, 'repeats', 1);

  let cfg: Sam2Config | null = values.config ? await resolveConfigArg(values.config) : null;
  const result: Partial<InfoResult> = {};
  if (values.weights) {
    // A missing path is a usage error (2); a file that is there but malformed fails (1), as in predict and convert.
    await requireFile(values.weights, '--weights');
    const opened = await openWeights(values.weights);
    const keys = opened.source.keys();
    const prefix = detectPrefix(keys) ?? '';
    const inferred = inferSize(opened.source, prefix);
    if (!cfg) {
      if (!inferred) throw new UsageError(`info: ${values.weights} does not match an official size by its shapes; give --config`);
      cfg = presetConfig(inferred);
    }
    const check = checkWeights(new Sam2Model(cfg), opened.source, prefix);
    result.weights = {
      path: opened.label,
      format: opened.format,
      prefix,
      tensors: keys.length,
      inferredSize: inferred,
      imagePathKeys: keys.length - check.video.length - check.unexpected.length,
      videoKeys: check.video.length,
      missing: check.missing,
      unexpected: check.unexpected,
      mismatched: check.mismatched,
      matches: !check.missing.length && !check.unexpected.length && !check.mismatched.length,
    };
  }
  if (values['image-size'] !== undefined) {
    const s = intOption(values['image-size'], 'image-size', 0, 32);
    if (s % 32 !== 0) throw new UsageError(`--image-size ${s}: must be a multiple of 32`);
    cfg = { ...cfg!, imageSize: s };
  }
  result.config = cfg!;
  result.estimate = estimateMemory(cfg!);
  if (values.measure) {
    const backend = await initNode();
    if (!values.json) io.err(`measuring one encoder pass of ${cfg!.name} at ${cfg!.imageSize}×${cfg!.imageSize} with random ${dtype} weights on ${backend.info.adapter.description || backend.info.adapter.vendor} …`);
    const m = await measureEncoder(cfg!, { dtype, repeats });
    result.measured = { ...m, maxBinding: backend.maxBinding };
    // the estimate for this device: its binding limit, and no score matrices where its attention takes the register kernel
    result.estimate = estimateMemory(cfg!, cfg!.imageSize, backend.maxBinding, packedAttentionUsesRegisterKernel);
  }
  const r = result as InfoResult;
  if (values.json) io.out(JSON.stringify(r, null, 2));
  else printInfo(r, io);
  return r.weights && !r.weights.matches ? 1 : 0;
}

function printInfo(r: InfoResult, io: CliIO): void {
  const c = r.config;
  const t = c.trunk;
  const e = r.estimate;
  io.out(`config ${c.name}: image ${c.imageSize}×${c.imageSize}`);
  io.out(`  trunk (Hiera): embed ${t.embedDim}, heads ${t.numHeads}, stages [${t.stages}], global blocks [${t.globalAttBlocks}], windows [${t.windowSpec}]`);
  io.out(`  neck: d_model ${c.neck.dModel}, top-down levels [${c.neck.fpnTopDownLevels}]; decoder: ${c.maskDecoder === 'hq' ? "HQ-SAM2's (HQ token), " : ''}high-res features ${c.useHighResFeaturesInSam}, object scores ${c.predObjScores}`);
  io.out(`parameters (image path): ${e.parameters.toLocaleString('en-US')} (${M(e.parameters)})`);
  for (const m of e.modules) io.out(`  ${m.name.padEnd(22)} ${M(m.parameters).padStart(10)}`);
  io.out(`memory estimate at ${e.imageSize}×${e.imageSize} (bytes in the GPU buffer pool):`);
  io.out(`  weights                      f32 ${formatBytes(e.weightsF32)}, f16 ${formatBytes(e.weightsF16)}`);
  io.out(`  encoder activations (peak)   ${formatBytes(e.encoderActivations)}`);
  io.out(`  cached image features        ${formatBytes(e.features)}`);
  io.out(`  decoder activations (prompt) ${formatBytes(e.decoderActivations)}`);
  io.out(`  total peak                   f32 ${formatBytes(e.peakF32)}, f16 ${formatBytes(e.peakF16)}`);
  if (r.weights) {
    const w = r.weights;
    io.out(`weights ${w.path} (${w.format}${w.prefix ? `, prefix '${w.prefix}'` : ''}): ${w.tensors} tensors, ${w.imagePathKeys} image-path, ${w.videoKeys} video-path (skipped when loading); looks like size ${w.inferredSize ?? '(none)'}`);
    if (w.matches) io.out(`  matches ${c.name}`);
    else {
      io.out(`  does NOT match ${c.name}:`);
      const show = (what: string, l: string[]) => {
        if (!l.length) return;
        io.out(`  ${what} (${l.length}):`);
        for (const k of l.slice(0, 20)) io.out(`    ${k}`);
        if (l.length > 20) io.out(`    … and ${l.length - 20} more`);
      };
      show('missing keys', w.missing);
      show('shape mismatches', w.mismatched);
      show('unexpected keys', w.unexpected);
    }
  }
  if (r.measured) {
    const m = r.measured;
    io.out(`measured (random ${m.dtype} weights, one pass at ${m.imageSize}×${m.imageSize}):`);
    io.out(`  peak pool bytes   ${m.peakBytes.toLocaleString('en-US')} (${formatBytes(m.peakBytes)})`);
    io.out(`  weights           ${formatBytes(m.weightBytes)}; activations ${formatBytes(m.activationBytes)} (estimate ${formatBytes(e.encoderActivations)})`);
    io.out(`  encoder time      ${ms(m.ms)} ms${m.times.length > 1 ? ` (median of ${m.times.length}: ${m.times.map((x) => ms(x)).join(', ')})` : ' (includes pipeline compilation)'}`);
    io.out(`  outputs           ${m.shapes.map((s) => `[${s}]`).join(' ')}, ${m.finite ? 'all finite' : 'NOT all finite'}`);
  }
}
