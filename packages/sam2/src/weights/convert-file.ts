/**
 * File-to-file conversion (Node): `.pt` or safetensors in, safetensors out, streamed tensor by
 * tensor into a temporary file next to the output, flushed, then renamed over it. An existing
 * output is therefore either replaced whole or left untouched (never half-written), and the
 * temporary file is removed on failure.
 */
import { f16BitsToF32, f32ToF16Bits } from '@rpsam2/tensor';
import { importNode } from './node-import.js';
import { openWeights, type WeightsInput } from './source.js';
import { conversionChunks, planConversion, type ConvertOptions } from './convert.js';

/** What `convertWeightsFile` wrote. */
export interface ConvertReport {
  input: string;
  output: string;
  inputFormat: 'pt' | 'safetensors' | 'reader';
  dtype: 'f32' | 'f16';
  tensors: number;
  bytes: number;
  ms: number;
}

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');

/**
 * Converts `input` (a path, ByteSource or WeightSource) into the safetensors file `output`,
 * atomically. Refuses to write over the input path.
 */
export async function convertWeightsFile(input: WeightsInput, output: string, options: ConvertOptions = {}): Promise<ConvertReport> {
  const t0 = performance.now();
  const fs = await importNode<Fs>('node:fs/promises');
  const path = await importNode<Path>('node:path');
  if (typeof input === 'string' && path.resolve(input) === path.resolve(output)) {
    throw new Error(`convert: the output ${output} is the input file; choose another output path`);
  }
  const opened = await openWeights(input);
  const plan = planConversion(opened.source, {
    ...options,
    metadata: { source_format: opened.format, converted_by: '@rpsam2/sam2', ...options.metadata },
  });
  const dir = path.dirname(path.resolve(output));
  const tmp = path.join(dir, `.${path.basename(output)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`);
  let fh: Awaited<ReturnType<Fs['open']>> | null = null;
  try {
    fh = await fs.open(tmp, 'wx');
    let at = 0;
    for await (const chunk of conversionChunks(opened.source, plan, options)) {
      let done = 0;
      while (done < chunk.byteLength) done += (await fh.write(chunk, done, chunk.byteLength - done, at + done)).bytesWritten;
      at += chunk.byteLength;
    }
    if (at !== plan.totalBytes) throw new Error(`wrote ${at} bytes, planned ${plan.totalBytes}`);
    await fh.sync();
    await fh.close();
    fh = null;
    await fs.rename(tmp, output);
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await fs.unlink(tmp).catch(() => undefined);
    const code = (e as NodeJS.ErrnoException).code;
    // Node's errno message repeats the code and names the temporary file; the code alone is clearer.
    throw new Error(`convert: ${output}: not written (${code ?? (e as Error).message})`, { cause: e });
  }
  return {
    input: opened.label,
    output,
    inputFormat: opened.format,
    dtype: options.dtype ?? 'f32',
    tensors: plan.tensors.length,
    bytes: plan.totalBytes,
    ms: performance.now() - t0,
  };
}

/**
 * Reads every tensor of a converted file back and compares it with the source: identical values
 * for f32 output, the source rounded to f16 for f16 output. Returns the names that differ.
 */
export async function verifyConversion(input: WeightsInput, output: WeightsInput, options: Pick<ConvertOptions, 'dtype' | 'imageOnly'> = {}): Promise<{ checked: number; differing: string[] }> {
  const src = (await openWeights(input)).source;
  const out = (await openWeights(output)).source;
  const plan = planConversion(src, options);
  const differing: string[] = [];
  const have = new Set(out.keys());
  for (const t of plan.tensors) {
    if (!have.has(t.name)) {
      differing.push(`${t.name} (missing)`);
      continue;
    }
    const e = out.entry(t.name);
    if (e.dtype !== t.dtype || e.shape.join(',') !== t.shape.join(',')) {
      differing.push(`${t.name} (${e.dtype} [${e.shape}] instead of ${t.dtype} [${t.shape}])`);
      continue;
    }
    const a = await src.readF32(t.name);
    const b = await out.readF32(t.name);
    const round = t.dtype === 'F16' && t.from !== 'F16' ? (v: number) => f16BitsToF32(f32ToF16Bits(v)) : (v: number) => v;
    for (let i = 0; i < a.length; i++) {
      const want = round(a[i]);
      if (!(Object.is(want, b[i]) || (Number.isNaN(want) && Number.isNaN(b[i])))) {
        differing.push(`${t.name} (element ${i}: ${b[i]} instead of ${want})`);
        break;
      }
    }
  }
  return { checked: plan.tensors.length, differing };
}
