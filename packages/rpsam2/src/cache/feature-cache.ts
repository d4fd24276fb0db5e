/**
 * The frozen-feature cache. SAM 2 stays frozen during RP-SAM2 training, so each image's encoder
 * output and each object's candidate set are computed once and stored; training then runs only
 * the shift block, the prompt encoder and the mask decoder.
 *
 * Directory format (version 1):
 *
 *   <dir>/index.json                 the settings and one entry per image (see CacheIndex)
 *   <dir>/images/<id>.safetensors    one file per image:
 *     image_embed                    [1, C, g, g]          F32, or F16 with dtype 'f16'
 *     high_res_0                     [1, C/8, 4g, 4g]      F32 / F16
 *     high_res_1                     [1, C/4, 2g, 2g]      F32 / F16
 *     orig_hw                        [2]                   I32 (H, W of the original image)
 *     objects.<k>.mask               [H, W]                U8 (0/1 ground truth)
 *     objects.<k>.grid_px            [G, 2]                F32 grid points (x, y) in pixels
 *     objects.<k>.dice               [G]                   F32 Dice of SAM 2's mask per grid click
 *     objects.<k>.is_candidate       [G]                   U8
 *     objects.<k>.candidates         [C, 2]                F32 candidates, normalised (x/W, y/H)
 *     __metadata__: format, version, id, dtype, settings (JSON), objects (JSON: CachedObjectInfo[])
 *
 * Every file is written atomically (temporary file + rename), so an interrupted run leaves only
 * complete files. Each image file describes itself, so the index can be rebuilt from the files:
 * a run that stopped between writing an image and updating the index loses nothing, and a
 * rerun skips every image already on disk.
 */
import { noGrad, serializeSafetensors, SafetensorsFile, tensor, tidy, type NamedSafetensorsTensor } from '@rpsam2/tensor';
import type { ImageFeatures, Sam2ImagePredictor } from '@rpsam2/sam2';
import { computeCandidates, type CandidateSet } from '../candidates/candidates.js';
import { maskArea, validateItem, type Dataset } from '../train/dataset.js';
import { exists, fileByteSource, joinPath, lockFolder, nodeFs, writeAtomic } from '../checkpoint/node-io.js';
import { mirrorGrid, mirrorMask, mirrorNormalized, mirrorPixels, type Mirror } from './mirror.js';

/** The `format` tag of a feature cache's index.json and image files. */
export const CACHE_FORMAT = 'rpsam2-feature-cache';
/** The directory format version this code writes and reads (see the module comment). */
export const CACHE_VERSION = 1;

/** What a cache was built with; a rerun must use the same settings to add to it. */
export interface CacheSettings {
  /** The SAM 2 model: config name, input size, width, and a label of the weights. */
  sam2: { config: string; imageSize: number; dim: number; weights: string };
  /** Storage type of the image features on disk (they are f32 again once loaded). */
  dtype: 'f32' | 'f16';
  /** Candidate grid step in pixels and the Dice tolerance ε. */
  gridStep: number;
  epsilon: number;
}

/** Per-object summary kept in the index and in each file's metadata. */
export interface CachedObjectInfo {
  className: string;
  /** Mask area in pixels. */
  area: number;
  /** The grid step actually used (halved until at least one grid point fell inside the mask). */
  gridStep: number;
  gridCount: number;
  candidateCount: number;
}

/** One image of the index. */
export interface CacheEntry {
  id: string;
  /** Path relative to the cache directory. */
  file: string;
  height: number;
  width: number;
  objects: CachedObjectInfo[];
}

/** index.json. */
export interface CacheIndex extends CacheSettings {
  format: typeof CACHE_FORMAT;
  version: number;
  /** The dataset's name when built. */
  dataset: string;
  entries: CacheEntry[];
}

/** One object as loaded from the cache (host arrays). */
export interface CachedObject extends CachedObjectInfo {
  mask: Uint8Array;
  gridPx: Float32Array;
  dice: Float32Array;
  isCandidate: Uint8Array;
  /** [candidateCount·2] normalised (x/W, y/H). */
  candidates: Float32Array;
}

/** One image as loaded: GPU features (owned by the caller: dispose them, or hand them to `predictor.setFeatures`) and host objects. */
export interface CachedImage {
  id: string;
  origHW: [number, number];
  features: ImageFeatures;
  objects: CachedObject[];
}

