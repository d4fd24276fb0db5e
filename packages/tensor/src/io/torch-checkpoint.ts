/**
 * PyTorch checkpoints (`torch.save`, zip format since 1.6) read without Python and without
 * executing anything: a zip archive holding `<archive>/data.pkl` (the pickled object, tensors as
 * persistent ids to storages), `<archive>/data/<key>` (raw storages), `<archive>/version` and
 * maybe `<archive>/byteorder`. The pickle is decoded by the restricted unpickler with an allowlist
 * of exactly the globals a state dict needs; storages are read by range only when a tensor is
 * requested, so a 900 MB checkpoint is never loaded whole.
 */
import type { ByteSource } from './byte-source.js';
import { ZipArchive } from './zip.js';
import { NamedEntries } from './named-entries.js';
import { isPickleTuple, PickleGlobal, unpickle, type PickleGlobalHandler } from './pickle.js';
import { DTYPE_BYTES, SafetensorsFile, toF32, toI32, type SafetensorsDType } from './safetensors.js';

/** The read interface shared by `SafetensorsFile` and `TorchCheckpoint`, for model loaders. */
export interface TensorFileReader {
  /** A label for error messages (usually the path). */
  readonly label: string;
  /** Names of all tensors, in file order. */
  keys(): string[];
  /** Whether the file has a tensor called `name`. */
  has(name: string): boolean;
  /** The dtype and shape of the tensor `name`; throws naming the file and key when missing. */
  entry(name: string): { dtype: SafetensorsDType; shape: number[] };
  /** Contiguous (row-major) little-endian bytes. */
  readBytes(name: string): Promise<Uint8Array>;
  /** Reads a tensor's values as f32 (other float and integer dtypes converted). */
  readF32(name: string): Promise<Float32Array>;
  /** Reads an integer tensor's values as i32 (I64 values must fit). */
  readI32(name: string): Promise<Int32Array>;
}

/** A tensor of the checkpoint: a strided view of one storage. */
export interface TorchTensorEntry {
  dtype: SafetensorsDType;
  shape: number[];
  /** Strides in elements (PyTorch's `stride()`). */
  strides: number[];
  /** Offset of the first element in its storage, in elements (`storage_offset()`). */
  offset: number;
  /** The storage key (`<archive>/data/<key>`). */
  storage: string;
  /** Whether the view is row-major contiguous (then it is read with one range read). */
  contiguous: boolean;
  requiresGrad: boolean;
}

/** A storage named by a persistent id `('storage', torch.XStorage, key, location, numel)`. */
class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: SafetensorsDType,
    readonly numel: number,
    readonly location: string,
  ) {}
}

/** Storage classes by `torch.<name>` and the dtype of their elements. */
const STORAGE_DTYPES: Record<string, SafetensorsDType> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
  UntypedStorage: 'U8',
};


/** Largest data.pkl accepted (the real ones are tens of kilobytes). */
const MAX_PICKLE = 256 * 1024 * 1024;

class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly strides: number[],
    readonly requiresGrad: boolean,
  ) {}
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function intTuple(v: unknown, what: string): number[] {
  if (!isPickleTuple(v) && !Array.isArray(v)) throw new Error(`${what} must be a tuple of ints, got ${typeof v}`);
  const out = [...(v as unknown[])];
  if (!out.every(isNonNegInt)) throw new Error(`${what} (${out.join(', ')}) must hold non-negative integers`);
  return out as number[];
}

/** `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`. */
function rebuildTensorV2(args: readonly unknown[]): TensorRef {
  if (args.length < 6 || args.length > 7) throw new Error(`expected 6 or 7 arguments, got ${args.length}`);
  const [storage, offset, sizeArg, strideArg, requiresGrad] = args;
  if (!(storage instanceof StorageRef)) throw new Error('the first argument is not a storage from a persistent id');
  const st = storage;
  if (!isNonNegInt(offset)) throw new Error(`storage_offset ${String(offset)} is not a non-negative integer`);
  const shape = intTuple(sizeArg, 'size');
  const strides = intTuple(strideArg, 'stride');
  if (shape.length !== strides.length) throw new Error(`size (${shape}) and stride (${strides}) have different ranks`);
  const numel = shape.reduce((a, d) => a * d, 1);
  if (numel > 0) {
    const last = offset + shape.reduce((a, d, i) => a + (d - 1) * strides[i], 0);
    if (last >= st.numel) {
      throw new Error(
        `view (offset ${offset}, size [${shape}], stride [${strides}]) reaches element ${last} of storage '${st.key}' which has ${st.numel}`,
      );
    }
  }
  return new TensorRef(st, offset, shape, strides, requiresGrad === true);
}

