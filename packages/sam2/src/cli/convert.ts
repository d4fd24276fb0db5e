/**
 * `sam2 convert in.pt out.safetensors [--f16] [--image-only] [--verify]`: a checkpoint (or a
 * safetensors file) to safetensors, written atomically; `--verify` reads the output back and
 * compares every tensor with the input.
 */
import { dirname, resolve } from 'node:path';
import { ensureOutputDir } from '@rpsam2/tensor/node';
import { convertWeightsFile, verifyConversion } from '../weights/convert-file.js';
import { formatBytes } from '../memory/estimate.js';
import { ms } from './args.js';
import { defineCommand, requireFile, UsageError, type CliIO, type Command, type OptionsTable, type ParsedCommand } from './shared.js';

export const CONVERT_USAGE = `usage: sam2 convert <in.pt|in.safetensors> <out.safetensors> [--f16] [--image-only] [--verify]

  --f16         store floating-point tensors as f16 (half the size; rounded to nearest even)
  --image-only  drop the video path's tensors (memory attention/encoder, object pointers)
  --verify      read the output back and compare every tensor with the input`;

/** The options of `sam2 convert` (see {@link CONVERT_USAGE}). */
const CONVERT_OPTIONS = {
  f16: { type: 'boolean', default: false },
  'image-only': { type: 'boolean', default: false },
  verify: { type: 'boolean', default: false },
} as const satisfies OptionsTable;

/** Runs `sam2 convert`; returns the exit status. */
export const convertCommand: Command = defineCommand({ command: 'sam2 convert', usage: CONVERT_USAGE, options: CONVERT_OPTIONS, allowPositionals: true }, runConvert);

async function runConvert({ values, positionals }: ParsedCommand<typeof CONVERT_OPTIONS>, io: CliIO): Promise<number> {
  if (positionals.length !== 2) throw new UsageError(`convert: expected an input and an output path, got ${positionals.length} argument(s)\n${CONVERT_USAGE}`);
  const [input, output] = positionals;
  await requireFile(input, 'convert:');
  // The output's folder is created (and checked writable) before the long conversion.
  await ensureOutputDir(dirname(resolve(output)));
  const dtype = values.f16 ? 'f16' : 'f32';
  const options = { dtype, imageOnly: values['image-only'] } as const;
  const r = await convertWeightsFile(input, output, options);
  io.out(`${r.output}: ${r.tensors} tensors from ${r.input} (${r.inputFormat}), ${dtype}, ${formatBytes(r.bytes)} in ${ms(r.ms)} ms`);
  if (values.verify) {
    const v = await verifyConversion(input, output, options);
    if (v.differing.length) {
      io.err(`verify: ${v.differing.length} of ${v.checked} tensors differ:`);
      for (const d of v.differing.slice(0, 20)) io.err(`  ${d}`);
      return 1;
    }
    io.out(`verify: all ${v.checked} tensors match${dtype === 'f16' ? ' (as rounded to f16)' : ' exactly'}`);
  }
  return 0;
}