/** Progress of {@link buildFeatureCache}, once per image. */
export interface CacheProgress {
  done: number;
  total: number;
  id: string;
  /** True when the image was already in the cache. */
  skipped: boolean;
  /** Time for this image (encoder + candidates + write), ms. */
  ms: number;
  objects: number;
  candidates: number;
}

/**
 * Options of {@link buildFeatureCache}: the dataset, the frozen SAM 2 predictor, the folder, and the
 * cache settings (dtype default f32, grid step 8 px, ε 0.005).
 */
export interface BuildCacheOptions {
  dataset: Dataset;
  /** A predictor over the frozen SAM 2 (its current image is replaced). */
  predictor: Sam2ImagePredictor;
  dir: string;
  /** Label of the SAM 2 weights stored in the settings (e.g. the file name). */
  weightsLabel: string;
  dtype?: 'f32' | 'f16';
  gridStep?: number;
  epsilon?: number;
  /** Clicks per candidate decode call (see computeCandidates). */
  batchSize?: number;
  /** Called once per image, computed or skipped. */
  onProgress?: (p: CacheProgress) => void;
  /** Notes such as dropped empty masks. */
  onWarning?: (message: string) => void;
  /** Checked between images: return true to stop early (e.g. after SIGINT); everything written stays valid. */
  shouldStop?: () => boolean;
  /** How often the index is rewritten while building (default every 10 s; always at the end). */
  indexIntervalMs?: number;
}

/**
 * What {@link buildFeatureCache} did: images in the dataset, computed and skipped (already cached),
 * objects in all of them, whether it stopped early, and the time in ms.
 */
export interface BuildCacheReport {
  total: number;
  computed: number;
  skipped: number;
  objects: number;
  /** True when `shouldStop` ended the run early. */
  stopped: boolean;
  ms: number;
}

function settingsOf(o: BuildCacheOptions): CacheSettings {
  const cfg = o.predictor.model.cfg;
  const dtype = o.dtype ?? 'f32';
  if (dtype !== 'f32' && dtype !== 'f16') throw new TypeError(`feature cache: dtype must be 'f32' or 'f16', got ${JSON.stringify(dtype)}`);
  const gridStep = o.gridStep ?? 8;
  if (!Number.isInteger(gridStep) || gridStep < 1) throw new RangeError(`feature cache: gridStep ${gridStep} must be a positive integer`);
  const epsilon = o.epsilon ?? 0.005;
  if (!(epsilon >= 0)) throw new RangeError(`feature cache: epsilon ${epsilon} must be ≥ 0`);
  return { sam2: { config: cfg.name, imageSize: cfg.imageSize, dim: o.predictor.model.dim, weights: o.weightsLabel }, dtype, gridStep, epsilon };
}

/** Differences between two settings, as readable lines (empty when compatible). */
export function settingsDiff(a: CacheSettings, b: CacheSettings): string[] {
  const out: string[] = [];
  const cmp = (what: string, x: unknown, y: unknown) => {
    if (x !== y) out.push(`${what}: cache has ${JSON.stringify(x)}, this run uses ${JSON.stringify(y)}`);
  };
  cmp('SAM 2 config', a.sam2.config, b.sam2.config);
  cmp('SAM 2 image size', a.sam2.imageSize, b.sam2.imageSize);
  cmp('SAM 2 width', a.sam2.dim, b.sam2.dim);
  cmp('SAM 2 weights', a.sam2.weights, b.sam2.weights);
  cmp('dtype', a.dtype, b.dtype);
  cmp('gridStep', a.gridStep, b.gridStep);
  cmp('epsilon', a.epsilon, b.epsilon);
  return out;
}

/** Candidates of a mask, the grid step halved until at least one grid point lies in the mask (returns the step used). */
export async function candidatesOf(predictor: Sam2ImagePredictor, mask: Uint8Array, gridStep: number, epsilon: number, batchSize?: number): Promise<{ set: CandidateSet; step: number }> {
  let step = gridStep;
  for (;;) {
    const set = await computeCandidates(predictor, mask, { gridStep: step, epsilon, batchSize });
    if (set.gridCount > 0 || step === 1) return { set, step };
    step = Math.max(1, Math.floor(step / 2));
  }
}

const fileOf = (id: string) => `images/${id}.safetensors`;

async function readFeatures(f: ImageFeatures): Promise<{ embed: Float32Array; s0: Float32Array; s1: Float32Array }> {
  const [embed, s0, s1] = await Promise.all([f.imageEmbed.data(), f.highRes[0].data(), f.highRes[1].data()]);
  return { embed, s0, s1 };
}