/** The allowlist: exactly what `torch.save(state_dict)` pickles need. */
function checkpointGlobals(): Record<string, PickleGlobalHandler> {
  const g: Record<string, PickleGlobalHandler> = {
    'collections.OrderedDict': {
      // OrderedDict() then SETITEMS; the list-of-pairs form is accepted too.
      call: (args) => {
        const m = new Map<unknown, unknown>();
        if (args.length === 1 && Array.isArray(args[0])) {
          for (const kv of args[0] as unknown[]) {
            if (!Array.isArray(kv) || kv.length !== 2) throw new Error('expected (key, value) pairs');
            m.set(kv[0], kv[1]);
          }
        } else if (args.length !== 0) {
          throw new Error(`expected no arguments or a list of pairs, got ${args.length} arguments`);
        }
        return m;
      },
    },
    'torch._utils._rebuild_tensor_v2': { call: rebuildTensorV2 },
    'torch._utils._rebuild_parameter': {
      call: (args) => {
        if (!(args[0] instanceof TensorRef)) throw new Error('expected a tensor as the first argument');
        return args[0];
      },
    },
  };
  for (const name of Object.keys(STORAGE_DTYPES)) g[`torch.${name}`] = {};
  return g;
}

/**
 * Finds the archive folder (`<archive>/data.pkl`): PyTorch names every record after the first
 * entry's folder; any single-folder data.pkl is accepted otherwise.
 */
function findArchiveName(zip: ZipArchive, label: string): string {
  const names = zip.names();
  const first = names[0]?.split('/')[0];
  if (first !== undefined && zip.has(`${first}/data.pkl`)) return first;
  const candidates = names.filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (candidates.length === 1) return candidates[0].split('/')[0];
  if (candidates.length > 1) throw new Error(`${label}: several data.pkl records (${candidates.join(', ')}); cannot tell which is the checkpoint`);
  const scripted = names.some((n) => /^[^/]+\/constants\.pkl$/.test(n)) ? ' (it looks like a TorchScript archive, which is not a checkpoint)' : '';
  throw new Error(`${label}: not a PyTorch checkpoint: no '<archive>/data.pkl' record among ${names.length} zip entries${scripted}`);
}

/** Size-1 dims dropped and dims that step like one merged; [] means a single element or contiguous run. */
function collapse(shape: number[], strides: number[]): { size: number[]; stride: number[] } {
  const size: number[] = [];
  const stride: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const n = size.length;
    if (n > 0 && stride[n - 1] === strides[i] * shape[i]) {
      size[n - 1] *= shape[i];
      stride[n - 1] = strides[i];
    } else {
      size.push(shape[i]);
      stride.push(strides[i]);
    }
  }
  return { size, stride };
}

function isContiguous(shape: number[], strides: number[]): boolean {
  const c = collapse(shape, strides);
  return c.size.length === 0 || (c.size.length === 1 && c.stride[0] === 1);
}

/**
 * Copies a strided view out of `src` (which starts at the view's first element) into a new
 * row-major buffer; contiguous inner runs are copied with one `set` each.
 */
function materialise(src: Uint8Array, itemBytes: number, shape: number[], strides: number[]): Uint8Array {
  const numel = shape.reduce((a, d) => a * d, 1);
  const out = new Uint8Array(numel * itemBytes);
  if (numel === 0) return out;
  const { size, stride } = collapse(shape, strides);
  if (size.length === 0) {
    out.set(src.subarray(0, itemBytes));
    return out;
  }
  const d = size.length - 1;
  const inner = size[d];
  const innerStride = stride[d] * itemBytes;
  const runBytes = inner * itemBytes;
  const outer = numel / inner;
  const idx = new Array<number>(d).fill(0);
  let base = 0; // byte offset in src of the current run
  let o = 0;
  for (let r = 0; r < outer; r++) {
    if (stride[d] === 1) {
      out.set(src.subarray(base, base + runBytes), o);
      o += runBytes;
    } else {
      for (let i = 0, s = base; i < inner; i++, s += innerStride) {
        for (let b = 0; b < itemBytes; b++) out[o++] = src[s + b];
      }
    }
    // Odometer over the outer dims.
    for (let k = d - 1; k >= 0; k--) {
      base += stride[k] * itemBytes;
      if (++idx[k] < size[k]) break;
      base -= stride[k] * size[k] * itemBytes;
      idx[k] = 0;
    }
  }
  return out;
}

