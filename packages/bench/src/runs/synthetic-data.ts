/**
 * The synthetic set of a run, generated into `<run>/data` with the existing generator (Cataract-1k
 * layout, read back by the same loader as the real data). A complete set with the same options is
 * reused (resumed runs); a partial one — a run stopped while generating — is deleted and made again.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSyntheticDataset } from '../synthetic/dataset.js';
import type { GenerateSpec } from './experiment-config.js';
import { pathExists, readJson } from './run-dir.js';
import type { RunIO } from './run-io.js';

/** Generates the set unless an identical complete one is there; returns whether it generated. */
export async function ensureSyntheticData(root: string, spec: GenerateSpec, io: RunIO): Promise<boolean> {
  const marker = join(root, 'synthetic.json');
  if (await pathExists(marker)) {
    const m = await readJson<{ generator?: string; options?: Record<string, unknown>; frames?: number }>(marker);
    const same = m.generator === 'rpsam2-synthetic' && (Object.keys(spec) as (keyof GenerateSpec)[]).every((k) => m.options?.[k] === spec[k]);
    if (same) {
      io.out(`  data: ${m.frames} synthetic frames generated earlier (${root})`);
      return false;
    }
    throw new Error(`${root} holds a synthetic set with other options than this run's config; not replacing it`);
  }
  // Only this run writes here: whatever is there is a generation that did not finish.
  if (await pathExists(root)) await rm(root, { recursive: true, force: true });
  const s = await generateSyntheticDataset(root, { ...spec });
  io.out(
    `  data: generated ${s.frames} synthetic frames (${spec.width}×${spec.height}, ${s.cases.length} cases: train ${s.split.train.length}, val ${s.split.val.length}, test ${s.split.test.length}) in ${s.seconds.toFixed(1)} s → ${root}`,
  );
  io.out(`  instruments: ${Object.entries(s.instruments).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  return true;
}