/** Serialises one image's features and objects (see the module comment for the layout). */
export function serializeCacheEntry(
  id: string,
  settings: CacheSettings,
  origHW: [number, number],
  features: { embed: Float32Array; s0: Float32Array; s1: Float32Array; shapes: [number[], number[], number[]] },
  objects: CachedObject[],
): Uint8Array {
  const fdt = settings.dtype === 'f16' ? 'F16' : 'F32';
  const t: NamedSafetensorsTensor[] = [
    { name: 'image_embed', dtype: fdt, shape: features.shapes[0], data: features.embed },
    { name: 'high_res_0', dtype: fdt, shape: features.shapes[1], data: features.s0 },
    { name: 'high_res_1', dtype: fdt, shape: features.shapes[2], data: features.s1 },
    { name: 'orig_hw', dtype: 'I32', shape: [2], data: origHW },
  ];
  const [h, w] = origHW;
  objects.forEach((o, k) => {
    t.push({ name: `objects.${k}.mask`, dtype: 'U8', shape: [h, w], data: o.mask });
    t.push({ name: `objects.${k}.grid_px`, dtype: 'F32', shape: [o.gridCount, 2], data: o.gridPx });
    t.push({ name: `objects.${k}.dice`, dtype: 'F32', shape: [o.gridCount], data: o.dice });
    t.push({ name: `objects.${k}.is_candidate`, dtype: 'U8', shape: [o.gridCount], data: o.isCandidate });
    t.push({ name: `objects.${k}.candidates`, dtype: 'F32', shape: [o.candidateCount, 2], data: o.candidates });
  });
  const infos: CachedObjectInfo[] = objects.map(({ className, area, gridStep, gridCount, candidateCount }) => ({ className, area, gridStep, gridCount, candidateCount }));
  return serializeSafetensors(t, {
    format: CACHE_FORMAT,
    version: String(CACHE_VERSION),
    id,
    dtype: settings.dtype,
    settings: JSON.stringify(settings),
    objects: JSON.stringify(infos),
  });
}

/** Reads an image file's self-description (header only); null when it is not a cache file. */
async function describeFile(dir: string, file: string): Promise<{ entry: CacheEntry; settings: CacheSettings } | null> {
  try {
    const st = await SafetensorsFile.open(await fileByteSource(joinPath(dir, file)));
    const m = st.metadata;
    if (m.format !== CACHE_FORMAT || !m.id || !m.settings || !m.objects) return null;
    const hw = await st.readI32('orig_hw');
    const objects = JSON.parse(m.objects) as CachedObjectInfo[];
    return { entry: { id: m.id, file, height: hw[0], width: hw[1], objects }, settings: JSON.parse(m.settings) as CacheSettings };
  } catch {
    return null;
  }
}

async function readIndex(dir: string): Promise<CacheIndex | null> {
  const fs = await nodeFs();
  let text: string;
  try {
    text = await fs.readFile(joinPath(dir, 'index.json'), 'utf8');
  } catch {
    return null;
  }
  let idx: CacheIndex;
  try {
    idx = JSON.parse(text);
  } catch (e) {
    throw new Error(`${joinPath(dir, 'index.json')}: not valid JSON (${(e as Error).message})`);
  }
  if (idx.format !== CACHE_FORMAT) throw new Error(`${joinPath(dir, 'index.json')}: not an RP-SAM2 feature cache (format ${JSON.stringify(idx.format)})`);
  if (idx.version !== CACHE_VERSION) throw new Error(`${joinPath(dir, 'index.json')}: cache version ${idx.version}, this build reads version ${CACHE_VERSION}`);
  return idx;
}

/**
 * The index with every complete image file of the directory: entries whose file vanished are
 * dropped, files missing from the index (a run stopped before rewriting it) are added when their
 * settings match.
 */
async function reconcile(dir: string, idx: CacheIndex): Promise<{ index: CacheIndex; changed: boolean }> {
  const fs = await nodeFs();
  let names: string[] = [];
  try {
    names = (await fs.readdir(joinPath(dir, 'images'))).filter((n) => n.endsWith('.safetensors') && !n.startsWith('.'));
  } catch {
    names = [];
  }
  const onDisk = new Set(names.map((n) => `images/${n}`));
  const kept = idx.entries.filter((e) => onDisk.has(e.file));
  let changed = kept.length !== idx.entries.length;
  const known = new Set(kept.map((e) => e.file));
  for (const n of names.sort()) {
    const file = `images/${n}`;
    if (known.has(file)) continue;
    const d = await describeFile(dir, file);
    if (!d || settingsDiff(idx, d.settings).length) continue;
    kept.push(d.entry);
    changed = true;
  }
  return { index: { ...idx, entries: kept }, changed };
}

