/**
 * Writing safetensors files, byte-compatible with the reference implementation: the JSON header
 * is padded with spaces to a multiple of 8 bytes (so the data starts 8-byte aligned), tensor data
 * is laid out contiguously sorted by element size (largest first) and then name, which keeps every
 * tensor aligned to its element size, and header keys come in that same order with `__metadata__`
 * last. For a file of one dtype the header keys are sorted by name.
 */
import type { Tensor } from '../tensor/tensor.js';
import { fmtShape, sizeOf } from '../tensor/shape.js';
import { f16BitsToF32, f32ToF16Bits } from '../tensor/half.js';
import { DTYPE_BYTES, type SafetensorsDType } from './safetensors.js';

/** Element types this writer produces. */
export type SafetensorsWriteDType = 'F32' | 'F16' | 'BF16' | 'I32' | 'U8';

/**
 * One tensor to write. `data` holds the values (converted to `dtype`: F16/BF16 rounded to nearest
 * even, integers checked), except that a Uint16Array for F16/BF16 is taken as raw bit patterns.
 */
export interface SafetensorsTensorData {
  dtype: SafetensorsWriteDType;
  shape: readonly number[];
  data: ArrayLike<number>;
}

/** A named tensor to write. */
export interface NamedSafetensorsTensor extends SafetensorsTensorData {
  name: string;
}

const ELEMENT_BYTES: Record<SafetensorsWriteDType, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, U8: 1 };

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** number → bfloat16 bit pattern (round to nearest even; NaN stays a quiet NaN). */
export function f32ToBf16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) & 0x8000) | 0x7fc0;
  // Adding 0x7fff plus the lowest kept bit rounds half-way cases to the even neighbour.
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** bfloat16 bit pattern → number (exact). */
export function bf16BitsToF32(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0];
}

/** Compares strings by Unicode code point, i.e. by UTF-8 bytes as the reference writer does. */
function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

/** What {@link safetensorsLayout} needs of a tensor: its name, dtype and shape. */
export interface SafetensorsLayoutSpec {
  name: string;
  dtype: SafetensorsDType;
  shape: readonly number[];
}

/** A tensor placed in the file: its spec (shape copied) and its byte range in the data section. */
export type SafetensorsLayoutEntry<T extends SafetensorsLayoutSpec = SafetensorsLayoutSpec> = T & { shape: number[]; begin: number; end: number };

/** The layout of a safetensors file, as {@link safetensorsLayout} plans it. */
export interface SafetensorsLayout<T extends SafetensorsLayoutSpec = SafetensorsLayoutSpec> {
  /** The 8-byte header length followed by the JSON header, padded with spaces to 8 bytes. */
  header: Uint8Array;
  /** The tensors in file order (by element size, largest first, then name), with data offsets. */
  tensors: SafetensorsLayoutEntry<T>[];
  /** Size of the data section; the file is `header.byteLength + dataBytes` bytes. */
  dataBytes: number;
}

/**
 * The byte layout of a safetensors file holding `specs`: the one place that decides tensor order,
 * data offsets and the header bytes, so that every writer (in-memory or streamed, e.g. the SAM 2
 * weight converter) gives the same bytes for the same tensors. `metadata`, when given, is written
 * as `__metadata__` after the tensors. Specs are not validated beyond their dtype (callers check
 * names and shapes with their own messages); extra properties of a spec are kept on its entry.
 */
