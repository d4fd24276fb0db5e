/**
 * Runs op-vector folders (the format of the shared `ops` fixtures: `ops.json` with the cases,
 * `ops.safetensors` with `cK.in0…`, `cK.out`, `cK.upstream`, `cK.grad0…`) through the library,
 * forward and backward, and compares with the project's tolerances. Used by `pnpm check-ops`
 * (Node) and by the browser test.
 */
import { tensor } from '../ops/creation.js';
import { backward } from '../autograd/backward.js';
import { tidy } from '../scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { sizeOf, fmtShape } from '../tensor/shape.js';
import type { SafetensorsFile } from '../io/safetensors.js';
import { OP_ADAPTERS, type OpCase } from './adapters/index.js';
import { GRAD_TOL, forwardPasses, maxAbsError, relL2Error } from './tolerance.js';

export interface CaseResult {
  key: string;
  name: string;
  op: string;
  passed: boolean;
  /** Max abs forward error and the reference's max |value|. */
  forward?: { err: number; scale: number };
  /** Relative L2 error of each checked gradient, by input index. */
  grads: { input: number; err: number }[];
  /** Why the case failed to run (unsupported op, shape mismatch, GPU error). */
  error?: string;
  ms: number;
}

/** What `check-ops --json` prints: the adapter, the counts and every case's result. */
export interface OpVectorsRun {
  adapter: string;
  /** The op-vector folder that was run. */
  dir: string;
  /** The `--filter` in effect, if any. */
  filter?: string;
  passed: number;
  failed: number;
  /** GPU bytes still allocated after the run (0 when nothing leaked). */
  liveBytes: number;
  cases: CaseResult[];
}

/** Parses and validates an `ops.json` document. */
export function parseOpCases(json: unknown, label = 'ops.json'): OpCase[] {
  const cases = (json as { cases?: unknown })?.cases;
  if (!Array.isArray(cases)) throw new Error(`${label}: expected an object with a "cases" array`);
  cases.forEach((c, i) => {
    for (const f of ['key', 'op', 'n_inputs', 'grads'] as const) {
      if (c?.[f] === undefined) throw new Error(`${label}: case ${i} has no "${f}"`);
    }
  });
  return cases as OpCase[];
}

/** Shapes agree, treating a scalar and a one-element vector as the same. */
function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (sizeOf(a) !== sizeOf(b)) return false;
  if (a.length === b.length) return a.every((d, i) => d === b[i]);
  return sizeOf(a) === 1;
}

/** Runs one case. Every tensor it makes is disposed before it returns. */
export async function runOpCase(c: OpCase, file: SafetensorsFile): Promise<CaseResult> {
  const t0 = performance.now();
  const result: CaseResult = { key: c.key, name: c.name ?? c.key, op: c.op, passed: false, grads: [], ms: 0 };
  const owned: Tensor[] = [];
  try {
    const adapter = OP_ADAPTERS[c.op];
    if (!adapter) throw new Error(`unsupported op '${c.op}'`);
    const inputs: Tensor[] = [];
    for (let k = 0; k < c.n_inputs; k++) {
      const name = `${c.key}.in${k}`;
      const e = file.entry(name);
      const isInt = e.dtype !== 'F32' && e.dtype !== 'F16' && e.dtype !== 'BF16' && e.dtype !== 'F64';
      const t = isInt
        ? tensor(await file.readI32(name), e.shape, { dtype: 'i32', name: `in${k}` })
        : tensor(await file.readF32(name), e.shape, { name: `in${k}`, requiresGrad: c.grads.includes(k) });
      inputs.push(t);
      owned.push(t);
    }
    const out = tidy(() => adapter(inputs, c.args ?? {}, c));
    owned.push(out);
    const outEntry = file.entry(`${c.key}.out`);
    if (!sameShape(out.shape, outEntry.shape)) {
      throw new Error(`output shape ${fmtShape(out.shape)} differs from the reference ${fmtShape(outEntry.shape)}`);
    }
    result.forward = maxAbsError(await out.data(), await file.readF32(`${c.key}.out`));
    let ok = forwardPasses(result.forward);
    const floatGrads = c.grads.filter((k) => !inputs[k].dtype.startsWith('i'));
    if (floatGrads.length) {
      if (!out.requiresGrad) throw new Error('output does not require grad although the case checks gradients');
      const up = tensor(await file.readF32(`${c.key}.upstream`), out.shape);
      owned.push(up);
      backward(out, { grad: up });
      for (const k of floatGrads) {
        const g = inputs[k].grad;
        const err = relL2Error(g ? await g.data() : null, await file.readF32(`${c.key}.grad${k}`));
        result.grads.push({ input: k, err });
        ok &&= err <= GRAD_TOL;
      }
    }
    result.passed = ok;
  } catch (e) {
    result.error = (e as Error).message.split('\n')[0];
  } finally {
    for (const t of owned) t.dispose();
    result.ms = performance.now() - t0;
  }
  return result;
}

/** One line per case: status, key, name, errors. */
export function formatCaseResult(r: CaseResult): string {
  const status = r.passed ? 'PASS' : 'FAIL';
  const fwd = r.forward ? ` fwd ${r.forward.err.toExponential(2)} (scale ${r.forward.scale.toPrecision(3)})` : '';
  const grads = r.grads.map((g) => ` grad${g.input} ${g.err.toExponential(2)}`).join('');
  return `${status} ${r.key.padEnd(4)} ${r.name.padEnd(44)}${fwd}${grads}${r.error ? ` error: ${r.error}` : ''} [${r.ms.toFixed(0)} ms]`;
}