/**
 * Computes and stores the features and candidate sets of every image of `dataset` that is not in
 * the cache yet (see the module comment). Resumable: rerun with the same settings and it skips
 * what is on disk. Settings that differ from an existing cache's are an error naming them. The
 * folder is locked while building: a second process building into it is refused
 * (`FolderLockedError`, naming the holder's pid) instead of interleaving index rewrites.
 */
export async function buildFeatureCache(options: BuildCacheOptions): Promise<BuildCacheReport> {
  const fs = await nodeFs();
  await fs.mkdir(joinPath(options.dir, 'images'), { recursive: true });
  const lock = await lockFolder(options.dir, 'building a feature cache', options.onWarning);
  try {
    return await buildLocked(options);
  } finally {
    await lock.release();
  }
}

async function buildLocked(options: BuildCacheOptions): Promise<BuildCacheReport> {
  const t0 = performance.now();
  const settings = settingsOf(options);
  const { dataset, predictor, dir } = options;
  let index: CacheIndex;
  const existing = await readIndex(dir);
  if (existing) {
    const diff = settingsDiff(existing, settings);
    if (diff.length) throw new Error(`feature cache ${dir} was built with other settings:\n  ${diff.join('\n  ')}\nuse another output directory (or delete this one)`);
    index = (await reconcile(dir, existing)).index;
  } else {
    index = { format: CACHE_FORMAT, version: CACHE_VERSION, dataset: dataset.name, ...settings, entries: [] };
    index = (await reconcile(dir, index)).index;
  }
  const byId = new Map(index.entries.map((e) => [e.id, e]));
  const writeIndex = () => writeAtomic(joinPath(dir, 'index.json'), JSON.stringify(index, null, 1) + '\n');
  await writeIndex();
  const interval = options.indexIntervalMs ?? 10_000;
  let lastIndexWrite = performance.now();
  let dirty = false;
  const report: BuildCacheReport = { total: dataset.length, computed: 0, skipped: 0, objects: 0, stopped: false, ms: 0 };
  try {
    for (let i = 0; i < dataset.length; i++) {
      if (options.shouldStop?.()) {
        report.stopped = true;
        break;
      }
      const ti = performance.now();
      const item = await dataset.get(i);
      validateItem(item, `${dataset.name}[${i}]`);
      const have = byId.get(item.id);
      if (have) {
        report.skipped++;
        report.objects += have.objects.length;
        options.onProgress?.({ done: i + 1, total: dataset.length, id: item.id, skipped: true, ms: performance.now() - ti, objects: have.objects.length, candidates: have.objects.reduce((n, o) => n + o.candidateCount, 0) });
        continue;
      }
      const { width: w, height: h } = item.image;
      await predictor.setImage(item.image);
      const objects: CachedObject[] = [];
      for (const [k, o] of item.objects.entries()) {
        const area = maskArea(o.mask);
        if (area === 0) {
          options.onWarning?.(`${item.id}: object ${k} (${o.className}) has an empty mask; not cached`);
          continue;
        }
        const mask = Uint8Array.from(o.mask, (v) => (v ? 1 : 0));
        const { set, step } = await candidatesOf(predictor, mask, settings.gridStep, settings.epsilon, options.batchSize);
        objects.push({
          className: o.className,
          area,
          gridStep: step,
          gridCount: set.gridCount,
          candidateCount: set.count,
          mask,
          gridPx: set.gridPx,
          dice: set.dice,
          isCandidate: set.isCandidate,
          candidates: set.norm,
        });
      }
      const f = predictor.getFeatures(0);
      const data = await readFeatures(f);
      const bytes = serializeCacheEntry(item.id, settings, [h, w], { ...data, shapes: [[...f.imageEmbed.shape], [...f.highRes[0].shape], [...f.highRes[1].shape]] }, objects);
      const file = fileOf(item.id);
      await writeAtomic(joinPath(dir, file), bytes);
      const entry: CacheEntry = {
        id: item.id,
        file,
        height: h,
        width: w,
        objects: objects.map(({ className, area, gridStep, gridCount, candidateCount }) => ({ className, area, gridStep, gridCount, candidateCount })),
      };
      index.entries.push(entry);
      byId.set(item.id, entry);
      dirty = true;
      report.computed++;
      report.objects += objects.length;
      if (performance.now() - lastIndexWrite >= interval) {
        await writeIndex();
        lastIndexWrite = performance.now();
        dirty = false;
      }
      options.onProgress?.({ done: i + 1, total: dataset.length, id: item.id, skipped: false, ms: performance.now() - ti, objects: objects.length, candidates: objects.reduce((n, o) => n + o.candidateCount, 0) });
    }
  } finally {
    if (dirty) await writeIndex();
    predictor.resetImage();
  }
  report.ms = performance.now() - t0;
  return report;
}

