/**
 * One frame of a feature cache, written by a queue worker. The entry is computed by
 * `@rpsam2/rpsam2`'s own `buildFeatureCache` — the code a single-process build runs — on a
 * one-frame dataset in a private temporary folder, and its file is then copied into the shared
 * cache atomically (temporary file in the same folder + rename). So a worker's file is the file a
 * single process writes, byte for byte, and concurrent workers never see half a file. The index is
 * not touched here: the producer merges the entries under the cache's folder lock
 * (`cache-index.ts`), and the files describe themselves, so nothing is lost when several workers
 * finish at once.
 *
 * Idempotent: when the frame's file is already in the cache with the same settings the job is a
 * no-op ('cached'), which is what a re-delivered job (a stalled worker's, a retried one) finds.
 */
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnrecoverableError } from 'bullmq';
import { buildFeatureCache, CACHE_FORMAT, InMemoryDataset, settingsDiff, type CacheEntry, type CacheIndex, type CacheSettings, type CachedObjectInfo } from '@rpsam2/rpsam2';
import { SafetensorsFile } from '@rpsam2/tensor';
import { fileSource, pidAlive, writeFileAtomic } from '@rpsam2/tensor/node';
import type { LoadedSam2 } from '../evaluation/sam2-models.js';
import { frameItem } from './frames.js';
import type { EmbedJobData, EmbedJobResult } from './jobs.js';
import type { ModelPool } from './model-pool.js';

/** The prefix of a worker's private staging folders in the temporary directory (then its pid and '-'). */
const STAGING_PREFIX = 'rpsam2-worker-';

/**
 * Removes the staging folders that workers killed in the middle of a job left in this machine's
 * temporary directory (their pid no longer runs); returns how many. Called when a worker starts.
 */
export async function removeStaleStaging(): Promise<number> {
  let n = 0;
  for (const name of await readdir(tmpdir()).catch(() => [] as string[])) {
    const m = new RegExp(`^${STAGING_PREFIX}(\\d+)-`).exec(name);
    if (!m || Number(m[1]) === process.pid || pidAlive(Number(m[1]))) continue;
    await rm(join(tmpdir(), name), { recursive: true, force: true });
    n++;
  }
  return n;
}

/** A frame's file in a cache folder. */
export function entryFile(cacheDir: string, id: string): string {
  return join(cacheDir, 'images', `${id}.safetensors`);
}

/**
 * The settings a single-process build with this model and these options records (the same
 * fields and order as `@rpsam2/rpsam2`'s build; checked against what the build wrote).
 */
export function expectedSettings(loaded: LoadedSam2, d: Pick<EmbedJobData, 'featureDtype' | 'gridStep' | 'epsilon'>): CacheSettings {
  const cfg = loaded.model.cfg;
  return { sam2: { config: cfg.name, imageSize: cfg.imageSize, dim: loaded.model.dim, weights: loaded.label }, dtype: d.featureDtype, gridStep: d.gridStep, epsilon: d.epsilon };
}

/** A cache file's self-description (header only); null when there is none or it is unreadable. */
export async function describeEntryFile(path: string): Promise<{ entry: CacheEntry; settings: CacheSettings } | null> {
  let st: SafetensorsFile;
  try {
    st = await SafetensorsFile.open(fileSource(path));
  } catch {
    return null;
  }
  try {
    const m = st.metadata;
    if (m.format !== CACHE_FORMAT || !m.id || !m.settings || !m.objects) return null;
    const hw = await st.readI32('orig_hw');
    const objects = JSON.parse(m.objects) as CachedObjectInfo[];
    return { entry: { id: m.id, file: `images/${m.id}.safetensors`, height: hw[0], width: hw[1], objects }, settings: JSON.parse(m.settings) as CacheSettings };
  } catch {
    return null;
  }
}

/** The cache folder's index.json, or null when there is none yet. */
export async function readIndexFile(cacheDir: string): Promise<CacheIndex | null> {
  let text: string;
  try {
    text = await readFile(join(cacheDir, 'index.json'), 'utf8');
  } catch {
    return null;
  }
  try {
    return JSON.parse(text) as CacheIndex;
  } catch (e) {
    throw new UnrecoverableError(`${join(cacheDir, 'index.json')}: not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Runs an `embed` job (see the module comment): the frame's features into `data.cacheDir`, or
 * nothing when they are there already. Errors that retrying cannot fix (other settings in the
 * cache, an unreadable frame) are `UnrecoverableError`s, which BullMQ does not retry.
 */
export async function embedFrameJob(data: EmbedJobData, pool: ModelPool, worker: string, onStage?: (stage: string) => void): Promise<EmbedJobResult> {
  const t0 = performance.now();
  onStage?.('model');
  const { loaded, predictor } = await pool.get(data.model);
  const settings = expectedSettings(loaded, data);
  const index = await readIndexFile(data.cacheDir);
  if (index) {
    const diff = settingsDiff(index, settings);
    if (diff.length) throw new UnrecoverableError(`feature cache ${data.cacheDir} was built with other settings:\n  ${diff.join('\n  ')}`);
  }
  const final = entryFile(data.cacheDir, data.frame.id);
  const existing = await describeEntryFile(final);
  if (existing) {
    const diff = settingsDiff(existing.settings, settings);
    if (diff.length) throw new UnrecoverableError(`${final} was built with other settings:\n  ${diff.join('\n  ')}`);
    return { entry: existing.entry, settings: existing.settings, outcome: 'cached', worker, ms: performance.now() - t0 };
  }
  onStage?.('read');
  let item;
  try {
    item = await frameItem(data.frame);
  } catch (e) {
    throw new UnrecoverableError((e as Error).message);
  }
  onStage?.('encode');
  const staging = await mkdtemp(join(tmpdir(), `${STAGING_PREFIX}${process.pid}-`));
  try {
    await buildFeatureCache({
      dataset: new InMemoryDataset([item], data.datasetName),
      predictor,
      dir: staging,
      weightsLabel: loaded.label,
      dtype: data.featureDtype,
      gridStep: data.gridStep,
      epsilon: data.epsilon,
      onWarning: () => undefined,
    });
    const built = JSON.parse(await readFile(join(staging, 'index.json'), 'utf8')) as CacheIndex;
    const entry = built.entries[0];
    const drift = settingsDiff(built, settings);
    if (!entry || entry.id !== data.frame.id || drift.length) throw new Error(`internal: the one-frame build of ${data.frame.id} wrote ${entry?.id ?? 'no entry'}${drift.length ? ` with other settings (${drift.join('; ')})` : ''}`);
    onStage?.('write');
    const bytes = new Uint8Array(await readFile(join(staging, entry.file)));
    await mkdir(join(data.cacheDir, 'images'), { recursive: true });
    await writeFileAtomic(final, bytes);
    const { sam2, dtype, gridStep, epsilon } = built;
    return { entry, settings: { sam2, dtype, gridStep, epsilon }, outcome: 'computed', worker, ms: performance.now() - t0 };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
