/**
 * The index of a feature cache that queue workers filled: the producer, holding the cache's folder
 * lock, merges the entries its jobs returned into index.json in one atomic write. Entries already
 * indexed stay first (as a single-process build keeps them), new ones follow in the order of the
 * frames, each id once; entries whose file is gone are dropped. For a fresh folder the result is
 * byte for byte the index.json a single-process build of the same frames writes.
 */
import { join } from 'node:path';
import { CACHE_FORMAT, CACHE_VERSION, settingsDiff, type CacheEntry, type CacheIndex, type CacheSettings } from '@rpsam2/rpsam2';
import { writeFileAtomic } from '@rpsam2/tensor/node';
import { pathExists } from '../runs/run-dir.js';
import { readIndexFile } from './cache-entry.js';

/**
 * Writes `cacheDir/index.json` with the existing entries plus `entries` (see the module comment).
 * The caller holds the folder lock. Throws, naming the differences, when the folder's index was
 * built with other settings.
 */
export async function mergeCacheIndex(cacheDir: string, settings: CacheSettings, datasetName: string, entries: readonly CacheEntry[]): Promise<CacheIndex> {
  const old = await readIndexFile(cacheDir);
  if (old) {
    if (old.format !== CACHE_FORMAT) throw new Error(`${join(cacheDir, 'index.json')}: not an RP-SAM2 feature cache (format ${JSON.stringify(old.format)})`);
    if (old.version !== CACHE_VERSION) throw new Error(`${join(cacheDir, 'index.json')}: cache version ${old.version}, this build writes version ${CACHE_VERSION}`);
    const diff = settingsDiff(old, settings);
    if (diff.length) throw new Error(`feature cache ${cacheDir} was built with other settings:\n  ${diff.join('\n  ')}\nuse another cache folder (or delete this one)`);
  }
  const merged: CacheEntry[] = [];
  const seen = new Set<string>();
  for (const e of [...(old?.entries ?? []), ...entries]) {
    if (seen.has(e.id) || !(await pathExists(join(cacheDir, e.file)))) continue;
    seen.add(e.id);
    merged.push(e);
  }
  // The same fields in the same order as @rpsam2/rpsam2's build writes them.
  const { sam2, dtype, gridStep, epsilon } = old ?? settings;
  const index: CacheIndex = { format: CACHE_FORMAT, version: CACHE_VERSION, dataset: old?.dataset ?? datasetName, sam2, dtype, gridStep, epsilon, entries: merged };
  await writeFileAtomic(join(cacheDir, 'index.json'), new TextEncoder().encode(JSON.stringify(index, null, 1) + '\n'));
  return index;
}
