/**
 * Property-based fuzzing (issue #22) of the weight readers, which take untrusted files: the
 * safetensors header and data reader, and the PyTorch zip container with its restricted
 * unpickler. Thousands of generated and mutated files per run, seeded and replayable (see
 * support/fuzz.js); each must read correctly or fail with an error naming the file, quickly.
 */
import fc from 'fast-check';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { bytesSource } from '../src/io/byte-source.js';
import { SafetensorsFile, DTYPE_BYTES, type SafetensorsDType } from '../src/io/safetensors.js';
import { openTensorFile } from '../src/io/torch-checkpoint.js';
import { unpickle } from '../src/io/pickle.js';
import { ZipArchive } from '../src/io/zip.js';
import { expectTypedOutcome, fuzz, mutatedBytes } from './support/fuzz.js';

const LABEL = 'fuzz-input';

/** A safetensors file: tensors of random dtypes and small shapes, optional metadata. */
function safetensorsBytes(tensors: { name: string; dtype: SafetensorsDType; shape: number[] }[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, d) => a * d, 1) * DTYPE_BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + n] };
    offset += n;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  for (let i = 8 + json.length; i < out.length; i++) out[i] = (i * 37) & 255;
  return out;
}

const tensorSpec = fc.record({
  name: fc.string({ minLength: 1, maxLength: 8 }).filter((s) => s !== '__metadata__'),
  dtype: fc.constantFrom(...(Object.keys(DTYPE_BYTES) as SafetensorsDType[])),
  shape: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
});
const validSafetensors = fc
  .tuple(fc.uniqueArray(tensorSpec, { maxLength: 5, selector: (t) => t.name }), fc.option(fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 })), { nil: undefined }))
  .map(([t, m]) => safetensorsBytes(t, m));

/** Opens a weights file and reads every tensor as f32 (what the model loader does). */
async function readAll(bytes: Uint8Array): Promise<number> {
  const f = await openTensorFile(bytesSource(bytes, LABEL), LABEL);
  let n = 0;
  for (const k of f.keys()) n += (await f.readF32(k)).length;
  return n;
}

describe('fuzz: safetensors reader', () => {
  it('generated files read back exactly; mutated ones read or fail naming the file', async () => {
    await fuzz('safetensors (generated)', validSafetensors, (b) => expectTypedOutcome(LABEL, async () => {
      const f = await SafetensorsFile.open(bytesSource(b, LABEL), LABEL);
      for (const k of f.keys()) expect((await f.readBytes(k)).length).toBe(f.entry(k).data_offsets[1] - f.entry(k).data_offsets[0]);
      return f;
    }, { check: (f) => expect(f.keys().length).toBeGreaterThanOrEqual(0) }), 1500);
    const seeds = [
      safetensorsBytes([{ name: 'a', dtype: 'F32', shape: [2, 3] }, { name: 'b', dtype: 'F16', shape: [4] }, { name: 'c', dtype: 'I64', shape: [1] }], { format: 'pt' }),
      safetensorsBytes([{ name: 'w', dtype: 'BF16', shape: [3, 1] }]),
    ];
    for (const [i, seed] of seeds.entries()) {
      // Mostly in the header (length + JSON), where parsing happens.
      await fuzz(`safetensors (mutated seed ${i})`, mutatedBytes(seed, { focus: seed.length - 16 }), (b) => expectTypedOutcome(LABEL, () => readAll(b)), 2500);
    }
  });

  it('header values chosen to break arithmetic (huge, negative, fractional, non-numbers)', async () => {
    const weird = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(2 ** 53, 2 ** 60, -1, 1e308, '1', null, [], {}), fc.string({ maxLength: 3 }));
    const entry = fc.record({ dtype: fc.oneof(fc.constantFrom('F32', 'F16', 'I64', 'BOOL'), fc.string({ maxLength: 4 })), shape: fc.array(weird, { maxLength: 3 }), data_offsets: fc.array(weird, { maxLength: 3 }) });
    const file = fc.tuple(fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(entry, weird), { maxKeys: 3 }), fc.nat({ max: 64 })).map(([h, pad]) => {
      const json = new TextEncoder().encode(JSON.stringify(h));
      const out = new Uint8Array(8 + json.length + pad);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      return out;
    });
    await fuzz('safetensors (adversarial headers)', file, (b) => expectTypedOutcome(LABEL, () => readAll(b)), 2500);
  });
});

/**
 * A complete 900-byte checkpoint in PyTorch's format: {'model': {'a.weight': f32 [2, 3],
 * 'a.t': its transpose (a strided view of the same storage), 'b': f16 [3] at storage offset 1,
 * 'n': 7}}, written by Python's pickle and zipfile with stand-in torch globals (no torch needed).
 */
