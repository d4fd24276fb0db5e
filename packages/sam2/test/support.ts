/** Shared helpers of the sam2 tests: fixture paths and configs, weight sources with edited keys. */
import { readFileSync } from 'node:fs';
import { parseOfficialConfig, type Sam2Config } from '../src/config.js';
import type { WeightSource } from '../src/nn/module.js';

export const FIXTURES = new URL('../../../../shared/fixtures/sam2/', import.meta.url).pathname;
export const fixtureDir = (name: string) => `${FIXTURES}${name}/`;

export function fixtureMeta(name: string): any {
  return JSON.parse(readFileSync(fixtureDir(name) + 'meta.json', 'utf8'));
}

/** The fixture's model config (its top-level image size wins, as in the verifier). */
export function fixtureConfig(name: string): Sam2Config {
  const meta = fixtureMeta(name);
  return parseOfficialConfig({ ...meta.model_config, image_size: meta.image_size ?? meta.model_config.image_size }, `fixture-${name}`);
}

/** A WeightSource over another with keys renamed/dropped/added and shapes overridden (reads pass through). */
export function editedSource(
  base: WeightSource,
  edit: { rename?: (k: string) => string | null; add?: Record<string, number[]>; shape?: Record<string, number[]> },
): WeightSource {
  const map = new Map<string, string | null>();
  for (const k of base.keys()) {
    const n = edit.rename ? edit.rename(k) : k;
    if (n !== null) map.set(n, k);
  }
  for (const k of Object.keys(edit.add ?? {})) map.set(k, null);
  return {
    label: `edited(${base.label})`,
    keys: () => [...map.keys()],
    entry: (name) => {
      const src = map.get(name);
      if (src === undefined) throw new Error(`no tensor '${name}'`);
      if (src === null) return { shape: edit.add![name], dtype: 'F32' };
      const e = base.entry(src);
      return { shape: edit.shape?.[name] ?? e.shape, dtype: e.dtype };
    },
    readF32: async (name) => {
      const src = map.get(name);
      if (src === undefined || src === null) throw new Error(`no data for '${name}'`);
      return base.readF32(src);
    },
  };
}

/** A shapes-only WeightSource (e.g. from the official manifest); reading data throws. */
export function shapesOnlySource(tensors: Record<string, number[]>, label = 'shapes'): WeightSource {
  return {
    label,
    keys: () => Object.keys(tensors),
    entry: (name) => ({ shape: tensors[name], dtype: 'F32' }),
    readF32: async (name) => {
      throw new Error(`${label}: no data for '${name}'`);
    },
  };
}

/** Bitwise equality of two float arrays (NaNs by bits, −0 ≠ +0). */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
