/**
 * Converting a weights file (an official `.pt` checkpoint, or safetensors) into safetensors,
 * optionally with f16 floats. The output is produced as a stream of chunks (the header, then one
 * tensor at a time), so a 900 MB checkpoint never sits in memory whole; the layout is
 * `@rpsam2/tensor`'s `safetensorsLayout`, the one `serializeSafetensors` writes (header padded with
 * spaces to 8 bytes, tensors ordered by element size, then name), so the same tensors give the
 * same bytes.
 */
import { DTYPE_BYTES, f32ToF16Bits, safetensorsLayout, type SafetensorsDType } from '@rpsam2/tensor';
import type { WeightSource } from './load-weights.js';
import { isVideoOnlyKey } from '../model/sam2-model.js';
import { detectPrefix } from './source.js';

/** Options of {@link planConversion}, {@link conversionChunks} and {@link convertToSafetensors}. */
export interface ConvertOptions {
  /** Float tensors in the output: 'f32' (default) or 'f16' (rounded to nearest even). */
  dtype?: 'f32' | 'f16';
  /** Drop the video path's keys (memory attention/encoder, object pointers). Default false: keep every tensor. */
  imageOnly?: boolean;
  /** Extra `__metadata__` entries. */
  metadata?: Record<string, string>;
  /** Progress per written tensor. */
  onProgress?: (done: number, total: number, key: string) => void;
}

/** One tensor of the output. */
export interface PlannedTensor {
  name: string;
  from: SafetensorsDType;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

/** The header and data layout of a conversion. */
export interface ConversionPlan {
  /** 8-byte length + JSON header (padded). */
  header: Uint8Array;
  tensors: PlannedTensor[];
  /** Size of the whole output file. */
  totalBytes: number;
}

const FLOAT = new Set<SafetensorsDType>(['F32', 'F16', 'BF16', 'F64']);

/** Plans the output: which tensors, their output dtypes and offsets, and the header bytes. */
export function planConversion(source: WeightSource, options: ConvertOptions = {}): ConversionPlan {
  const target: SafetensorsDType = options.dtype === 'f16' ? 'F16' : 'F32';
  if (options.dtype !== undefined && options.dtype !== 'f32' && options.dtype !== 'f16') {
    throw new TypeError(`convert: dtype must be 'f32' or 'f16', got ${JSON.stringify(options.dtype)}`);
  }
  const prefix = detectPrefix(source.keys()) ?? '';
  const specs = source
    .keys()
    .filter((k) => !(options.imageOnly && k.startsWith(prefix) && isVideoOnlyKey(k.slice(prefix.length))))
    .map((name) => {
      const e = source.entry(name);
      const from = e.dtype as SafetensorsDType;
      if (!(from in DTYPE_BYTES)) throw new Error(`convert: ${source.label}: tensor '${name}' has unsupported dtype ${e.dtype}`);
      return { name, from, dtype: FLOAT.has(from) ? target : from, shape: [...e.shape] };
    });
  const metadata: Record<string, string> = { format: 'pt', ...options.metadata };
  // The tensor package's layout, so the streamed file is byte-identical to `serializeSafetensors`.
  const layout = safetensorsLayout(specs, Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, String(v)])));
  return { header: layout.header, tensors: layout.tensors, totalBytes: layout.header.byteLength + layout.dataBytes };
}

/** The output bytes of one planned tensor. */
async function tensorBytes(source: WeightSource & { readBytes?: (n: string) => Promise<Uint8Array> }, t: PlannedTensor): Promise<Uint8Array> {
  // Same dtype (or a non-float): the raw little-endian bytes as they are.
  if (t.from === t.dtype && source.readBytes) return source.readBytes(t.name);
  const values = await source.readF32(t.name);
  if (t.dtype === 'F32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (t.dtype === 'F16') {
    const h = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) h[i] = f32ToF16Bits(values[i]);
    // Uint16Array is host-endian; every WebGPU/Node host we target is little-endian.
    return new Uint8Array(h.buffer);
  }
  throw new Error(`convert: ${source.label}: cannot convert '${t.name}' from ${t.from} to ${t.dtype} without raw byte access`);
}

/**
 * The converted file as chunks: the header first, then each tensor's bytes in file order.
 * Checks every chunk's length against the plan.
 */
export async function* conversionChunks(source: WeightSource, plan: ConversionPlan, options: ConvertOptions = {}): AsyncGenerator<Uint8Array> {
  yield plan.header;
  let done = 0;
  for (const t of plan.tensors) {
    const bytes = await tensorBytes(source, t);
    if (bytes.byteLength !== t.end - t.begin) {
      throw new Error(`convert: ${source.label}: '${t.name}' gave ${bytes.byteLength} bytes, expected ${t.end - t.begin}`);
    }
    yield bytes;
    options.onProgress?.(++done, plan.tensors.length, t.name);
  }
}

/** Converts into one in-memory safetensors file (fine for small models; use `convertWeightsFile` in Node for large ones). */
export async function convertToSafetensors(source: WeightSource, options: ConvertOptions = {}): Promise<Uint8Array> {
  const plan = planConversion(source, options);
  const out = new Uint8Array(plan.totalBytes);
  let at = 0;
  for await (const chunk of conversionChunks(source, plan, options)) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
