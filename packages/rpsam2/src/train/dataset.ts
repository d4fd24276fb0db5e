/**
 * The data interface of training and candidate precomputation: a dataset is an indexed list of
 * items, each an RGB image with its objects (a ground-truth mask and a class name per object).
 * Loaders of real datasets implement {@link Dataset}; {@link InMemoryDataset} holds items in
 * memory (tests, generated data, small sets).
 */
import type { RgbImage } from '@rpsam2/sam2';

/** One object of an image: its mask at the image's size and its class. */
export interface DatasetObject {
  /** H×W row-major, nonzero = inside the object. */
  mask: Uint8Array;
  /** Class name (e.g. the instrument type). */
  className: string;
}

/** One image and its objects. */
export interface DatasetItem {
  /** Unique within the dataset; used as the cache key (letters, digits, `-`, `_`, `.`). */
  id: string;
  image: RgbImage;
  objects: DatasetObject[];
}

/** An indexed collection of items; `get` may load lazily (from disk, a network, a generator). */
export interface Dataset {
  /** A label for messages. */
  readonly name: string;
  readonly length: number;
  /** The item at `index`, in 0…length − 1. */
  get(index: number): Promise<DatasetItem>;
}

const ID_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Throws, naming the item and what is wrong, unless the item is well formed. */
export function validateItem(item: DatasetItem, where = 'dataset item'): void {
  if (!item || typeof item.id !== 'string' || !ID_RE.test(item.id)) {
    throw new Error(`${where}: id ${JSON.stringify(item?.id)} must be letters, digits, '_', '-' or '.' (it names the cache file)`);
  }
  const img = item.image;
  if (!img || !Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width < 1 || img.height < 1) {
    throw new Error(`${where} '${item.id}': image width and height must be positive integers`);
  }
  if ((img.channels !== 3 && img.channels !== 4) || img.data?.length !== img.width * img.height * img.channels) {
    throw new Error(`${where} '${item.id}': image data has ${img.data?.length} bytes for ${img.width}×${img.height}×${img.channels}`);
  }
  if (!Array.isArray(item.objects)) throw new Error(`${where} '${item.id}': objects must be an array`);
  item.objects.forEach((o, k) => {
    if (!(o.mask instanceof Uint8Array) || o.mask.length !== img.width * img.height) {
      throw new Error(`${where} '${item.id}': object ${k} mask has ${o.mask?.length} values, the image is ${img.height}×${img.width}`);
    }
    if (typeof o.className !== 'string') throw new Error(`${where} '${item.id}': object ${k} needs a className`);
  });
}

/** Number of nonzero mask values. */
export function maskArea(mask: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) n++;
  return n;
}

/** A dataset held in memory. Items are validated on construction. */
export class InMemoryDataset implements Dataset {
  private readonly items: DatasetItem[];

  constructor(
    items: DatasetItem[],
    readonly name = 'in-memory',
  ) {
    const seen = new Set<string>();
    items.forEach((it, i) => {
      validateItem(it, `${name}[${i}]`);
      if (seen.has(it.id)) throw new Error(`${name}: duplicate item id '${it.id}'`);
      seen.add(it.id);
    });
    this.items = [...items];
  }

  get length(): number {
    return this.items.length;
  }

  /** The item at `index`; a RangeError outside 0…length − 1. */
  async get(index: number): Promise<DatasetItem> {
    const it = this.items[index];
    if (!it) throw new RangeError(`${this.name}: index ${index} is outside 0…${this.items.length - 1}`);
    return it;
  }
}

/** The items of `dataset` at `indices` as a new dataset (e.g. a train/validation split). */
export function subset(dataset: Dataset, indices: readonly number[], name = `${dataset.name}[subset]`): Dataset {
  for (const i of indices) if (!Number.isInteger(i) || i < 0 || i >= dataset.length) throw new RangeError(`subset: index ${i} is outside ${dataset.name} (length ${dataset.length})`);
  return { name, length: indices.length, get: (i) => dataset.get(indices[i]) };
}
