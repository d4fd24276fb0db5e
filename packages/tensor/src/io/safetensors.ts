/**
 * safetensors: an 8-byte little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {...}}`, then raw
 * little-endian data. Reading is lazy: the header is parsed once and each tensor is read with one
 * range read, so a 900 MB file is never loaded whole.
 */
import type { ByteSource } from './byte-source.js';
import { f16BitsToF32 } from '../tensor/half.js';
import { NamedEntries } from './named-entries.js';

/** Element types of the format that this library reads. */
export type SafetensorsDType = 'F32' | 'F16' | 'BF16' | 'I32' | 'U8' | 'I64' | 'F64' | 'I8' | 'I16' | 'U16' | 'BOOL';

/**
 * One tensor of a safetensors header: its dtype, shape and `[begin, end)` byte offsets in the data
 * section (after the header).
 */
export interface SafetensorsEntry {
  dtype: SafetensorsDType;
  shape: number[];
  data_offsets: [number, number];
}

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Record<SafetensorsDType, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, U8: 1, I64: 8, F64: 8, I8: 1, I16: 2, U16: 2, BOOL: 1 };
const MAX_HEADER = 100 * 1024 * 1024;

/** A safetensors file opened for lazy reads. */
export class SafetensorsFile extends NamedEntries<SafetensorsEntry> {
  private constructor(
    private readonly source: ByteSource,
    /** Tensor entries by name (in header order). */
    entries: Map<string, SafetensorsEntry>,
    /** The `__metadata__` string map, if any. */
    readonly metadata: Record<string, string>,
    private readonly dataStart: number,
    label: string,
  ) {
    super(entries, label);
  }

  /**
   * Reads and validates the header (two small range reads: the length, then the JSON). Throws,
   * naming the file, on a file too short for its header, a bad header length, a header that is
   * not a JSON object, an unknown dtype, a bad shape, or data_offsets that disagree with the
   * shape, overlap another tensor or point past the end of the file (a truncated file).
   */
  static async open(source: ByteSource, label = source.label ?? 'safetensors'): Promise<SafetensorsFile> {
    const size = await source.size();
    if (size < 8) throw new Error(`${label}: not a safetensors file (${size} bytes, shorter than the 8-byte header length)`);
    const lenBytes = await source.read(0, 8);
    const len64 = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
    if (len64 === 0n || len64 > BigInt(MAX_HEADER) || 8n + len64 > BigInt(size)) {
      throw new Error(
        `${label}: not a safetensors file or truncated (header length ${len64} ` +
          (len64 > BigInt(MAX_HEADER) ? `exceeds the ${MAX_HEADER}-byte limit)` : `does not fit a file of ${size} bytes)`),
      );
    }
    const len = Number(len64);
    let header: unknown;
    try {
      header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await source.read(8, len)));
    } catch (e) {
      throw new Error(`${label}: safetensors header is not valid JSON (${(e as Error).message})`);
    }
    if (header === null || typeof header !== 'object' || Array.isArray(header)) {
      throw new Error(`${label}: safetensors header is not a JSON object`);
    }
    const entries = new Map<string, SafetensorsEntry>();
    let metadata: Record<string, string> = {};
    const dataLen = size - 8 - len;
    for (const [name, v] of Object.entries(header)) {
      if (name === '__metadata__') {
        metadata = checkMetadata(v, label);
        continue;
      }
      entries.set(name, checkEntry(name, v, dataLen, label));
    }
    // Tensors must not share bytes (a corrupt or hand-edited header).
    const byStart = [...entries].filter(([, e]) => e.data_offsets[1] > e.data_offsets[0]).sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
    for (let k = 1; k < byStart.length; k++) {
      const [prevName, prev] = byStart[k - 1];
      const [name, e] = byStart[k];
      if (e.data_offsets[0] < prev.data_offsets[1]) {
        throw new Error(`${label}: tensors '${prevName}' [${prev.data_offsets}] and '${name}' [${e.data_offsets}] have overlapping data_offsets`);
      }
    }
    return new SafetensorsFile(source, entries, metadata, 8 + len, label);
  }

  protected missingEntry(name: string): string {
    return `${this.label}: no tensor named '${name}' (the file has ${this.entries.size} tensors)`;
  }

  /** Raw little-endian bytes of a tensor. */
  async readBytes(name: string): Promise<Uint8Array> {
    const e = this.entry(name);
    return this.source.read(this.dataStart + e.data_offsets[0], e.data_offsets[1] - e.data_offsets[0]);
  }

  /** A tensor's values as f32 (F32/F16/BF16/integers converted). */
  async readF32(name: string): Promise<Float32Array> {
    const e = this.entry(name);
    return toF32(await this.readBytes(name), e.dtype, `${this.label}: '${name}'`);
  }

  /** An integer tensor's values as i32. */
  async readI32(name: string): Promise<Int32Array> {
    const e = this.entry(name);
    return toI32(await this.readBytes(name), e.dtype, `${this.label}: '${name}'`);
  }
}