const TINY_PT = Uint8Array.from(Buffer.from(
  'UEsDBBQAAAAAAGNjhl2JgRsqUAEAAFABAAANAAAAdGlueS9kYXRhLnBrbIACfXEAWAUAAABtb2RlbHEBY2NvbGxlY3Rpb25zCk9yZGVyZWREaWN0CnECKVJxAyhYCAAAAGEud2VpZ2h0cQRjdG9yY2guX3V0aWxzCl9yZWJ1aWxkX3RlbnNvcl92MgpxBSgoWAcAAABzdG9yYWdlcQZjdG9yY2gKRmxvYXRTdG9yYWdlCnEHWAEAAAAwcQhYAwAAAGNwdXEJSwZ0cQpRSwBLAksDhnELSwNLAYZxDIloAilScQ10cQ5ScQ9YAwAAAGEudHEQaAUoKGgGaAdoCGgJSwZ0cRFRSwBLA0sChnESSwFLA4ZxE4loAilScRR0cRVScRZYAQAAAGJxF2gFKChoBmN0b3JjaApIYWxmU3RvcmFnZQpxGFgBAAAAMXEZaAlLBHRxGlFLAUsDhXEbSwGFcRyJaAIpUnEddHEeUnEfWAEAAABucSBLB3VzLlBLAwQUAAAAAABjY4ZdhT3jGQYAAAAGAAAADgAAAHRpbnkvYnl0ZW9yZGVybGl0dGxlUEsDBBQAAAAAAGNjhl0k5TkZGAAAABgAAAALAAAAdGlueS9kYXRhLzAAAIA/AAAAQAAAQEAAAIBAAACgQAAAwEBQSwMEFAAAAAAAY2OGXSGUvVAIAAAACAAAAAsAAAB0aW55L2RhdGEvMQA8AEAAQgBEUEsDBBQAAAAAAGNjhl3RnmdVAgAAAAIAAAAMAAAAdGlueS92ZXJzaW9uMwpQSwECFAMUAAAAAABjY4ZdiYEbKlABAABQAQAADQAAAAAAAAAAAAAAgAEAAAAAdGlueS9kYXRhLnBrbFBLAQIUAxQAAAAAAGNjhl2FPeMZBgAAAAYAAAAOAAAAAAAAAAAAAACAAXsBAAB0aW55L2J5dGVvcmRlclBLAQIUAxQAAAAAAGNjhl0k5TkZGAAAABgAAAALAAAAAAAAAAAAAACAAa0BAAB0aW55L2RhdGEvMFBLAQIUAxQAAAAAAGNjhl0hlL1QCAAAAAgAAAALAAAAAAAAAAAAAACAAe4BAAB0aW55L2RhdGEvMVBLAQIUAxQAAAAAAGNjhl3RnmdVAgAAAAIAAAAMAAAAAAAAAAAAAACAAR8CAAB0aW55L3ZlcnNpb25QSwUGAAAAAAUABQAjAQAASwIAAAAA',
  'base64',
));

describe('fuzz: PyTorch zip checkpoint (zip + restricted unpickler)', () => {
  it('the tiny checkpoint reads exactly (the seed of the mutations)', async () => {
    const f = await openTensorFile(bytesSource(TINY_PT, LABEL), LABEL);
    expect(f.keys()).toEqual(['a.weight', 'a.t', 'b']);
    expect(Array.from(await f.readF32('a.t'))).toEqual([1, 4, 2, 5, 3, 6]);
    expect(Array.from(await f.readF32('b'))).toEqual([2, 3, 4]);
  });

  it('the whole file mutated (zip records, central directory, pickle, storages)', async () => {
    await fuzz('torch .pt (mutated file)', mutatedBytes(TINY_PT), (b) => expectTypedOutcome(LABEL, () => readAll(b)), 3000);
  });

  it('its data.pkl mutated inside a well-formed zip (the restricted unpickler behind the reader)', async () => {
    const zip = await ZipArchive.open(bytesSource(TINY_PT, LABEL), LABEL);
    const files = Object.fromEntries(await Promise.all(zip.names().map(async (n) => [n, await zip.read(n)] as const)));
    await fuzz('torch data.pkl (mutated, rezipped)', mutatedBytes(files['tiny/data.pkl']), (pkl) => expectTypedOutcome(LABEL, () => {
      const b = zipSync(Object.fromEntries(Object.entries(files).map(([n, d]) => [n, [n === 'tiny/data.pkl' ? pkl : d, { level: 0 }]])));
      return readAll(b);
    }), 3000);
  });

  it('the unpickler alone on random bytes (every opcode byte, any order)', async () => {
    await fuzz('unpickle (random)', fc.uint8Array({ maxLength: 256 }), (b) => expectTypedOutcome(LABEL, () => unpickle(b, { label: LABEL })), 3000);
  });
});