/** A feature cache opened for reading. */
export class FeatureCache {
  private readonly byId: Map<string, CacheEntry>;

  private constructor(
    readonly dir: string,
    readonly index: CacheIndex,
  ) {
    this.byId = new Map(index.entries.map((e) => [e.id, e]));
  }

  /** Opens `dir` (index.json, reconciled with the image files on disk). */
  static async open(dir: string): Promise<FeatureCache> {
    if (!(await exists(dir))) throw new Error(`feature cache ${dir}: no such directory (build it with \`rpsam2 candidates\`)`);
    const idx = await readIndex(dir);
    if (!idx) throw new Error(`feature cache ${dir}: no index.json (build it with \`rpsam2 candidates\`)`);
    return new FeatureCache(dir, (await reconcile(dir, idx)).index);
  }

  get entries(): readonly CacheEntry[] {
    return this.index.entries;
  }

  get settings(): CacheSettings {
    const { sam2, dtype, gridStep, epsilon } = this.index;
    return { sam2, dtype, gridStep, epsilon };
  }

  /** Total number of objects. */
  get objectCount(): number {
    return this.index.entries.reduce((n, e) => n + e.objects.length, 0);
  }

  /** The index entry of an image, by id or by position in the index; throws when there is none. */
  entry(idOrIndex: string | number): CacheEntry {
    const e = typeof idOrIndex === 'number' ? this.index.entries[idOrIndex] : this.byId.get(idOrIndex);
    if (!e) throw new Error(`feature cache ${this.dir}: no image ${JSON.stringify(idOrIndex)} (${this.index.entries.length} cached)`);
    return e;
  }

  /**
   * One image's features (uploaded as f32 GPU tensors: f16 files are widened) and objects. The
   * features belong to the caller (e.g. `predictor.setFeatures(img.features, img.origHW)`).
   * With `mirror`, everything comes flipped along its axes (a training augmentation: see
   * `mirror.ts`); the grid points keep their order, so `dice` and `isCandidate` still match.
   */
  async load(idOrIndex: string | number, mirror?: Mirror): Promise<CachedImage> {
    const e = this.entry(idOrIndex);
    const path = joinPath(this.dir, e.file);
    const st = await SafetensorsFile.open(await fileByteSource(path));
    const flip = mirror && (mirror.h || mirror.v) ? mirror : null;
    const read = async (name: string) => {
      const shape = st.entry(name).shape;
      const data = await st.readF32(name);
      return { data: flip ? mirrorGrid(data, shape, flip) : data, shape };
    };
    const [embed, s0, s1] = await Promise.all([read('image_embed'), read('high_res_0'), read('high_res_1')]);
    const hw = await st.readI32('orig_hw');
    const [h, w] = [hw[0], hw[1]];
    const objects: CachedObject[] = [];
    for (let k = 0; k < e.objects.length; k++) {
      const info = e.objects[k];
      const mask = await st.readBytes(`objects.${k}.mask`);
      const gridPx = await st.readF32(`objects.${k}.grid_px`);
      const candidates = await st.readF32(`objects.${k}.candidates`);
      objects.push({
        ...info,
        mask: flip ? mirrorMask(mask, h, w, flip) : mask,
        gridPx: flip ? mirrorPixels(gridPx, h, w, flip) : gridPx,
        dice: await st.readF32(`objects.${k}.dice`),
        isCandidate: await st.readBytes(`objects.${k}.is_candidate`),
        candidates: flip ? mirrorNormalized(candidates, h, w, flip) : candidates,
      });
    }
    const features = noGrad(() =>
      tidy(() => ({
        imageEmbed: tensor(embed.data, embed.shape),
        highRes: [tensor(s0.data, s0.shape), tensor(s1.data, s1.shape)] as [ReturnType<typeof tensor>, ReturnType<typeof tensor>],
      })),
    );
    return { id: e.id, origHW: [hw[0], hw[1]], features, objects };
  }
}
