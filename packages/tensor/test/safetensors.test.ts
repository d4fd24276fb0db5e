/**
 * safetensors reader and writer: half-precision conversions against hand-computed values, round
 * trips for every written dtype, the header layout of the reference implementation, the shared
 * SAM 2 fixture (read by range, re-serialised byte for byte), clear errors for corrupt files,
 * GPU tensors saved with saveTensors, and atomic file writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  SafetensorsFile,
  bf16BitsToF32,
  bytesSource,
  f16BitsToF32,
  f32ToBf16Bits,
  f32ToF16Bits,
  saveTensors,
  serializeSafetensors,
  tensor,
  toF32,
  type ByteSource,
  type NamedSafetensorsTensor,
} from '../src/index.js';
import { fileSource, saveSafetensorsFile, writeFileAtomic } from '../src/node.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WEIGHTS = join(ROOT, '../shared/fixtures/sam2/tiny256/weights.safetensors');

/** A ByteSource wrapper that counts the bytes and calls it serves. */
function counting(src: ByteSource): ByteSource & { bytesRead: number; reads: [number, number][] } {
  const c = {
    label: src.label,
    bytesRead: 0,
    reads: [] as [number, number][],
    size: () => src.size(),
    read: async (offset: number, length: number) => {
      c.bytesRead += length;
      c.reads.push([offset, length]);
      return src.read(offset, length);
    },
  };
  return c;
}

/** A file from a raw header string (not padded unless the caller pads it) and data bytes. */
function rawFile(header: string, data = new Uint8Array(0), lengthOverride?: bigint): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(h.byteLength), true);
  out.set(h, 8);
  out.set(data, 8 + h.byteLength);
  return out;
}

const ELEMENT_BYTES: Record<string, number> = { F32: 4, I32: 4, F16: 2, BF16: 2, U8: 1 };
const open = (bytes: Uint8Array, label = 'test.safetensors') => SafetensorsFile.open(bytesSource(bytes, label));

/** The header JSON text of serialised bytes. */
function headerText(bytes: Uint8Array): string {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return new TextDecoder().decode(bytes.subarray(8, 8 + n));
}

/**
 * Each [bits, value] case decodes to `value` by `bitsToF32`, and to `value` as f32 through the
 * tensor reader of `format` (BF16 values are f32 values, so there the two agree exactly).
 */
function expectHalfBits(cases: [number, number][], format: 'F16' | 'BF16', bitsToF32: (bits: number) => number): void {
  const bits = new Uint16Array(cases.map(([b]) => b));
  const viaReader = toF32(new Uint8Array(bits.buffer), format);
  cases.forEach(([b, v], i) => {
    expect(bitsToF32(b), `0x${b.toString(16)}`).toBe(v);
    expect(viaReader[i], `reader 0x${b.toString(16)}`).toBe(Math.fround(v));
  });
}

