/**
 * Shared pieces of the `rpsam2` CLI: the click parser and the SAM 2 weights/config resolution.
 * The plumbing it shares with the `sam2` CLI (output streams, usage errors with exit status 2,
 * `parseArgs`, number options, input checks that fail early naming the file) comes from
 * `@rpsam2/sam2/cli`, re-exported here.
 */
import { defaultModelNotice, defaultModelSpec, readSam2ConfigArg, type Sam2Config } from '@rpsam2/sam2';
import { requireFile, UsageError, type CliIO } from '@rpsam2/sam2/cli';

export { requireFile, requirePath, UsageError, type CliIO } from '@rpsam2/sam2/cli';

/** A click `x,y` in pixels. */
export function parsePoint(text: string): [number, number] {
  const parts = text.split(',').map((s) => s.trim());
  const v = parts.map(Number);
  if (parts.length !== 2 || parts.some((p) => p === '') || v.some((x) => !Number.isFinite(x))) {
    throw new UsageError(`--point '${text}': expected x,y in pixels, e.g. 120,200`);
  }
  return [v[0], v[1]];
}

/**
 * A SAM 2 config from a size name (t, s, b+, l, …) or a config file in the official layout (the
 * Hydra YAML, the same as JSON, or a fixture's meta.json; see `readSam2ConfigArg`); '' or
 * undefined: infer from the weights (returns undefined). Every problem is a usage error.
 */
export async function resolveSam2Config(arg: string | undefined): Promise<Sam2Config | undefined> {
  if (!arg) return undefined;
  try {
    return await readSam2ConfigArg(arg);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** A file name without its directory. */
export function baseName(p: string): string {
  return p.replace(/^.*[/\\]/, '');
}

/**
 * The SAM 2 weights and config a command runs with: the given file (checked) and config, or —
 * when no weights are given — the embedded default model, announced on stderr.
 */
export async function resolveSam2Source(
  weightsArg: string | undefined,
  configArg: string | undefined,
  flag: string,
  io: CliIO,
): Promise<{ weights: string; config: Sam2Config | undefined; isDefault: boolean }> {
  if (!weightsArg) {
    const d = await defaultModelSpec();
    io.err(defaultModelNotice(d.card));
    return { weights: d.weights, config: configArg ? await resolveSam2Config(configArg) : d.config, isDefault: true };
  }
  const weights = await requireFile(weightsArg, flag, 'the SAM 2 checkpoint (.pt or .safetensors)');
  return { weights, config: await resolveSam2Config(configArg), isDefault: false };
}