export function safetensorsLayout<T extends SafetensorsLayoutSpec>(specs: readonly T[], metadata?: Record<string, string>): SafetensorsLayout<T> {
  for (const s of specs) {
    if (!(s.dtype in DTYPE_BYTES)) throw new TypeError(`safetensorsLayout: tensor '${s.name}' has unknown dtype ${String(s.dtype)}`);
  }
  const order = [...specs].sort((a, b) => DTYPE_BYTES[b.dtype] - DTYPE_BYTES[a.dtype] || compareCodePoints(a.name, b.name));
  let offset = 0;
  const tensors = order.map((s) => {
    const begin = offset;
    offset += sizeOf(s.shape) * DTYPE_BYTES[s.dtype];
    return { ...s, shape: [...s.shape], begin, end: offset };
  });
  // Built by hand: a JS object would move integer-like keys ("0", "1") to the front.
  const parts = tensors.map((t) => `${JSON.stringify(t.name)}:${JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [t.begin, t.end] })}`);
  if (metadata !== undefined) {
    parts.push(`"__metadata__":{${Object.entries(metadata).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLen = Math.ceil(json.byteLength / 8) * 8;
  const header = new Uint8Array(8 + headerLen);
  new DataView(header.buffer).setBigUint64(0, BigInt(headerLen), true);
  header.set(json, 8);
  header.fill(0x20, 8 + json.byteLength);
  return { header, tensors, dataBytes: offset };
}

/** Header bytes and data offsets of a file holding `specs` (validated). */
function plan(specs: { name: string; dtype: SafetensorsWriteDType; shape: readonly number[] }[], metadata?: Record<string, string>) {
  const seen = new Set<string>();
  for (const s of specs) {
    const what = `serializeSafetensors: tensor '${s.name}'`;
    if (typeof s.name !== 'string' || s.name.length === 0) throw new TypeError('serializeSafetensors: a tensor has an empty name');
    if (s.name === '__metadata__') throw new Error(`serializeSafetensors: '__metadata__' is reserved and cannot name a tensor`);
    if (seen.has(s.name)) throw new Error(`serializeSafetensors: duplicate tensor name '${s.name}'`);
    seen.add(s.name);
    if (!(s.dtype in ELEMENT_BYTES)) throw new TypeError(`${what}: unsupported dtype ${String(s.dtype)} (expected F32, F16, BF16, I32 or U8)`);
    if (!Array.isArray(s.shape) || s.shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new TypeError(`${what}: invalid shape ${JSON.stringify(s.shape)}`);
    }
  }
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new TypeError(`serializeSafetensors: metadata '${k}' must be a string, got ${typeof v}`);
    }
  }
  const layout = safetensorsLayout(specs.map((s) => ({ name: s.name, dtype: s.dtype, shape: s.shape })), metadata);
  const out = new Uint8Array(layout.header.byteLength + layout.dataBytes);
  out.set(layout.header);
  return { out, dataStart: layout.header.byteLength, planned: new Map(layout.tensors.map((t) => [t.name, t])) };
}

/** Writes `data` as `dtype` little-endian into `dst` (exactly `n` elements). */
function encode(dst: Uint8Array, dtype: SafetensorsWriteDType, data: ArrayLike<number>, what: string): void {
  const dv = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  const n = data.length;
  // Typed arrays of the file's own layout are copied as bytes (little-endian hosts).
  if (LITTLE_ENDIAN && ((dtype === 'F32' && data instanceof Float32Array) || (dtype === 'I32' && data instanceof Int32Array))) {
    dst.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return;
  }
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) dv.setFloat32(i * 4, data[i], true);
      break;
    case 'F16':
    case 'BF16': {
      if (data instanceof Uint16Array) {
        for (let i = 0; i < n; i++) dv.setUint16(i * 2, data[i], true);
      } else {
        const conv = dtype === 'F16' ? f32ToF16Bits : f32ToBf16Bits;
        for (let i = 0; i < n; i++) dv.setUint16(i * 2, conv(data[i]), true);
      }
      break;
    }
    case 'I32':
      for (let i = 0; i < n; i++) {
        const v = data[i];
        if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new RangeError(`${what}: value ${v} at index ${i} is not an I32`);
        dv.setInt32(i * 4, v, true);
      }
      break;
    case 'U8':
      for (let i = 0; i < n; i++) {
        const v = data[i];
        if (!Number.isInteger(v) || v < 0 || v > 255) throw new RangeError(`${what}: value ${v} at index ${i} is not a U8`);
        dst[i] = v;
      }
      break;
  }
}

/**
 * Serialises tensors (a list of named tensors or a name → tensor record) and optional string
 * metadata into the bytes of a safetensors file.
 */
export function serializeSafetensors(
  tensors: readonly NamedSafetensorsTensor[] | Record<string, SafetensorsTensorData>,
  metadata?: Record<string, string>,
): Uint8Array {
  const list: NamedSafetensorsTensor[] = Array.isArray(tensors)
    ? [...(tensors as readonly NamedSafetensorsTensor[])]
    : Object.entries(tensors as Record<string, SafetensorsTensorData>).map(([name, t]) => ({ name, ...t }));
  const { out, dataStart, planned } = plan(list, metadata);
  for (const t of list) {
    const p = planned.get(t.name)!;
    const what = `serializeSafetensors: tensor '${t.name}' (${t.dtype} ${fmtShape(t.shape)})`;
    const n = sizeOf(t.shape);
    if (!t.data || typeof t.data.length !== 'number' || t.data.length !== n) {
      throw new RangeError(`${what}: has ${t.data?.length} values, its shape needs ${n}`);
    }
    encode(out.subarray(dataStart + p.begin, dataStart + p.end), t.dtype, t.data, what);
  }
  return out;
}

/** Options of {@link saveTensors}. */
export interface SaveTensorsOptions {
  /** dtype of floating-point tensors in the file (default: F32 for f32 tensors, F16 for f16). */
  dtype?: 'F32' | 'F16';
}

/**
 * Reads GPU tensors back and serialises them into the bytes of a safetensors file. f32 tensors
 * are written as F32 (or rounded to F16 with `dtype: 'F16'`), f16 tensors as F16 (or widened with
 * `dtype: 'F32'`), i32 tensors as I32. One tensor is read back at a time, straight into place.
 */
export async function saveTensors(
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
  options: SaveTensorsOptions = {},
): Promise<Uint8Array> {
  if (options.dtype !== undefined && options.dtype !== 'F32' && options.dtype !== 'F16') {
    throw new TypeError(`saveTensors: dtype must be 'F32' or 'F16', got ${String(options.dtype)}`);
  }
  const entries = Object.entries(tensors);
  const specs = entries.map(([name, t]) => {
    if (!t || (t as Tensor).isTensor !== true) throw new TypeError(`saveTensors: '${name}' is not a Tensor`);
    if (t.isDisposed) throw new Error(`saveTensors: '${name}' (${t.describe()}) was used after dispose()`);
    const dtype: SafetensorsWriteDType = t.dtype === 'i32' ? 'I32' : (options.dtype ?? (t.dtype === 'f16' ? 'F16' : 'F32'));
    return { name, dtype, shape: t.shape };
  });
  const { out, dataStart, planned } = plan(specs, metadata);
  for (const [name, t] of entries) {
    const p = planned.get(name)!;
    if (p.end === p.begin) continue;
    const s = t.store;
    const raw = new Uint8Array(await s.backend.read(s.buffer, 0, s.bytes));
    const dst = out.subarray(dataStart + p.begin, dataStart + p.end);
    const sameLayout = (t.dtype === 'f32' && p.dtype === 'F32') || (t.dtype === 'f16' && p.dtype === 'F16') || t.dtype === 'i32';
    if (sameLayout) {
      // GPU buffers are little-endian like the format.
      dst.set(raw);
    } else if (t.dtype === 'f32') {
      encode(dst, 'F16', new Float32Array(raw.buffer, raw.byteOffset, t.size), `saveTensors: '${name}'`);
    } else {
      const h = new Uint16Array(raw.buffer, raw.byteOffset, t.size);
      const dv = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
      for (let i = 0; i < t.size; i++) dv.setFloat32(i * 4, f16BitsToF32(h[i]), true);
    }
  }
  return out;
}
