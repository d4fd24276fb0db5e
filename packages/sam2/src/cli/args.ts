/**
 * The `sam2` CLI's own option parsers: points, boxes and `--config`. The plumbing it shares
 * with the `rpsam2` CLI (streams, usage errors, `parseArgs`, number options, input checks) is
 * in shared.ts (`@rpsam2/sam2/cli`).
 */
import type { Sam2Config } from '../config.js';
import { readSam2ConfigArg } from '../config-file.js';
import { UsageError } from './shared.js';

export { consoleIO, UsageError, type CliIO } from './shared.js';

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
 * `--config`: an official size name (t, s, b+, l, tiny, small, base_plus, large) or a config
 * file in the official layout — the Hydra YAML, the same as JSON, or a fixture's meta.json
 * (see `readSam2ConfigArg`). Every problem is a usage error (exit status 2).
 */
export async function resolveConfigArg(arg: string): Promise<Sam2Config> {
  try {
    return await readSam2ConfigArg(arg);
  } catch (e) {
    throw new UsageError(`--config: ${(e as Error).message}`);
  }
}

/** ms with one decimal. */
export const ms = (t: number) => Math.round(t * 10) / 10;