describe('half-precision conversions (hand-computed values)', () => {
  it('F16 bits → f32: normals, subnormals, signed zero, inf, nan', () => {
    const cases: [number, number][] = [
      [0x3c00, 1],
      [0xc000, -2],
      [0x3555, 0.333251953125], // 1 + 341/1024 times 2^-2
      [0x7bff, 65504], // largest finite
      [0x0400, 2 ** -14], // smallest normal
      [0x03ff, 1023 * 2 ** -24], // largest subnormal
      [0x0001, 2 ** -24], // smallest subnormal
      [0x8001, -(2 ** -24)],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
    ];
    expectHalfBits(cases, 'F16', f16BitsToF32);
    expect(Object.is(f16BitsToF32(0x8000), -0)).toBe(true);
    expect(Number.isNaN(f16BitsToF32(0x7e00))).toBe(true);
    expect(Number.isNaN(f16BitsToF32(0xfc01))).toBe(true);
  });

  it('BF16 bits → f32: exact, with subnormals, inf, nan', () => {
    const cases: [number, number][] = [
      [0x3f80, 1],
      [0x4049, 3.140625], // 1.5703125 · 2
      [0xc2f7, -123.5],
      [0x7f7f, 255 * 2 ** 120], // largest finite: (1 + 127/128) · 2^127
      [0x0080, 2 ** -126], // smallest normal
      [0x0001, 2 ** -133], // smallest subnormal
      [0x7f80, Infinity],
      [0xff80, -Infinity],
    ];
    expectHalfBits(cases, 'BF16', bf16BitsToF32);
    expect(Object.is(bf16BitsToF32(0x8000), -0)).toBe(true);
    expect(Number.isNaN(toF32(new Uint8Array(new Uint16Array([0x7fc1]).buffer), 'BF16')[0])).toBe(true);
  });

  it('f32 → F16 rounds to nearest even, overflows to inf, underflows through subnormals', () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [1 / 3, 0x3555],
      [0.1, 0x2e66],
      [1 + 2 ** -11, 0x3c00], // half-way between 1 and 1 + 2^-10: to even (1)
      [1 + 3 * 2 ** -11, 0x3c02], // half-way between 1 + 2^-10 and 1 + 2^-9: to even
      [65519, 0x7bff], // below the half-way point to 65536
      [65520, 0x7c00], // half-way: rounds up to inf
      [1e6, 0x7c00],
      [-1e6, 0xfc00],
      [2 ** -25, 0x0000], // half of the smallest subnormal: to even (0)
      [Math.fround(2 ** -25 * 1.0000001), 0x0001],
      [3 * 2 ** -25, 0x0002], // 1.5 subnormal ulps: to even (2)
      [2 ** -14, 0x0400],
      [-0, 0x8000],
      [Infinity, 0x7c00],
    ];
    for (const [v, b] of cases) expect(f32ToF16Bits(v).toString(16), `${v}`).toBe(b.toString(16));
    const nan = f32ToF16Bits(NaN);
    expect((nan & 0x7c00) === 0x7c00 && (nan & 0x3ff) !== 0).toBe(true);
  });

  it('f32 → BF16 rounds to nearest even; NaN stays NaN', () => {
    const cases: [number, number][] = [
      [1, 0x3f80],
      [1 + 2 ** -8, 0x3f80], // half-way between 1 and 1 + 2^-7: to even
      [1 + 3 * 2 ** -8, 0x3f82], // half-way between 1 + 2^-7 and 1 + 2^-6: to even
      [0.1, 0x3dcd], // f32 0x3dcccccd: the dropped half 0xcccd rounds up
      [1 / 3, 0x3eab],
      [-123.5, 0xc2f7],
      [3.4028234663852886e38, 0x7f80], // f32 max rounds to inf
      [2 ** -133, 0x0001],
      [-0, 0x8000],
      [-Infinity, 0xff80],
    ];
    for (const [v, b] of cases) expect(f32ToBf16Bits(v).toString(16), `${v}`).toBe(b.toString(16));
    expect(f32ToBf16Bits(NaN)).toBe(0x7fc0);
  });
});

