/**
 * Datasets by name, for the CLI and configs:
 *
 * - `synthetic:<count>[:<seed>]` — generated shapes (see synthetic.ts);
 * - a path to a manifest JSON:
 *
 *   { "name": "my-set",
 *     "items": [ { "id": "frame_0001", "image": "images/frame_0001.png",
 *                  "objects": [ { "mask": "masks/frame_0001_0.png", "class": "grasper" } ] } ] }
 *
 *   paths relative to the manifest; images PNG or JPEG; masks 8-bit PNGs at the image size,
 *   nonzero = inside. Items are read lazily, one per `get`.
 *
 * Other loaders (e.g. the benchmark datasets) implement `Dataset` directly and can be registered
 * under a prefix with {@link registerDatasetLoader}.
 */
import { decodeGreyPng, decodeImage } from '@rpsam2/sam2';
import type { Dataset, DatasetItem } from './dataset.js';
import { validateItem } from './dataset.js';
import { syntheticShapes } from './synthetic.js';
import { joinPath, nodeFs } from '../checkpoint/node-io.js';

/** Opens a dataset from the text after its prefix (see {@link registerDatasetLoader}). */
export type DatasetLoader = (arg: string) => Promise<Dataset>;
const LOADERS = new Map<string, DatasetLoader>();

/** Makes `<prefix>:<arg>` open a dataset with `loader(arg)`. */
export function registerDatasetLoader(prefix: string, loader: DatasetLoader): void {
  if (!/^[a-z][a-z0-9-]*$/.test(prefix)) throw new Error(`registerDatasetLoader: prefix '${prefix}' must be lowercase letters, digits and '-'`);
  LOADERS.set(prefix, loader);
}

registerDatasetLoader('synthetic', async (arg) => {
  const [count, seed] = arg.split(':').map((s) => (s === '' ? NaN : Number(s)));
  if (!Number.isInteger(count) || count < 1 || (seed !== undefined && !Number.isInteger(seed))) {
    throw new Error(`dataset 'synthetic:${arg}': expected synthetic:<count>[:<seed>] with integers, e.g. synthetic:16:0`);
  }
  return syntheticShapes({ count, seed: seed ?? 0 });
});

interface ManifestItem {
  id: string;
  image: string;
  objects: { mask: string; class?: string; className?: string }[];
}

/** A manifest dataset (see the module comment). */
export async function openManifestDataset(path: string): Promise<Dataset> {
  const fs = await nodeFs();
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`dataset ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let m: { name?: string; items?: ManifestItem[] };
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new Error(`dataset ${path}: not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(m.items)) throw new Error(`dataset ${path}: expected { "items": [ { "id", "image", "objects": [ { "mask", "class" } ] } ] }`);
  const base = path.replace(/[/\\][^/\\]*$/, '') || '.';
  const resolve = (p: string) => (/^([/\\]|[A-Za-z]:)/.test(p) ? p : joinPath(base, p));
  const items = m.items;
  items.forEach((it, i) => {
    if (!it || typeof it.id !== 'string' || typeof it.image !== 'string' || !Array.isArray(it.objects)) {
      throw new Error(`dataset ${path}: items[${i}] needs "id", "image" and "objects"`);
    }
  });
  const read = async (p: string, what: string) => {
    try {
      return new Uint8Array(await fs.readFile(resolve(p)));
    } catch (e) {
      throw new Error(`dataset ${path}: ${what} ${resolve(p)}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
  return {
    name: m.name ?? path,
    length: items.length,
    async get(i: number): Promise<DatasetItem> {
      const it = items[i];
      if (!it) throw new RangeError(`dataset ${path}: index ${i} is outside 0…${items.length - 1}`);
      const image = decodeImage(await read(it.image, 'image'), resolve(it.image));
      const objects = [];
      for (const [k, o] of it.objects.entries()) {
        const g = decodeGreyPng(await read(o.mask, `object ${k} mask`), resolve(o.mask));
        if (g.width !== image.width || g.height !== image.height) {
          throw new Error(`dataset ${path}: item '${it.id}' object ${k} mask is ${g.width}×${g.height}, the image ${image.width}×${image.height}`);
        }
        objects.push({ mask: Uint8Array.from(g.data, (v) => (v ? 1 : 0)), className: o.class ?? o.className ?? 'object' });
      }
      const item = { id: it.id, image, objects };
      validateItem(item, `dataset ${path}`);
      return item;
    },
  };
}

/** Opens `synthetic:…`, a registered `<prefix>:…`, or a manifest JSON path. */
export async function openDataset(spec: string): Promise<Dataset> {
  if (!spec) throw new Error('dataset: no dataset given (synthetic:<count>[:<seed>] or a manifest JSON)');
  const m = /^([a-z][a-z0-9-]*):(.*)$/.exec(spec);
  if (m && LOADERS.has(m[1])) return LOADERS.get(m[1])!(m[2]);
  if (m && !/^[a-z]$/i.test(m[1])) throw new Error(`dataset '${spec}': unknown kind '${m[1]}' (known: ${[...LOADERS.keys()].join(', ')}, or a manifest JSON path)`);
  return openManifestDataset(spec);
}
