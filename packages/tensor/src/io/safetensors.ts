/**
 * safetensors: an 8-byte little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {...}}`, then raw
 * little-endian data. Reading is lazy: the header is parsed once and each tensor is read with one
 * range read, so a 900 MB file is never loaded whole.
 */
import type { ByteSource } from './byte-source.js';
import { f16BitsToF32 } from '../tensor/half.js';

/** Element types of the format that this library reads. */
export type SafetensorsDType = 'F32' | 'F16' | 'BF16' | 'I32' | 'U8' | 'I64' | 'F64' | 'I8' | 'I16' | 'U16' | 'BOOL';

export interface SafetensorsEntry {
  dtype: SafetensorsDType;
  shape: number[];
  data_offsets: [number, number];
}

const BYTES: Record<SafetensorsDType, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, U8: 1, I64: 8, F64: 8, I8: 1, I16: 2, U16: 2, BOOL: 1 };
const MAX_HEADER = 100 * 1024 * 1024;

/** A safetensors file opened for lazy reads. */
export class SafetensorsFile {
  private constructor(
    private readonly source: ByteSource,
    /** Tensor entries by name (in header order). */
    readonly entries: Map<string, SafetensorsEntry>,
    /** The `__metadata__` string map, if any. */
    readonly metadata: Record<string, string>,
    private readonly dataStart: number,
    /** A label for error messages (usually the path). */
    readonly label: string,
  ) {}

  /** Reads and validates the header. */
  static async open(source: ByteSource, label = source.label ?? 'safetensors'): Promise<SafetensorsFile> {
    const size = await source.size();
    if (size < 8) throw new Error(`${label}: not a safetensors file (${size} bytes, shorter than the 8-byte header length)`);
    const lenBytes = await source.read(0, 8);
    const len = Number(new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true));
    if (len <= 0 || len > MAX_HEADER || 8 + len > size) {
      throw new Error(`${label}: not a safetensors file (header length ${len} does not fit a file of ${size} bytes)`);
    }
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(new TextDecoder().decode(await source.read(8, len)));
    } catch (e) {
      throw new Error(`${label}: safetensors header is not valid JSON (${(e as Error).message})`);
    }
    const entries = new Map<string, SafetensorsEntry>();
    let metadata: Record<string, string> = {};
    const dataLen = size - 8 - len;
    for (const [name, v] of Object.entries(header)) {
      if (name === '__metadata__') {
        metadata = (v ?? {}) as Record<string, string>;
        continue;
      }
      const e = v as SafetensorsEntry;
      if (!e || !(e.dtype in BYTES) || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) {
        throw new Error(`${label}: tensor '${name}' has an invalid header entry ${JSON.stringify(v)}`);
      }
      const [b, end] = e.data_offsets;
      const n = e.shape.reduce((a, d) => a * d, 1);
      if (end - b !== n * BYTES[e.dtype] || b < 0 || end > dataLen) {
        throw new Error(`${label}: tensor '${name}' (${e.dtype} [${e.shape}]) has data_offsets [${b}, ${end}] inconsistent with its shape or the file size`);
      }
      entries.set(name, e);
    }
    return new SafetensorsFile(source, entries, metadata, 8 + len, label);
  }

  /** Names of all tensors. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The header entry of a tensor; throws naming the file and key when missing. */
  entry(name: string): SafetensorsEntry {
    const e = this.entries.get(name);
    if (!e) throw new Error(`${this.label}: no tensor named '${name}'`);
    return e;
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
    const bytes = await this.readBytes(name);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = bytes.byteLength / BYTES[e.dtype];
    const out = new Int32Array(n);
    switch (e.dtype) {
      case 'I32':
        for (let i = 0; i < n; i++) out[i] = dv.getInt32(i * 4, true);
        break;
      case 'I64':
        for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(i * 8, true));
        break;
      case 'U8':
      case 'BOOL':
        for (let i = 0; i < n; i++) out[i] = bytes[i];
        break;
      default:
        throw new TypeError(`${this.label}: '${name}' has dtype ${e.dtype}, not an integer type`);
    }
    return out;
  }
}

/** Converts raw little-endian bytes of `dtype` to f32. */
export function toF32(bytes: Uint8Array, dtype: SafetensorsDType, what = 'tensor'): Float32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength / BYTES[dtype];
  const out = new Float32Array(n);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
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
    case 'I32':
      for (let i = 0; i < n; i++) out[i] = dv.getInt32(i * 4, true);
      break;
    case 'I64':
      for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(i * 8, true));
      break;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < n; i++) out[i] = bytes[i];
      break;
    case 'I8':
      for (let i = 0; i < n; i++) out[i] = dv.getInt8(i);
      break;
    case 'I16':
      for (let i = 0; i < n; i++) out[i] = dv.getInt16(i * 2, true);
      break;
    case 'U16':
      for (let i = 0; i < n; i++) out[i] = dv.getUint16(i * 2, true);
      break;
    default:
      throw new TypeError(`${what}: unsupported dtype ${dtype as string}`);
  }
  return out;
}