describe('serializeSafetensors round trips', () => {
  const f32Values = [0, -0, 1.5, -2.25, 3.4028234663852886e38, 1e-45, Infinity, -Infinity];
  const tensors: NamedSafetensorsTensor[] = [
    { name: 'f32', dtype: 'F32', shape: [2, 4], data: Float32Array.from(f32Values) },
    { name: 'f16', dtype: 'F16', shape: [5], data: [1, 0.1, 65504, 2 ** -24, -0.5] },
    { name: 'f16_bits', dtype: 'F16', shape: [3], data: new Uint16Array([0x3c00, 0x7c00, 0x0001]) },
    { name: 'bf16', dtype: 'BF16', shape: [1, 1, 3], data: [1, -123.5, 0.1] },
    { name: 'i32', dtype: 'I32', shape: [4], data: [0, -1, 2147483647, -2147483648] },
    { name: 'u8', dtype: 'U8', shape: [2, 2], data: new Uint8Array([0, 1, 128, 255]) },
    { name: 'scalar', dtype: 'F32', shape: [], data: [7] },
    { name: 'empty', dtype: 'F16', shape: [0, 3], data: [] },
  ];

  it('every dtype reads back exactly (values converted where the dtype is narrower)', async () => {
    const bytes = serializeSafetensors(tensors, { format: 'pt', note: 'round trip' });
    const file = await open(bytes);
    expect(file.keys().sort()).toEqual(tensors.map((t) => t.name).sort());
    expect(file.metadata).toEqual({ format: 'pt', note: 'round trip' });
    for (const t of tensors) expect(file.entry(t.name), t.name).toMatchObject({ dtype: t.dtype, shape: t.shape });
    expect(Array.from(await file.readF32('f32'))).toEqual(f32Values.map(Math.fround));
    expect(Array.from(await file.readF32('f16'))).toEqual([1, f16BitsToF32(0x2e66), 65504, 2 ** -24, -0.5]);
    expect(Array.from(await file.readF32('f16_bits'))).toEqual([1, Infinity, 2 ** -24]);
    expect(Array.from(await file.readF32('bf16'))).toEqual([1, -123.5, bf16BitsToF32(0x3dcd)]);
    expect(Array.from(await file.readI32('i32'))).toEqual([0, -1, 2147483647, -2147483648]);
    expect(Array.from(await file.readI32('u8'))).toEqual([0, 1, 128, 255]);
    expect(Array.from(await file.readF32('u8'))).toEqual([0, 1, 128, 255]);
    expect(Array.from(await file.readF32('scalar'))).toEqual([7]);
    expect((await file.readF32('empty')).length).toBe(0);
    expect(Array.from(await file.readBytes('f16_bits'))).toEqual([0x00, 0x3c, 0x00, 0x7c, 0x01, 0x00]);
  });

  it('the record form gives the same bytes as the list form', () => {
    const record = Object.fromEntries(tensors.map(({ name, ...t }) => [name, t]));
    expect(serializeSafetensors(record)).toEqual(serializeSafetensors([...tensors].reverse()));
  });

  it('lays the file out as the reference: padded header, sorted keys, aligned contiguous data', () => {
    const bytes = serializeSafetensors(tensors, { format: 'pt' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = headerText(bytes);
    expect(text.trimEnd().endsWith('"__metadata__":{"format":"pt"}}')).toBe(true);
    expect(/^ *$/.test(text.slice(text.trimEnd().length))).toBe(true);
    const header = JSON.parse(text) as Record<string, { dtype: string; data_offsets: [number, number] }>;
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    // Largest element size first, then by name; offsets follow the key order without gaps.
    expect(names).toEqual(['f32', 'i32', 'scalar', 'bf16', 'empty', 'f16', 'f16_bits', 'u8']);
    let end = 0;
    for (const k of names) {
      const [b, e] = header[k].data_offsets;
      expect(b, k).toBe(end);
      expect((8 + n + b) % ELEMENT_BYTES[header[k].dtype], `${k} aligned`).toBe(0);
      end = e;
    }
    expect(8 + n + end).toBe(bytes.byteLength);
  });

  it('keeps integer-like names in string order and writes no metadata unless given', () => {
    const bytes = serializeSafetensors({ '9': { dtype: 'U8', shape: [1], data: [9] }, '10': { dtype: 'U8', shape: [1], data: [10] } });
    const text = headerText(bytes).trimEnd();
    expect(text).toBe('{"10":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"9":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}');
  });

  it('rejects bad input, naming the tensor', () => {
    const t = (over: Partial<NamedSafetensorsTensor>): NamedSafetensorsTensor[] => [{ name: 'w', dtype: 'F32', shape: [2], data: [1, 2], ...over }];
    expect(() => serializeSafetensors(t({ data: [1, 2, 3] }))).toThrow(/tensor 'w' \(F32 \[2\]\): has 3 values, its shape needs 2/);
    expect(() => serializeSafetensors([...t({}), ...t({})])).toThrow(/duplicate tensor name 'w'/);
    expect(() => serializeSafetensors(t({ name: '__metadata__' }))).toThrow(/'__metadata__' is reserved/);
    expect(() => serializeSafetensors(t({ dtype: 'I32', data: [1, 2.5] }))).toThrow(/tensor 'w' \(I32 \[2\]\): value 2\.5 at index 1 is not an I32/);
    expect(() => serializeSafetensors(t({ dtype: 'U8', data: [1, 256] }))).toThrow(/value 256 at index 1 is not a U8/);
    expect(() => serializeSafetensors(t({ dtype: 'F64' as 'F32' }))).toThrow(/tensor 'w': unsupported dtype F64/);
    expect(() => serializeSafetensors(t({ shape: [-2] }))).toThrow(/tensor 'w': invalid shape \[-2\]/);
    expect(() => serializeSafetensors(t({}), { step: 3 as unknown as string })).toThrow(/metadata 'step' must be a string/);
  });
});

describe('the shared SAM 2 fixture (tiny256 weights)', () => {
  it('reads the header and a few values', async () => {
    const file = await SafetensorsFile.open(fileSource(WEIGHTS));
    expect(file.keys().length).toBe(333);
    expect(file.metadata).toEqual({ format: 'pt' });
    expect(file.keys()[0]).toBe('image_encoder.neck.convs.0.conv.bias');
    expect(file.entry('image_encoder.trunk.pos_embed')).toEqual({ dtype: 'F32', shape: [1, 16, 7, 7], data_offsets: [1462336, 1465472] });
    const bias = await file.readF32('image_encoder.neck.convs.0.conv.bias');
    expect(bias.length).toBe(32);
    expect([bias[0], bias[1], bias[31]]).toEqual([-0.000619594007730484, 0.01323730032891035, -0.10938262939453125]);
    const pos = await file.readF32('image_encoder.trunk.pos_embed');
    expect([pos[0], pos[783]]).toEqual([0.08249568939208984, 0.07954331487417221]);
    const tok = await file.readF32('sam_mask_decoder.iou_token.weight');
    expect([tok[0], tok[1]]).toEqual([0.716417670249939, -0.8885565996170044]);
  });

  it('reads the same values from a Node Buffer (whose slices share memory) as from the file', async () => {
    const fromFile = await SafetensorsFile.open(fileSource(WEIGHTS));
    const fromBuffer = await SafetensorsFile.open(bytesSource(await readFile(WEIGHTS), 'buffer'));
    for (const key of ['image_encoder.trunk.pos_embed', 'sam_mask_decoder.iou_token.weight']) {
      expect(await fromBuffer.readF32(key)).toEqual(await fromFile.readF32(key));
    }
  });

  it('opening the header and reading one tensor reads a small fraction of the file, by range', async () => {
    const size = (await stat(WEIGHTS)).size;
    const src = counting(fileSource(WEIGHTS));
    const file = await SafetensorsFile.open(src);
    const afterHeader = src.bytesRead;
    await file.readF32('sam_mask_decoder.iou_token.weight');
    expect(src.reads.length).toBe(3); // header length, header JSON, one tensor
    expect(src.reads[2][1]).toBe(32 * 4);
    expect(src.bytesRead - afterHeader).toBe(128);
    expect(src.bytesRead / size).toBeLessThan(0.02);
  });

  it('re-serialising every tensor reproduces the file byte for byte', async () => {
    const original = new Uint8Array(await readFile(WEIGHTS));
    const file = await open(original, 'weights.safetensors');
    const list: NamedSafetensorsTensor[] = [];
    for (const k of file.keys()) {
      const e = file.entry(k);
      list.push({ name: k, dtype: e.dtype as 'F32', shape: e.shape, data: await file.readF32(k) });
    }
    const again = serializeSafetensors(list, file.metadata);
    expect(again.byteLength).toBe(original.byteLength);
    expect(Buffer.from(again).equals(Buffer.from(original))).toBe(true);
  });
});

describe('reader errors name the file and the problem', () => {
  const entry = (dtype: string, shape: number[], off: [number, number]) => JSON.stringify({ dtype, shape, data_offsets: off });

  it('a truncated file', async () => {
    const original = new Uint8Array(await readFile(WEIGHTS));
    await expect(open(original.subarray(0, 1_000_000), 'cut.safetensors')).rejects.toThrow(
      /^cut\.safetensors: tensor '.+' ends at data byte \d+, but the file holds only 961872 data bytes \(truncated file\?\)/,
    );
    await expect(open(original.subarray(0, 20_000), 'cut.safetensors')).rejects.toThrow(
      /^cut\.safetensors: not a safetensors file or truncated \(header length 38120 does not fit a file of 20000 bytes\)/,
    );
    await expect(open(new Uint8Array([1, 2, 3]), 'tiny.bin')).rejects.toThrow(/^tiny\.bin: not a safetensors file \(3 bytes, shorter than the 8-byte header length\)/);
  });

  it('a bad header length', async () => {
    await expect(open(rawFile('{}', undefined, 0n))).rejects.toThrow(/test\.safetensors: not a safetensors file or truncated \(header length 0/);
    await expect(open(rawFile('{}', undefined, 1n << 40n))).rejects.toThrow(/header length 1099511627776 exceeds the 104857600-byte limit/);
    await expect(open(rawFile('{}', undefined, 3n))).rejects.toThrow(/header length 3 does not fit a file of 10 bytes/);
  });

  it('a header that is not JSON, or not an object', async () => {
    await expect(open(rawFile('{"a": {"dtype": "F32",'))).rejects.toThrow(/^test\.safetensors: safetensors header is not valid JSON/);
    await expect(open(rawFile('[1, 2]   '))).rejects.toThrow(/^test\.safetensors: safetensors header is not a JSON object/);
    await expect(open(rawFile('{"__metadata__": {"step": 3}}'))).rejects.toThrow(/__metadata__ 'step' is not a string/);
  });

  it('an unknown key names the key and the file', async () => {
    const file = await open(serializeSafetensors({ w: { dtype: 'F32', shape: [1], data: [1] } }), 'model.safetensors');
    await expect(file.readF32('encoder.weight')).rejects.toThrow(/^model\.safetensors: no tensor named 'encoder\.weight'/);
    expect(() => file.entry('w.bias')).toThrow(/model\.safetensors: no tensor named 'w\.bias'/);
    expect(file.has('w')).toBe(true);
  });

  it('offsets inconsistent with the shape, overlapping, or malformed entries', async () => {
    const data = new Uint8Array(64);
    await expect(open(rawFile(`{"w":${entry('F32', [2, 3], [0, 20])}}`, data))).rejects.toThrow(
      /^test\.safetensors: tensor 'w' \(F32 \[2, 3\]\) has data_offsets \[0,20\] spanning 20 bytes, but its shape needs 24/,
    );
    await expect(open(rawFile(`{"a":${entry('F32', [4], [0, 16])},"b":${entry('F16', [4], [8, 16])}}`, data))).rejects.toThrow(
      /tensors '(a|b)' \[\d+,16\] and '(a|b)' \[8,16\] have overlapping data_offsets/,
    );
    await expect(open(rawFile(`{"w":${entry('Q4', [4], [0, 4])}}`, data))).rejects.toThrow(/tensor 'w' has unknown dtype "Q4"/);
    await expect(open(rawFile(`{"w":${entry('F32', [-1], [0, 4])}}`, data))).rejects.toThrow(/tensor 'w' has an invalid shape \[-1\]/);
    await expect(open(rawFile(`{"w":${entry('F32', [1], [4, 0])}}`, data))).rejects.toThrow(/tensor 'w' has invalid data_offsets \[4,0\]/);
    await expect(open(rawFile(`{"w":[1,2]}`, data))).rejects.toThrow(/tensor 'w' has an invalid header entry \[1,2\]/);
  });
});

describe('saveTensors (GPU tensors → safetensors bytes)', () => {
  it('writes f32 as F32 or F16, f16 as F16 or F32, i32 as I32, with metadata', async () => {
    const values = [1, 0.1, -3.75, 65519, 1e-7, 0];
    const a = tensor(values, [2, 3]);
    const h = tensor([0.5, -2, 0.1], [3], { dtype: 'f16' });
    const i = tensor([5, -7, 2147483647], [3], { dtype: 'i32' });
    const e = tensor([], [0, 2]);
    try {
      const file = await open(await saveTensors({ a, h, i, e }, { epoch: '3' }));
      expect(file.metadata).toEqual({ epoch: '3' });
      expect(file.entry('a')).toMatchObject({ dtype: 'F32', shape: [2, 3] });
      expect(file.entry('h')).toMatchObject({ dtype: 'F16', shape: [3] });
      expect(file.entry('i')).toMatchObject({ dtype: 'I32', shape: [3] });
      expect(file.entry('e')).toMatchObject({ dtype: 'F32', shape: [0, 2] });
      expect(Array.from(await file.readF32('a'))).toEqual(values.map(Math.fround));
      expect(Array.from(await file.readF32('h'))).toEqual([0.5, -2, f16BitsToF32(f32ToF16Bits(0.1))]);
      expect(Array.from(await file.readI32('i'))).toEqual([5, -7, 2147483647]);

      const half = await open(await saveTensors({ a, h }, undefined, { dtype: 'F16' }));
      expect(half.entry('a').dtype).toBe('F16');
      expect(Array.from(await half.readF32('a'))).toEqual(values.map((v) => f16BitsToF32(f32ToF16Bits(v))));
      const wide = await open(await saveTensors({ h }, undefined, { dtype: 'F32' }));
      expect(wide.entry('h').dtype).toBe('F32');
      expect(Array.from(await wide.readF32('h'))).toEqual([0.5, -2, f16BitsToF32(f32ToF16Bits(0.1))]);
    } finally {
      for (const t of [a, h, i, e]) t.dispose();
    }
    await expect(saveTensors({ a })).rejects.toThrow(/saveTensors: 'a' \(tensor #\d+ \[2, 3\] f32\) was used after dispose\(\)/);
  });
});

describe('writing files atomically (node)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rpsam2-safetensors-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes, overwrites, and never leaves a partial file or a temporary file behind', async () => {
    const path = join(dir, 'ckpt.safetensors');
    const w = tensor([1, 2, 3], [3]);
    try {
      await saveSafetensorsFile(path, { w }, { step: '1' });
      let file = await SafetensorsFile.open(fileSource(path));
      expect(Array.from(await file.readF32('w'))).toEqual([1, 2, 3]);
      await writeFileAtomic(path, serializeSafetensors({ w: { dtype: 'F32', shape: [2], data: [4, 5] } }, { step: '2' }));
      file = await SafetensorsFile.open(fileSource(path));
      expect(file.metadata).toEqual({ step: '2' });
      const before = await readFile(path);

      // A failure before writing (a disposed tensor) leaves the old file untouched.
      const gone = tensor([9], [1]);
      gone.dispose();
      await expect(saveSafetensorsFile(path, { gone })).rejects.toThrow(/was used after dispose/);
      expect((await readFile(path)).equals(before)).toBe(true);

      // A failure after the temporary file was written (the rename fails: the target is a
      // non-empty directory) removes the temporary file.
      const blocked = join(dir, 'blocked.safetensors');
      await mkdir(blocked);
      await writeFile(join(blocked, 'keep'), 'x');
      await expect(saveSafetensorsFile(blocked, { w })).rejects.toThrow(/blocked\.safetensors: could not write/);
      expect(await readFile(join(blocked, 'keep'), 'utf8')).toBe('x');
      // A missing directory is reported with the path.
      await expect(writeFileAtomic(join(dir, 'no', 'such', 'x.safetensors'), new Uint8Array(8))).rejects.toThrow(/x\.safetensors: could not write \(ENOENT\)/);
      expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      expect((await readdir(dir)).sort()).toEqual(['blocked.safetensors', 'ckpt.safetensors']);
    } finally {
      w.dispose();
    }
  });
});
