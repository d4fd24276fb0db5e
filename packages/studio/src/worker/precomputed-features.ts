/**
 * Precomputed image features for the page: a feature cache written by `bench embed` (or any
 * cache in rpsam2's format: `index.json` plus `images/<id>.safetensors`, see
 * `@rpsam2/rpsam2`'s feature-cache.ts), read without Node — over HTTP from a folder served next
 * to the frames, or from files the user dropped or picked. rpsam2's own `FeatureCache` reads
 * through `node:fs`, so this is the browser-safe reader of the same format, on the byte-source
 * seam of `@rpsam2/tensor` (`SafetensorsFile` over `bytesSource`/`blobSource`).
 *
 * A frame's features are used only when the cache was made by the loaded SAM 2 (input size,
 * width and the SHA-256 of the weights file that `bench` records in the index): otherwise
 * {@link modelMismatch} says which differs, and the frame is encoded as usual.
 */
import { blobSource, bytesSource, SafetensorsFile, type ByteSource } from '@rpsam2/tensor';
import { CACHE_FORMAT, CACHE_VERSION, type CacheIndex, type CacheSettings } from '@rpsam2/rpsam2';
import { cacheRootOf, normalPath, type PathedFile } from './cache-paths.js';

export { cacheKeyOf, cacheRootOf, isCacheFilePath, type PathedFile } from './cache-paths.js';

/** The files of a cache folder: a byte source per path relative to the folder, null when there is none. */
export interface CacheFiles {
  /** Where they are, for messages (a URL or the picked folder's path). */
  readonly label: string;
  open(path: string): Promise<ByteSource | null>;
}

/** A cache folder served over HTTP at `baseUrl` (e.g. `features/` next to the page or the frames). */
export function urlCacheFiles(baseUrl: string, fetchFn: typeof fetch = (...a) => fetch(...a)): CacheFiles {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return {
    label: base,
    async open(path) {
      const url = new URL(path, base).href;
      let res: Response;
      try {
        res = await fetchFn(url);
      } catch (e) {
        throw new Error(`${url}: ${(e as Error).message}`);
      }
      if (res.status === 404) return null;
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
      return bytesSource(new Uint8Array(await res.arrayBuffer()), url);
    },
  };
}

/**
 * The feature cache among dropped or picked files (see {@link cacheRootOf}): its files by path
 * relative to the cache folder, or null when there is none.
 */
export function pickedCacheFiles(files: readonly PathedFile[]): CacheFiles | null {
  const norm = files.map((f) => ({ file: f.file, path: normalPath(f.path) }));
  const root = cacheRootOf(norm.map((f) => f.path));
  if (root === null) return null;
  const byPath = new Map(norm.map((f) => [f.path, f.file]));
  return {
    label: root ? root.replace(/\/$/, '') : 'the dropped files',
    async open(path) {
      const f = byPath.get(root + path);
      return f ? blobSource(f, root + path) : null;
    },
  };
}

/** One frame's features as host arrays (uploaded by the engine). */
export interface PrecomputedFrame {
  id: string;
  /** Height and width of the frame they were computed from. */
  origHW: [number, number];
  imageEmbed: { data: Float32Array; shape: number[] };
  highRes: [{ data: Float32Array; shape: number[] }, { data: Float32Array; shape: number[] }];
}

/** What the page knows about the loaded SAM 2, to compare with a cache's settings. */
export interface ModelIdentity {
  config: string;
  imageSize: number;
  dim: number;
  /** The weights file's name. */
  weightsName: string;
  /** `sha256:<first 16 hex digits>` of the weights file (as `bench` labels weights), computed on demand. */
  weightsHash: () => Promise<string>;
}