/** Validates one header entry. */
function checkEntry(name: string, v: unknown, dataLen: number, label: string): SafetensorsEntry {
  const what = `${label}: tensor '${name}'`;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${what} has an invalid header entry ${JSON.stringify(v)}`);
  const e = v as Partial<SafetensorsEntry>;
  if (typeof e.dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, e.dtype)) {
    throw new Error(`${what} has unknown dtype ${JSON.stringify(e.dtype)} (known: ${Object.keys(DTYPE_BYTES).join(', ')})`);
  }
  if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new Error(`${what} has an invalid shape ${JSON.stringify(e.shape)}`);
  }
  const off = e.data_offsets;
  if (!Array.isArray(off) || off.length !== 2 || off.some((o) => !Number.isSafeInteger(o) || o < 0) || off[1] < off[0]) {
    throw new Error(`${what} has invalid data_offsets ${JSON.stringify(off)}`);
  }
  const need = e.shape.reduce((a, d) => a * d, 1) * DTYPE_BYTES[e.dtype];
  if (off[1] - off[0] !== need) {
    throw new Error(`${what} (${e.dtype} [${e.shape.join(', ')}]) has data_offsets [${off}] spanning ${off[1] - off[0]} bytes, but its shape needs ${need}`);
  }
  if (off[1] > dataLen) {
    throw new Error(`${what} ends at data byte ${off[1]}, but the file holds only ${dataLen} data bytes (truncated file?)`);
  }
  return { dtype: e.dtype, shape: [...e.shape], data_offsets: [off[0], off[1]] };
}

/** Validates `__metadata__`: a map of strings. */
function checkMetadata(v: unknown, label: string): Record<string, string> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${label}: __metadata__ is not a JSON object`);
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') throw new Error(`${label}: __metadata__ '${k}' is not a string (${JSON.stringify(x)})`);
  }
  return v as Record<string, string>;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Element `i` of little-endian data, for the integer dtypes whose values are all exact Numbers
 * (I64 is left to each caller: f32 takes it as is, i32 checks its range). Shared by toF32 and toI32.
 */
const SMALL_INT_READERS: Partial<Record<SafetensorsDType, (dv: DataView, i: number) => number>> = {
  I32: (dv, i) => dv.getInt32(i * 4, true),
  I16: (dv, i) => dv.getInt16(i * 2, true),
  I8: (dv, i) => dv.getInt8(i),
  U16: (dv, i) => dv.getUint16(i * 2, true),
  U8: (dv, i) => dv.getUint8(i),
  BOOL: (dv, i) => dv.getUint8(i),
};

/** Fills `out` through the small-integer reader of `dtype`; false when `dtype` has none. */
function readSmallInts(dv: DataView, dtype: SafetensorsDType, out: Float32Array | Int32Array): boolean {
  const read = Object.hasOwn(SMALL_INT_READERS, dtype) ? SMALL_INT_READERS[dtype] : undefined;
  if (!read) return false;
  for (let i = 0; i < out.length; i++) out[i] = read(dv, i);
  return true;
}

/** Converts raw little-endian bytes of `dtype` to f32. */
export function toF32(bytes: Uint8Array, dtype: SafetensorsDType, what = 'tensor'): Float32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength / DTYPE_BYTES[dtype];
  const out = new Float32Array(n);
  switch (dtype) {
    case 'F32':
      // Fast path: a byte copy when the host is little-endian too. (Not `bytes.slice().buffer`:
      // a Node Buffer's slice shares memory, so its buffer would start at the file's byte 0.)
      if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes);
      else for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = f16BitsToF32(dv.getUint16(i * 2, true));
      break;
    case 'BF16': {
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = dv.getUint16(i * 2, true) << 16;
      break;
    }
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(i * 8, true);
      break;
    case 'I64':
      for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(i * 8, true));
      break;
    default:
      if (!readSmallInts(dv, dtype, out)) throw new TypeError(`${what}: unsupported dtype ${dtype as string}`);
  }
  return out;
}

/** Converts raw little-endian bytes of an integer `dtype` to i32; I64 values must fit. */
export function toI32(bytes: Uint8Array, dtype: SafetensorsDType, what = 'tensor'): Int32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength / DTYPE_BYTES[dtype];
  const out = new Int32Array(n);
  if (dtype === 'I64') {
    for (let i = 0; i < n; i++) {
      const v = dv.getBigInt64(i * 8, true);
      if (v < -2147483648n || v > 2147483647n) throw new RangeError(`${what} element ${i} = ${v} does not fit in i32`);
      out[i] = Number(v);
    }
  } else if (!readSmallInts(dv, dtype, out)) {
    throw new TypeError(`${what} has dtype ${dtype}, not an integer type`);
  }
  return out;
}
