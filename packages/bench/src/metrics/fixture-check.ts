/**
 * Checks the metrics against a reference folder in the format of `../shared/fixtures/metrics`:
 * `metrics.json` (`cases: [{name, key, dice, hd95, hd95_pooled}]`, `null` where a mask is empty)
 * and `masks.safetensors` (`<key>.pred`, `<key>.gt`: 2-D masks, any non-zero value foreground).
 * Used by `check-metrics` and the tests.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SafetensorsFile, bytesSource } from '@rpsam2/tensor';
import type { BinaryMask } from '@rpsam2/data';
import { maskMetrics, type MaskMetrics } from './mask-metrics.js';

/** Tolerances (absolute) of the acceptance criteria. */
export const METRIC_TOLERANCE = { dice: 1e-6, hd95: 1e-3 } as const;

/** One reference case as `metrics.json` lists it. */
export interface MetricsReferenceCase {
  name: string;
  key: string;
  dice?: number | null;
  hd95?: number | null;
  hd95_pooled?: number | null;
}

/** The comparison of one metric. */
export interface MetricCheck {
  metric: 'dice' | 'hd95' | 'hd95_pooled';
  value: number;
  /** The reference; null when the reference has no value (an empty mask): the policy applies. */
  reference: number | null;
  error?: number;
  ok: boolean;
  note?: string;
}

/** The outcome for one case. */
export interface CaseCheck {
  name: string;
  key: string;
  ok: boolean;
  width?: number;
  height?: number;
  metrics?: MaskMetrics;
  checks: MetricCheck[];
  /** Why the case could not be computed (missing tensors, bad shapes). */
  error?: string;
}

/** Reads the folder and checks every case (optionally only those whose name or key contains `filter`). */
export async function checkMetricsFolder(dir: string, options: { filter?: string } = {}): Promise<CaseCheck[]> {
  const jsonPath = join(dir, 'metrics.json');
  const tensorsPath = join(dir, 'masks.safetensors');
  let spec: unknown;
  try {
    spec = JSON.parse(await readFile(jsonPath, 'utf8'));
  } catch (e) {
    throw new Error(`${jsonPath}: cannot read (${(e as Error).message})`);
  }
  const cases = (spec as { cases?: unknown }).cases;
  if (!Array.isArray(cases)) throw new Error(`${jsonPath}: expected a 'cases' array`);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(tensorsPath));
  } catch (e) {
    throw new Error(`${tensorsPath}: cannot read (${(e as Error).message})`);
  }
  const file = await SafetensorsFile.open(bytesSource(bytes, tensorsPath));
  const out: CaseCheck[] = [];
  for (const [i, raw] of cases.entries()) {
    const c = raw as MetricsReferenceCase;
    const key = typeof c?.key === 'string' ? c.key : `case${i}`;
    const name = typeof c?.name === 'string' ? c.name : key;
    if (options.filter && !name.includes(options.filter) && !key.includes(options.filter)) continue;
    out.push(await checkCase(file, { ...c, key, name }));
  }
  return out;
}

async function checkCase(file: SafetensorsFile, c: MetricsReferenceCase): Promise<CaseCheck> {
  let pred: BinaryMask;
  let gt: BinaryMask;
  try {
    pred = await readMask(file, `${c.key}.pred`);
    gt = await readMask(file, `${c.key}.gt`);
    if (pred.width !== gt.width || pred.height !== gt.height) {
      throw new Error(`pred is ${pred.width}×${pred.height} but gt is ${gt.width}×${gt.height}`);
    }
  } catch (e) {
    return { name: c.name, key: c.key, ok: false, checks: [], error: (e as Error).message };
  }
  const m = maskMetrics(pred, gt);
  const checks: MetricCheck[] = [];
  const policyNote = m.empty === 'none' ? undefined : `${m.empty === 'both' ? 'both masks' : m.empty} empty: project policy`;
  const compare = (metric: MetricCheck['metric'], value: number, ref: number | null | undefined, tol: number) => {
    if (ref === undefined) return; // not in the reference
    if (ref === null) {
      // No reference value: valid only where a mask is empty, and then the policy's value holds.
      const ok = m.empty !== 'none';
      checks.push({ metric, value, reference: null, ok, note: ok ? policyNote : 'reference is null but neither mask is empty' });
      return;
    }
    if (typeof ref !== 'number' || !Number.isFinite(ref)) {
      checks.push({ metric, value, reference: null, ok: false, note: `reference value ${JSON.stringify(ref)} is not a number` });
      return;
    }
    const error = Math.abs(value - ref);
    checks.push({ metric, value, reference: ref, error, ok: error <= tol, note: policyNote });
  };
  compare('dice', m.dice, c.dice, METRIC_TOLERANCE.dice);
  compare('hd95', m.hd95, c.hd95, METRIC_TOLERANCE.hd95);
  compare('hd95_pooled', m.hd95Pooled, c.hd95_pooled, METRIC_TOLERANCE.hd95);
  const ok = checks.length > 0 && checks.every((k) => k.ok);
  return { name: c.name, key: c.key, ok, width: pred.width, height: pred.height, metrics: m, checks, error: checks.length ? undefined : 'no reference values' };
}

/** A mask tensor: 2-D, or 3-D/4-D with singleton dimensions; any non-zero value is foreground. */
async function readMask(file: SafetensorsFile, name: string): Promise<BinaryMask> {
  if (!file.has(name)) throw new Error(`no tensor '${name}' in ${file.label}`);
  const e = file.entry(name);
  // [H, W], or with leading / trailing singleton dimensions ([1, H, W], [H, W, 1], …).
  const shape = [...e.shape];
  while (shape.length > 2 && shape[0] === 1) shape.shift();
  while (shape.length > 2 && shape[shape.length - 1] === 1) shape.pop();
  if (shape.length !== 2 || shape[0] < 1 || shape[1] < 1) throw new Error(`'${name}' has shape [${e.shape}], expected a 2-D mask [H, W]`);
  const [height, width] = shape;
  const n = width * height;
  const data = new Uint8Array(n);
  if (e.dtype === 'U8' || e.dtype === 'BOOL' || e.dtype === 'I8') {
    const b = await file.readBytes(name);
    for (let i = 0; i < n; i++) data[i] = b[i] !== 0 ? 1 : 0;
  } else {
    const f = await file.readF32(name);
    for (let i = 0; i < n; i++) data[i] = f[i] !== 0 ? 1 : 0;
  }
  return { width, height, data };
}

/** One line per case, as `check-metrics` prints it. */
export function formatCaseCheck(c: CaseCheck): string {
  const head = `${c.ok ? 'PASS' : 'FAIL'}  ${c.name} (${c.key})`;
  if (c.error && c.checks.length === 0) return `${head}  error: ${c.error}`;
  const parts = c.checks.map((k) => {
    const v = k.metric === 'dice' ? k.value.toFixed(8) : k.value.toFixed(6);
    if (k.reference === null) return `${k.metric} ${v} (ref null${k.note ? `; ${k.note}` : ''})`;
    return `${k.metric} ${v} (Δ ${k.error!.toExponential(1)}${k.ok ? '' : ' > tol'})`;
  });
  const note = c.metrics && c.metrics.empty !== 'none' && c.checks.every((k) => k.reference !== null) ? `  [${c.metrics.empty} empty]` : '';
  return `${head}  ${parts.join('  ')}${note}`;
}