/** `sha256:<first 16 hex digits>` of a byte source (WebCrypto; the whole source is read once). */
export async function sourceHash(source: ByteSource): Promise<string> {
  const bytes = await source.read(0, await source.size());
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return `sha256:${[...d.slice(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * Why a cache's features do not fit the loaded model (a sentence naming what differs and what
 * happens instead), or null when they fit. The input size and width must be the model's; the
 * weights are compared by the SHA-256 in the cache's weights label (`<file name> sha256:…`, as
 * `bench embed` writes it) — the config's name is not compared then, as the page may name the same
 * config differently. A label without a hash (`rpsam2 candidates` records the file name) is
 * compared by file name and config name.
 */
export async function modelMismatch(settings: CacheSettings, model: ModelIdentity, where: string): Promise<string | null> {
  const diff: string[] = [];
  const s = settings.sam2;
  const hashed = /^(.*) (sha256:[0-9a-f]+)$/.exec(s.weights);
  if (!hashed && s.config !== model.config) diff.push(`config ${s.config} (loaded: ${model.config})`);
  if (s.imageSize !== model.imageSize) diff.push(`input size ${s.imageSize} px (loaded: ${model.imageSize} px)`);
  if (s.dim !== model.dim) diff.push(`width ${s.dim} (loaded: ${model.dim})`);
  if (diff.length === 0) {
    if (hashed) {
      const mine = await model.weightsHash();
      if (hashed[2] !== mine) diff.push(`weights ${s.weights} (loaded: ${model.weightsName} ${mine})`);
    } else if (s.weights !== model.weightsName) diff.push(`weights ${s.weights} (loaded: ${model.weightsName})`);
  }
  if (diff.length === 0) return null;
  return `The precomputed features in ${where} were made by another SAM 2 — ${diff.join(', ')} — so they are not used: frames are encoded by the loaded model. Load the SAM 2 that made them (or make the cache again with \`bench embed --weights <the loaded weights>\`).`;
}

/** A feature cache opened for reading (index only; frame files are read on demand). */
export class PrecomputedFeatures {
  private readonly byId: Map<string, string>;

  private constructor(
    readonly files: CacheFiles,
    readonly index: CacheIndex,
  ) {
    this.byId = new Map(index.entries.map((e) => [e.id, e.file]));
  }

  /** Reads and checks `index.json` (an error naming the file and the problem otherwise). */
  static async open(files: CacheFiles): Promise<PrecomputedFeatures> {
    const where = `${files.label.replace(/\/$/, '')}/index.json`;
    const src = await files.open('index.json');
    if (!src) throw new Error(`${where}: not found (a feature cache folder made by \`bench embed\` holds index.json and images/)`);
    let idx: CacheIndex;
    try {
      idx = JSON.parse(new TextDecoder().decode(await src.read(0, await src.size()))) as CacheIndex;
    } catch (e) {
      throw new Error(`${where}: not valid JSON (${(e as Error).message})`);
    }
    if (!idx || idx.format !== CACHE_FORMAT) throw new Error(`${where}: not an RP-SAM2 feature cache (format ${JSON.stringify(idx?.format)})`);
    if (idx.version !== CACHE_VERSION) throw new Error(`${where}: cache version ${idx.version}; this page reads version ${CACHE_VERSION}`);
    if (!idx.sam2 || typeof idx.sam2.config !== 'string' || !Array.isArray(idx.entries)) throw new Error(`${where}: no sam2 settings or entries`);
    return new PrecomputedFeatures(files, idx);
  }

  get settings(): CacheSettings {
    const { sam2, dtype, gridStep, epsilon } = this.index;
    return { sam2, dtype, gridStep, epsilon };
  }

  /** Number of frames in the index. */
  get size(): number {
    return this.byId.size;
  }

  has(key: string): boolean {
    return this.byId.has(key);
  }

  /** One frame's features (f16 files are widened to f32); null when its file is missing. */
  async read(key: string): Promise<PrecomputedFrame | null> {
    const file = this.byId.get(key);
    if (!file) return null;
    const src = await this.files.open(file);
    if (!src) return null;
    const st = await SafetensorsFile.open(src);
    const m = st.metadata;
    if (m.format !== CACHE_FORMAT || m.id !== key) throw new Error(`${src.label ?? file}: not the cache file of frame ${key} (format ${JSON.stringify(m.format)}, id ${JSON.stringify(m.id)})`);
    const read = async (name: string) => ({ data: await st.readF32(name), shape: [...st.entry(name).shape] });
    const [imageEmbed, s0, s1] = await Promise.all([read('image_embed'), read('high_res_0'), read('high_res_1')]);
    const hw = await st.readI32('orig_hw');
    return { id: key, origHW: [hw[0], hw[1]], imageEmbed, highRes: [s0, s1] };
  }
}
