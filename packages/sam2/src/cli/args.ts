/**
 * Shared pieces of the `sam2` CLI: output streams (so commands run as functions in tests),
 * usage errors, and the parsers for points, boxes and `--config`.
 */
import { readFile } from 'node:fs/promises';
import { parseOfficialConfig, presetConfig, validateConfig, type Sam2Config } from '../config.js';

/** Where a command writes: stdout lines (results) and stderr lines (progress, errors). */
export interface CliIO {
  out(line: string): void;
  err(line: string): void;
}

/** The process streams. */
export const consoleIO: CliIO = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (l) => process.stderr.write(l + '\n'),
};

/** A bad invocation: printed without a stack, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function numbers(text: string, what: string, example: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const vals = parts.map(Number);
  if (parts.some((p) => p === '') || vals.some((v) => !Number.isFinite(v))) {
    throw new UsageError(`${what} '${text}': expected numbers separated by commas, e.g. ${example}`);
  }
  return vals;
}

/** A click `x,y[,label]` (label 1 = positive, default; 0 = negative). */
export function parsePoint(text: string): { x: number; y: number; label: 0 | 1 } {
  const v = numbers(text, '--point', '120,200 or 120,200,0');
  if (v.length !== 2 && v.length !== 3) throw new UsageError(`--point '${text}': expected x,y or x,y,label (got ${v.length} numbers)`);
  const label = v.length === 3 ? v[2] : 1;
  if (label !== 0 && label !== 1) throw new UsageError(`--point '${text}': the label must be 1 (positive) or 0 (negative), got ${label}`);
  return { x: v[0], y: v[1], label };
}

/** A box `x0,y0,x1,y1` with x0 ≤ x1 and y0 ≤ y1. */
export function parseBox(text: string): [number, number, number, number] {
  const v = numbers(text, '--box', '10,20,200,180');
  if (v.length !== 4) throw new UsageError(`--box '${text}': expected x0,y0,x1,y1 (got ${v.length} numbers)`);
  if (v[2] < v[0] || v[3] < v[1]) throw new UsageError(`--box '${text}': needs x0 ≤ x1 and y0 ≤ y1`);
  return v as [number, number, number, number];
}

/**
 * `--config`: an official size name (t, s, b+, l, tiny, small, base_plus, large) or a JSON file
 * in the official layout (the yaml's `model:` section as JSON; a fixture's meta.json works too:
 * its top-level `image_size` wins).
 */
export async function resolveConfigArg(arg: string): Promise<Sam2Config> {
  if (!/[/\\]|\.json$|\.ya?ml$/i.test(arg)) {
    try {
      return presetConfig(arg);
    } catch (e) {
      throw new UsageError(`--config: ${(e as Error).message}, or a path to a JSON config`);
    }
  }
  if (/\.ya?ml$/i.test(arg)) throw new UsageError(`--config ${arg}: YAML is not read; convert the config to JSON (same layout) first`);
  let text: string;
  try {
    text = await readFile(arg, 'utf8');
  } catch (e) {
    throw new UsageError(`--config ${arg}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--config ${arg}: not valid JSON (${(e as Error).message})`);
  }
  const model = (json.model_config ?? json.model ?? json) as Record<string, unknown>;
  const withSize = typeof json.image_size === 'number' && json.model_config ? { ...model, image_size: json.image_size } : model;
  const name = arg.replace(/^.*[/\\]/, '').replace(/\.json$/i, '');
  const cfg = parseOfficialConfig(withSize, name);
  validateConfig(cfg);
  return cfg;
}

/** An integer option ≥ min. */
export function parseIntOption(text: string | undefined, name: string, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isInteger(v) || v < min) throw new UsageError(`--${name} '${text}': expected an integer ≥ ${min}`);
  return v;
}

/** ms with one decimal. */
export const ms = (t: number) => Math.round(t * 10) / 10;
