/**
 * The layering of the tensor package (issue #21): `kernels/` holds pure WGSL generators (no
 * tensors, no runtime, no dispatch); `ops/` (and `optim/`) allocate, dispatch and record
 * gradients and write no WGSL of their own; `nn/` (Module, layers, init) builds on ops and
 * tensors only; the package imports no other workspace package (it is the bottom layer: sam2 and
 * rpsam2 build on it, never the reverse); the ops that record gradients are listed once.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { GRADIENT_OPS, UNARY_OPS, record, tensor, type UnaryOp } from '../src/index.js';
import { setGradientOpsCheck } from '../src/autograd/gradient-ops.js';

const SRC = new URL('../src/', import.meta.url).pathname;
const files = (dir: string) => readdirSync(join(SRC, dir)).filter((f) => f.endsWith('.ts')).map((f) => [`${dir}/${f}`, readFileSync(join(SRC, dir, f), 'utf8')] as const);
/** Every .ts file under src/, recursively, as [path relative to src/, text]. */
const allFiles = (dir = SRC): (readonly [string, string])[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return allFiles(p);
    return e.name.endsWith('.ts') ? [[relative(SRC, p), readFileSync(p, 'utf8')] as const] : [];
  });
/** A specifier of a workspace package other than this one. */
const OTHER_PACKAGE = /^@rpsam2\/(?!tensor($|\/))/;
const imports = (text: string) => [...text.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)].map((m) => ({ type: Boolean(m[1]), from: m[2] }));

describe('layers', () => {
  it('kernels/ are pure generators: they import only kernels/, types of the backend, and tensor/dtype|shape', () => {
    for (const [file, text] of files('kernels')) {
      for (const { type, from } of imports(text)) {
        const ok = from.startsWith('./') || (type && from === '../backend/backend.js') || from === '../tensor/shape.js' || from === '../tensor/dtype.js';
        expect(ok, `${file} imports ${type ? 'type ' : ''}${from}`).toBe(true);
      }
      expect(text, `${file} dispatches`).not.toMatch(/getBackend\(|\.run\(\{|Tensor\.empty/);
    }
  });

  it('imports no other workspace package (no upward imports into sam2, rpsam2, …)', () => {
    const sources = allFiles();
    expect(sources.some(([f]) => f === 'nn/module.ts')).toBe(true);
    for (const [file, text] of sources) {
      for (const { from } of imports(text)) expect(OTHER_PACKAGE.test(from), `${file} imports ${from}`).toBe(false);
      // Dynamic imports and re-exports too.
      expect(text, `${file} refers to another workspace package`).not.toMatch(/(import\(|from\s+)'@rpsam2\/(?!tensor['/])/);
    }
  });

  it('nn/ builds on ops/, tensor/ and the seeded generator only (no kernels, backend, io or optim)', () => {
    for (const [file, text] of files('nn')) {
      for (const { from } of imports(text)) {
        const ok = from.startsWith('./') || from.startsWith('../ops/') || from.startsWith('../tensor/') || from === '../random.js';
        expect(ok, `${file} imports ${from}`).toBe(true);
      }
    }
  });

  it('the index exports the nn building blocks', () => {
    for (const name of ['Module', 'ParamSlot', 'Linear', 'LayerNorm', 'uniformInit', 'truncNormalInit', 'linearDefaultBound', 'xavierBound', 'logit']) {
      expect(typeof (api as Record<string, unknown>)[name], name).toBe('function');
    }
  });

  it('ops/ and optim/ write no WGSL entry points or bindings (the kernels do)', () => {
    for (const [file, text] of [...files('ops'), ...files('optim')]) {
      expect(text, `${file} embeds WGSL`).not.toMatch(/@compute|@group\(0\)|\bbindings\(|\blinearMain\(|\bvec4Main\(|wgsl: \(\) =>/);
    }
  });
});

describe('GRADIENT_OPS', () => {
  it('lists exactly the unary ops that have a gradient expression', () => {
    for (const op of Object.keys(UNARY_OPS) as UnaryOp[]) expect(GRADIENT_OPS.has(op), op).toBe(UNARY_OPS[op].grad !== null);
  });

  it('record throws for an op that is not listed while the check is on (it is in these tests)', () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    const v = x.view([2]);
    expect(() => record('notAnOp', [x], v, (g) => [g])).toThrow(/op 'notAnOp' has a gradient rule but is not listed in GRADIENT_OPS/);
    v.dispose();
    setGradientOpsCheck(false);
    try {
      const y = record('customOp', [x], x.view([2]), (g) => [g]);
      expect(y.node?.op).toBe('customOp');
      y.dispose();
    } finally {
      setGradientOpsCheck(true);
    }
    x.dispose();
  });
});