/** Reverses the bytes of every `itemBytes`-sized element, in place (big-endian archives). */
function swapBytes(b: Uint8Array, itemBytes: number): void {
  if (itemBytes === 1) return;
  for (let i = 0; i < b.byteLength; i += itemBytes) {
    for (let lo = i, hi = i + itemBytes - 1; lo < hi; lo++, hi--) {
      const t = b[lo];
      b[lo] = b[hi];
      b[hi] = t;
    }
  }
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Options of `TorchCheckpoint.open`. */
export interface TorchCheckpointOptions {
  /**
   * Check the CRC-32 of a storage whenever a tensor covers all of it (default false: ~5 s more
   * for a 900 MB checkpoint). `data.pkl` and the small records are always checked.
   */
  verifyCrc?: boolean;
}

/** A PyTorch zip checkpoint opened for lazy reads; modelled on `SafetensorsFile`. */
export class TorchCheckpoint extends NamedEntries<TorchTensorEntry> implements TensorFileReader {
  private constructor(
    private readonly zip: ZipArchive,
    /** The archive folder inside the zip (e.g. `archive`, or the saved file's stem). */
    readonly archiveName: string,
    /** Tensors of the state dict by name, in pickle order. */
    entries: Map<string, TorchTensorEntry>,
    /** Non-tensor values of the state dict (ints, nested dicts, …), decoded but not interpreted. */
    readonly extras: Map<string, unknown>,
    /** Where the state dict was found: `'model'` for `{"model": state_dict}`, `''` for a bare state dict. */
    readonly prefix: string,
    /** Keys of the top-level dict. */
    readonly topLevelKeys: string[],
    /** Byte order of the storages (from `<archive>/byteorder`; little when absent). */
    readonly byteOrder: 'little' | 'big',
    label: string,
    private readonly verifyCrc: boolean,
  ) {
    super(entries, label);
  }

  /**
   * Opens a checkpoint: reads the zip central directory, `data.pkl` and the small records,
   * never a storage. Throws naming `label` for a non-zip, truncated or non-checkpoint file, and
   * for any pickle global outside the allowlist.
   */
  static async open(source: ByteSource, label = source.label ?? 'checkpoint', options: TorchCheckpointOptions = {}): Promise<TorchCheckpoint> {
    const size = await source.size();
    if (size >= 2) {
      const head = await source.read(0, Math.min(size, 4));
      if (head[0] === 0x80 && head[1] <= 5) {
        throw new Error(`${label}: legacy (pre-1.6, non-zip) torch.save format is not supported; re-save it with a current PyTorch`);
      }
      if (head[0] !== 0x50 || head[1] !== 0x4b) {
        throw new Error(`${label}: not a PyTorch zip checkpoint (does not start with the zip signature 'PK')`);
      }
    }
    const zip = await ZipArchive.open(source, label);
    const archive = findArchiveName(zip, label);
    const pklName = `${archive}/data.pkl`;
    if (zip.entry(pklName).size > MAX_PICKLE) throw new Error(`${label}: ${pklName} is ${zip.entry(pklName).size} bytes, too large for a checkpoint pickle`);

    let byteOrder: 'little' | 'big' = 'little';
    if (zip.has(`${archive}/byteorder`)) {
      const s = new TextDecoder().decode(await zip.read(`${archive}/byteorder`)).trim();
      if (s !== 'little' && s !== 'big') throw new Error(`${label}: ${archive}/byteorder says '${s}', expected 'little' or 'big'`);
      byteOrder = s;
    }

    const root = unpickle(await zip.read(pklName), {
      label: `${label}: ${pklName}`,
      globals: checkpointGlobals(),
      persistentLoad: (pid) => {
        if (!isPickleTuple(pid) || pid.length !== 5 || pid[0] !== 'storage') {
          throw new Error(`expected ('storage', type, key, location, numel)`);
        }
        const [, type, key, location, numel] = pid;
        if (!(type instanceof PickleGlobal) || type.module !== 'torch' || !Object.prototype.hasOwnProperty.call(STORAGE_DTYPES, type.name)) {
          throw new Error(`storage type is not a torch storage class`);
        }
        if (typeof key !== 'string' || typeof location !== 'string' || !isNonNegInt(numel)) {
          throw new Error(`expected a string key, a string location and an integer numel`);
        }
        const dtype = STORAGE_DTYPES[type.name];
        const entryName = `${archive}/data/${key}`;
        if (!zip.has(entryName)) throw new Error(`storage '${key}' has no record ${entryName} in the archive`);
        const have = zip.entry(entryName).size;
        if (have < numel * DTYPE_BYTES[dtype]) {
          throw new Error(`storage '${key}' (${numel} × ${dtype}) needs ${numel * DTYPE_BYTES[dtype]} bytes, ${entryName} has ${have}`);
        }
        return new StorageRef(key, dtype, numel, location);
      },
      // BUILD only sets attributes of an OrderedDict (a state dict's `_metadata`); they are not needed.
      build: (obj, state) => {
        if (!(obj instanceof Map)) throw new Error('only a dict (OrderedDict) may receive BUILD state');
        if (state !== null && !(state instanceof Map) && !isPickleTuple(state)) throw new Error('expected a dict of attributes');
        return obj;
      },
    });

    if (!(root instanceof Map)) {
      const what = root instanceof TensorRef ? 'a single tensor' : typeof root;
      throw new Error(`${label}: the checkpoint holds ${what}, expected a dict (a state dict or {"model": state_dict})`);
    }
    const topLevelKeys = [...root.keys()].map(String);
    let prefix = '';
    let stateDict: Map<unknown, unknown> = root;
    const model = root.get('model');
    if (model instanceof Map) {
      prefix = 'model';
      stateDict = model;
    }

    const entries = new Map<string, TorchTensorEntry>();
    const extras = new Map<string, unknown>();
    for (const [k, v] of stateDict) {
      const name = String(k);
      if (v instanceof TensorRef) {
        entries.set(name, {
          dtype: v.storage.dtype,
          shape: v.shape,
          strides: v.strides,
          offset: v.offset,
          storage: v.storage.key,
          contiguous: isContiguous(v.shape, v.strides),
          requiresGrad: v.requiresGrad,
        });
      } else {
        extras.set(name, v);
      }
    }
    return new TorchCheckpoint(zip, archive, entries, extras, prefix, topLevelKeys, byteOrder, label, options.verifyCrc ?? false);
  }

  protected missingEntry(name: string): string {
    const where = this.prefix ? ` (state dict under '${this.prefix}')` : '';
    return `${this.label}: no tensor named '${name}'${where}`;
  }

  /**
   * A tensor's bytes, row-major contiguous and little-endian: one range read of its storage for
   * contiguous views, otherwise one read of the span it touches, then a strided copy.
   */
  async readBytes(name: string): Promise<Uint8Array> {
    const e = this.entry(name);
    const item = DTYPE_BYTES[e.dtype];
    const numel = e.shape.reduce((a, d) => a * d, 1);
    if (numel === 0) return new Uint8Array(0);
    const record = `${this.archiveName}/data/${e.storage}`;
    let out: Uint8Array;
    if (e.contiguous) {
      out = await this.zip.readRange(record, e.offset * item, numel * item, this.verifyCrc);
      if (this.byteOrder === 'big') out = out.slice();
    } else {
      const last = e.offset + e.shape.reduce((a, d, i) => a + (d - 1) * e.strides[i], 0);
      const span = await this.zip.readRange(record, e.offset * item, (last + 1 - e.offset) * item, this.verifyCrc);
      out = materialise(span, item, e.shape, e.strides);
    }
    if (this.byteOrder === 'big') swapBytes(out, item);
    return out;
  }

  /** A tensor's values as f32 (F32/F16/BF16/F64/integers converted). */
  async readF32(name: string): Promise<Float32Array> {
    const e = this.entry(name);
    const bytes = await this.readBytes(name);
    if (e.dtype === 'F32' && LITTLE_ENDIAN_HOST) {
      // One copy into an aligned buffer of our own instead of a per-element DataView loop.
      const out = new Float32Array(bytes.byteLength / 4);
      new Uint8Array(out.buffer).set(bytes);
      return out;
    }
    return toF32(bytes, e.dtype, `${this.label}: '${name}'`);
  }

  /** An integer tensor's values as i32; I64 values outside the i32 range are an error. */
  async readI32(name: string): Promise<Int32Array> {
    const e = this.entry(name);
    return toI32(await this.readBytes(name), e.dtype, `${this.label}: '${name}'`);
  }
}

/**
 * Opens a weights file of either format by its first bytes: a zip (PyTorch `.pt`) as a
 * `TorchCheckpoint`, anything else as a `SafetensorsFile`.
 */
export async function openTensorFile(source: ByteSource, label = source.label ?? 'weights'): Promise<TensorFileReader> {
  const size = await source.size();
  const head = size >= 4 ? await source.read(0, 4) : new Uint8Array(0);
  if (head[0] === 0x50 && head[1] === 0x4b) return TorchCheckpoint.open(source, label);
  return SafetensorsFile.open(source, label);
}
