/**
 * PyTorch zip checkpoints: the fixture `.pt` files against their safetensors twins, and synthetic
 * archives written here byte by byte (zip records and pickle opcodes) for views, zip64, deflate,
 * byte order, refusals and damaged files.
 */
import { describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { bytesSource, type ByteSource } from '../src/io/byte-source.js';
import { fileSource } from '../src/io/node-file.js';
import { SafetensorsFile } from '../src/io/safetensors.js';
import { openTensorFile, TorchCheckpoint, type TensorFileReader } from '../src/io/torch-checkpoint.js';
import { crc32, ZipArchive } from '../src/io/zip.js';
import { f32ToF16Bits } from '../src/tensor/half.js';

const FIXTURES = '../shared/fixtures/sam2';

// ---------------------------------------------------------------------------------------------
// A minimal zip writer (stored or deflated entries, PyTorch-style 64-byte data alignment, zip64).

interface ZipInput {
  name: string;
  data: Uint8Array;
}

interface ZipOptions {
  /** Write zip64 records and saturate every 32-bit size/offset field. */
  zip64?: boolean;
  /** Archive comment (pushes the end record away from the end of the file). */
  comment?: string;
}

function writeZip(files: ZipInput[], opts: ZipOptions = {}): Uint8Array {
  const out: number[] = [];
  const u16 = (v: number): void => void out.push(v & 0xff, (v >>> 8) & 0xff);
  const u32 = (v: number): void => {
    u16(v & 0xffff);
    u16(v >>> 16);
  };
  const u64 = (v: number): void => {
    u32(v % 2 ** 32);
    u32(Math.floor(v / 2 ** 32));
  };
  const bytes = (b: Uint8Array | number[]): void => {
    for (const x of b) out.push(x);
  };
  const enc = new TextEncoder();
  const z64 = opts.zip64 ?? false;
  const central: { name: Uint8Array; crc: number; size: number; offset: number }[] = [];
  for (const f of files) {
    const name = enc.encode(f.name);
    const crc = crc32(f.data);
    const offset = out.length;
    const zipExtraLen = z64 ? 4 + 16 : 0;
    // Pad the data start to a multiple of 64 with an extra field, as PyTorch does.
    const base = offset + 30 + name.length + zipExtraLen + 4;
    const pad = (64 - (base % 64)) % 64;
    u32(0x04034b50);
    u16(z64 ? 45 : 20);
    u16(0);
    u16(0); // stored
    u16(0);
    u16(0x21);
    u32(crc);
    u32(z64 ? 0xffffffff : f.data.length);
    u32(z64 ? 0xffffffff : f.data.length);
    u16(name.length);
    u16(zipExtraLen + 4 + pad);
    bytes(name);
    if (z64) {
      u16(0x0001);
      u16(16);
      u64(f.data.length);
      u64(f.data.length);
    }
    u16(0x4246); // 'FB' padding field
    u16(pad);
    bytes(new Array<number>(pad).fill(0x5a));
    expect(out.length % 64).toBe(0);
    bytes(f.data);
    central.push({ name, crc, size: f.data.length, offset });
  }
  const cdOffset = out.length;
  for (const c of central) {
    u32(0x02014b50);
    u16(z64 ? 45 : 20);
    u16(z64 ? 45 : 20);
    u16(0);
    u16(0);
    u16(0);
    u16(0x21);
    u32(c.crc);
    u32(z64 ? 0xffffffff : c.size);
    u32(z64 ? 0xffffffff : c.size);
    u16(c.name.length);
    u16(z64 ? 4 + 24 : 0);
    u16(0);
    u16(0);
    u16(0);
    u32(0);
    u32(z64 ? 0xffffffff : c.offset);
    bytes(c.name);
    if (z64) {
      u16(0x0001);
      u16(24);
      u64(c.size);
      u64(c.size);
      u64(c.offset);
    }
  }
  const cdSize = out.length - cdOffset;
  if (z64) {
    const recOffset = out.length;
    u32(0x06064b50);
    u64(44);
    u16(45);
    u16(45);
    u32(0);
    u32(0);
    u64(central.length);
    u64(central.length);
    u64(cdSize);
    u64(cdOffset);
    u32(0x07064b50);
    u32(0);
    u64(recOffset);
    u32(1);
  }
  const comment = enc.encode(opts.comment ?? '');
  u32(0x06054b50);
  u16(0);
  u16(0);
  u16(z64 ? 0xffff : central.length);
  u16(z64 ? 0xffff : central.length);
  u32(z64 ? 0xffffffff : cdSize);
  u32(z64 ? 0xffffffff : cdOffset);
  u16(comment.length);
  bytes(comment);
  return Uint8Array.from(out);
}

// ---------------------------------------------------------------------------------------------
// A pickle writer for `torch.save({"model": OrderedDict(...)})`, opcode by opcode (protocol 2).

class PickleWriter {
  readonly b: number[] = [0x80, 2];
  private readonly enc = new TextEncoder();
  op(...codes: number[]): this {
    this.b.push(...codes);
    return this;
  }
  global(module: string, name: string): this {
    return this.op(0x63, ...this.enc.encode(`${module}\n${name}\n`));
  }
  str(s: string): this {
    const e = this.enc.encode(s);
    return this.op(0x58, e.length & 0xff, (e.length >> 8) & 0xff, (e.length >> 16) & 0xff, e.length >>> 24, ...e);
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.op(0x4b, n);
    if (n >= 0 && n < 65536) return this.op(0x4d, n & 0xff, n >> 8);
    return this.op(0x4a, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff);
  }
  intTuple(v: number[]): this {
    this.op(0x28);
    for (const x of v) this.int(x);
    return this.op(0x74);
  }
  emptyOrderedDict(): this {
    return this.global('collections', 'OrderedDict').op(0x29, 0x52);
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.b);
  }
}

interface TensorSpec {
  storage: string;
  type?: string; // torch.<type>, default FloatStorage
  numel: number; // of the storage
  offset?: number;
  size: number[];
  stride: number[];
}

type StateValue = TensorSpec | number | ((w: PickleWriter) => void);

/** `_rebuild_tensor_v2(('storage', torch.X, key, 'cpu', numel), offset, size, stride, False, OrderedDict())`. */
function writeTensor(w: PickleWriter, t: TensorSpec): void {
  w.global('torch._utils', '_rebuild_tensor_v2').op(0x28);
  w.op(0x28).str('storage').global('torch', t.type ?? 'FloatStorage').str(t.storage).str('cpu').int(t.numel).op(0x74, 0x51);
  w.int(t.offset ?? 0).intTuple(t.size).intTuple(t.stride).op(0x89).emptyOrderedDict();
  w.op(0x74, 0x52);
}

/** The pickle of `torch.save({"model": sd})` (or of `sd` itself), with the `_metadata` BUILD. */
function statePickle(entries: [string, StateValue][], wrap = true): Uint8Array {
  const w = new PickleWriter();
  if (wrap) w.op(0x7d).str('model');
  w.emptyOrderedDict().op(0x28);
  for (const [k, v] of entries) {
    w.str(k);
    if (typeof v === 'number') w.int(v);
    else if (typeof v === 'function') v(w);
    else writeTensor(w, v);
  }
  w.op(0x75);
  // state_dict._metadata = OrderedDict([('', {'version': 1})]) via BUILD, as torch.save writes it.
  w.op(0x7d).str('_metadata').emptyOrderedDict().str('').op(0x7d).str('version').int(1).op(0x73, 0x73, 0x73, 0x62);
  if (wrap) w.op(0x73);
  return w.op(0x2e).bytes();
}

function f32Bytes(v: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(v).buffer);
}

/** A checkpoint archive: `archive/data.pkl`, `archive/data/<key>`, `archive/version`, `archive/byteorder`. */
function checkpointZip(pkl: Uint8Array, storages: Record<string, Uint8Array>, opts: ZipOptions & { byteorder?: string; archive?: string } = {}): Uint8Array {
  const a = opts.archive ?? 'archive';
  const files: ZipInput[] = [{ name: `${a}/data.pkl`, data: pkl }];
  if (opts.byteorder !== undefined) files.push({ name: `${a}/byteorder`, data: new TextEncoder().encode(opts.byteorder) });
  for (const [k, d] of Object.entries(storages)) files.push({ name: `${a}/data/${k}`, data: d });
  files.push({ name: `${a}/version`, data: new TextEncoder().encode('3\n') });
  return writeZip(files, opts);
}

/** The reference for a strided view: element (i0, i1, …) is storage[offset + Σ ik·stride_k]. */
function viewOf<T>(storage: T[], offset: number, size: number[], stride: number[]): T[] {
  const out: T[] = [];
  const n = size.reduce((a, d) => a * d, 1);
  for (let flat = 0; flat < n; flat++) {
    let rem = flat;
    let at = offset;
    for (let k = size.length - 1; k >= 0; k--) {
      at += (rem % size[k]) * stride[k];
      rem = Math.floor(rem / size[k]);
    }
    out.push(storage[at]);
  }
  return out;
}

/** A ByteSource that counts what is read through it. */
function counting(inner: ByteSource): ByteSource & { bytes: number; reads: number } {
  const c = {
    label: inner.label,
    bytes: 0,
    reads: 0,
    size: () => inner.size(),
    read: async (offset: number, length: number) => {
      c.bytes += length;
      c.reads++;
      return inner.read(offset, length);
    },
  };
  return c;
}

const iota = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

// ---------------------------------------------------------------------------------------------

describe('TorchCheckpoint on the fixture checkpoints', () => {
  it.each(['tiny256', 'tiny1024'])('%s/weights.pt is bit-identical to weights.safetensors', async (name) => {
    // verifyCrc: every storage read is also checked against the CRC-32 PyTorch wrote.
    const pt = await TorchCheckpoint.open(fileSource(`${FIXTURES}/${name}/weights.pt`), undefined, { verifyCrc: true });
    const st = await SafetensorsFile.open(fileSource(`${FIXTURES}/${name}/weights.safetensors`));
    expect(pt.prefix).toBe('model');
    expect(pt.topLevelKeys).toEqual(['model']);
    expect(new Set(pt.keys())).toEqual(new Set(st.keys()));
    expect(pt.keys().length).toBeGreaterThan(300);
    expect(pt.extras.size).toBe(0);
    for (const k of st.keys()) {
      const e = pt.entry(k);
      expect(e.dtype, k).toBe(st.entry(k).dtype);
      expect(e.shape, k).toEqual(st.entry(k).shape);
      const [a, b] = await Promise.all([pt.readBytes(k), st.readBytes(k)]);
      expect(Buffer.compare(Buffer.from(a), Buffer.from(b)), k).toBe(0);
      if (e.dtype === 'F32') {
        const [x, y] = await Promise.all([pt.readF32(k), st.readF32(k)]);
        expect(x.length, k).toBe(y.length);
        // Bit equality (deep toEqual over every element is slow on the larger tensors).
        expect(Buffer.compare(Buffer.from(x.buffer, x.byteOffset, x.byteLength), Buffer.from(y.buffer, y.byteOffset, y.byteLength)), k).toBe(0);
      }
    }
  });

  it('opens by reading only a small fraction of the file, and a tensor by range', async () => {
    const path = `${FIXTURES}/tiny1024/weights.pt`;
    const src = counting(fileSource(path));
    const size = await src.size();
    const pt = await TorchCheckpoint.open(src);
    const pkl = (await ZipArchive.open(fileSource(path))).entry(`${pt.archiveName}/data.pkl`).size;
    // The tail, the central directory and data.pkl: about 3% of this small file, ~0.01% of a 900 MB one.
    expect(src.bytes).toBeLessThan(pkl + 40_000);
    expect(src.bytes / size).toBeLessThan(0.04);
    expect(src.reads).toBeLessThanOrEqual(6);

    const before = src.bytes;
    const key = 'image_encoder.trunk.patch_embed.proj.weight';
    const e = pt.entry(key);
    const values = await pt.readF32(key);
    expect(values.length).toBe(e.shape.reduce((a, d) => a * d, 1));
    // The local header (30 bytes) and exactly the tensor's bytes.
    expect(src.bytes - before).toBe(30 + values.byteLength);
  });

  it('openTensorFile picks the reader by content', async () => {
    const pt = await openTensorFile(fileSource(`${FIXTURES}/tiny256/weights.pt`));
    const st = await openTensorFile(fileSource(`${FIXTURES}/tiny256/weights.safetensors`));
    expect(pt).toBeInstanceOf(TorchCheckpoint);
    expect(st).toBeInstanceOf(SafetensorsFile);
    // Both satisfy the same reader interface.
    const readers: TensorFileReader[] = [pt, st];
    const k = 'sam_mask_decoder.iou_token.weight';
    const [a, b] = await Promise.all(readers.map((r) => r.readF32(k)));
    expect(a).toEqual(b);
  });
});

describe('TorchCheckpoint views', () => {
  const s6 = iota(6).map((i) => i + 0.5);
  const s24 = iota(24).map((i) => i * 1.25 - 3);
  const specs: [string, TensorSpec][] = [
    // x = arange(6).view(3, 2); x.t() is 2×3 with stride (1, 2).
    ['transposed', { storage: '0', numel: 6, size: [2, 3], stride: [1, 2] }],
    ['offset', { storage: '1', numel: 24, offset: 5, size: [2, 3], stride: [3, 1] }],
    ['slice', { storage: '1', numel: 24, offset: 1, size: [3, 2], stride: [8, 3] }],
    ['expanded', { storage: '0', numel: 6, offset: 2, size: [2, 3], stride: [0, 1] }],
    ['permuted', { storage: '1', numel: 24, size: [2, 3, 4], stride: [1, 2, 6] }],
    ['with_unit_dims', { storage: '1', numel: 24, offset: 4, size: [1, 2, 1, 3], stride: [99, 1, 7, 4] }],
    ['scalar', { storage: '1', numel: 24, offset: 23, size: [], stride: [] }],
    ['empty', { storage: '1', numel: 24, offset: 0, size: [0, 3], stride: [3, 1] }],
    ['whole', { storage: '1', numel: 24, size: [4, 6], stride: [6, 1] }],
  ];
  const storages = { '0': f32Bytes(s6), '1': f32Bytes(s24) };

  it('materialises strided views with offsets, transposes, zero strides and unit dims', async () => {
    const bytes = checkpointZip(statePickle(specs), storages);
    const ck = await TorchCheckpoint.open(bytesSource(bytes, 'views.pt'));
    expect(ck.keys()).toEqual(specs.map(([k]) => k));
    for (const [k, t] of specs) {
      const src = t.storage === '0' ? s6 : s24;
      const expected = viewOf(src, t.offset ?? 0, t.size, t.stride);
      expect(Array.from(await ck.readF32(k)), k).toEqual(expected);
      expect(ck.entry(k).shape).toEqual(t.size);
      expect(ck.entry(k).strides).toEqual(t.stride);
    }
    expect(ck.entry('transposed').contiguous).toBe(false);
    expect(Array.from(await ck.readF32('transposed'))).toEqual([0.5, 2.5, 4.5, 1.5, 3.5, 5.5]);
    expect(ck.entry('offset').contiguous).toBe(true);
    expect(ck.entry('with_unit_dims').contiguous).toBe(false);
    expect(ck.entry('whole').contiguous).toBe(true);
  });

  it('reads F16, BF16, I64 and Bool storages, and keeps non-tensor values as extras', async () => {
    const h = iota(6).map((i) => i - 2.5);
    const f16 = new Uint16Array(h.map(f32ToF16Bits));
    const bf16 = new Uint16Array(h.map((v) => new Uint32Array(new Float32Array([v]).buffer)[0] >>> 16));
    const i64 = new BigInt64Array([7n, -3n, 2147483647n]);
    const pkl = statePickle(
      [
        ['half_t', { storage: 'h', type: 'HalfStorage', numel: 6, size: [3, 2], stride: [1, 3] }],
        ['bf16', { storage: 'b', type: 'BFloat16Storage', numel: 6, size: [6], stride: [1] }],
        ['count', { storage: 'l', type: 'LongStorage', numel: 3, offset: 1, size: [], stride: [] }],
        ['longs', { storage: 'l', type: 'LongStorage', numel: 3, size: [3], stride: [1] }],
        ['mask', { storage: 'm', type: 'BoolStorage', numel: 3, size: [3], stride: [1] }],
        ['step', 70000],
        ['flag', (w) => w.op(0x88)],
      ],
      false,
    );
    const zip = checkpointZip(pkl, {
      h: new Uint8Array(f16.buffer),
      b: new Uint8Array(bf16.buffer),
      l: new Uint8Array(i64.buffer),
      m: new Uint8Array([1, 0, 1]),
    });
    const ck = await TorchCheckpoint.open(bytesSource(zip, 'mixed.pt'));
    expect(ck.prefix).toBe('');
    expect(ck.keys()).toEqual(['half_t', 'bf16', 'count', 'longs', 'mask']);
    expect(ck.entry('half_t').dtype).toBe('F16');
    expect(Array.from(await ck.readF32('half_t'))).toEqual(viewOf(h, 0, [3, 2], [1, 3]));
    expect(Array.from(await ck.readBytes('half_t'))).toEqual(Array.from(new Uint8Array(new Uint16Array(viewOf(Array.from(f16), 0, [3, 2], [1, 3])).buffer)));
    expect(Array.from(await ck.readF32('bf16'))).toEqual(h);
    expect(Array.from(await ck.readI32('count'))).toEqual([-3]);
    expect(Array.from(await ck.readI32('longs'))).toEqual([7, -3, 2147483647]);
    expect(Array.from(await ck.readI32('mask'))).toEqual([1, 0, 1]);
    await expect(ck.readI32('bf16')).rejects.toThrow(/mixed\.pt: 'bf16' has dtype BF16, not an integer type/);
    expect(ck.extras.get('step')).toBe(70000);
    expect(ck.extras.get('flag')).toBe(true);
    expect(() => ck.entry('step')).toThrow(/mixed\.pt: no tensor named 'step'/);
  });

  it('swaps bytes of a big-endian archive', async () => {
    const be = new Uint8Array(8);
    new DataView(be.buffer).setFloat32(0, 1.5, false);
    new DataView(be.buffer).setFloat32(4, -2.25, false);
    const pkl = statePickle([['w', { storage: '0', numel: 2, size: [2], stride: [1] }], ['wt', { storage: '0', numel: 2, offset: 1, size: [1, 1], stride: [1, 1] }]]);
    const ck = await TorchCheckpoint.open(bytesSource(checkpointZip(pkl, { '0': be }, { byteorder: 'big' }), 'be.pt'));
    expect(ck.byteOrder).toBe('big');
    expect(Array.from(await ck.readF32('w'))).toEqual([1.5, -2.25]);
    expect(Array.from(await ck.readF32('wt'))).toEqual([-2.25]);
  });

  it('rejects views that reach past their storage, and storages missing from the archive', async () => {
    const past = statePickle([['w', { storage: '0', numel: 6, offset: 1, size: [2, 3], stride: [3, 1] }]]);
    await expect(TorchCheckpoint.open(bytesSource(checkpointZip(past, { '0': f32Bytes(s6) }), 'past.pt'))).rejects.toThrow(
      /past\.pt: archive\/data\.pkl: torch\._utils\._rebuild_tensor_v2: view \(offset 1, size \[2,3\], stride \[3,1\]\) reaches element 6 of storage '0' which has 6/,
    );
    const missing = statePickle([['w', { storage: '7', numel: 6, size: [6], stride: [1] }]]);
    await expect(TorchCheckpoint.open(bytesSource(checkpointZip(missing, { '0': f32Bytes(s6) }), 'missing.pt'))).rejects.toThrow(
      /missing\.pt: .*storage '7' has no record archive\/data\/7/,
    );
    const short = statePickle([['w', { storage: '0', numel: 8, size: [8], stride: [1] }]]);
    await expect(TorchCheckpoint.open(bytesSource(checkpointZip(short, { '0': f32Bytes(s6) }), 'short.pt'))).rejects.toThrow(
      /short\.pt: .*storage '0' \(8 × F32\) needs 32 bytes, archive\/data\/0 has 24/,
    );
  });
});

describe('TorchCheckpoint refuses anything but a state dict', () => {
  const ok: [string, TensorSpec] = ['w', { storage: '0', numel: 2, size: [2], stride: [1] }];
  const open = (pkl: Uint8Array, label: string) => TorchCheckpoint.open(bytesSource(checkpointZip(pkl, { '0': f32Bytes([1, 2]) }), label));
  const call = (module: string, name: string, arg: string) => (w: PickleWriter) => {
    w.global(module, name).str(arg).op(0x85, 0x52);
  };

  it('refuses os.system, naming the global and the file', async () => {
    await expect(open(statePickle([ok, ['evil', call('os', 'system', 'echo pwned')]]), 'evil.pt')).rejects.toThrow(
      /evil\.pt: archive\/data\.pkl: refusing to load global 'os\.system': it is not in the allowlist/,
    );
  });

  it('refuses builtins.eval and posix.system', async () => {
    await expect(open(statePickle([['evil', call('builtins', 'eval', '1+1')]]), 'eval.pt')).rejects.toThrow(/eval\.pt: .*'builtins\.eval'/);
    await expect(open(statePickle([['evil', call('posix', 'system', 'id')]]), 'posix.pt')).rejects.toThrow(/'posix\.system'/);
  });

  it('refuses other torch globals and calling storage classes', async () => {
    await expect(open(statePickle([['x', call('torch._utils', '_rebuild_sparse_tensor', 'a')]]), 'sparse.pt')).rejects.toThrow(
      /refusing to load global 'torch\._utils\._rebuild_sparse_tensor'/,
    );
    await expect(open(statePickle([['x', (w) => w.global('torch', 'FloatStorage').op(0x29, 0x52)]]), 'call.pt')).rejects.toThrow(
      /call\.pt: .*refusing to call global 'torch\.FloatStorage'/,
    );
    const complex: [string, TensorSpec] = ['c', { storage: '0', type: 'ComplexFloatStorage', numel: 1, size: [1], stride: [1] }];
    await expect(open(statePickle([complex]), 'complex.pt')).rejects.toThrow(/refusing to load global 'torch\.ComplexFloatStorage'/);
  });

  it('refuses a persistent id that is not a storage, and REDUCE on a non-global', async () => {
    const badPid = (w: PickleWriter) => void w.str('module').str('x').op(0x86, 0x51);
    await expect(open(statePickle([['x', badPid]]), 'pid.pt')).rejects.toThrow(/pid\.pt: .*persistent id tuple of 2: expected \('storage'/);
    const reduceList = (w: PickleWriter) => void w.op(0x5d, 0x29, 0x52);
    await expect(open(statePickle([['x', reduceList]]), 'list.pt')).rejects.toThrow(/list\.pt: .*refusing REDUCE on list of 0/);
  });
});

describe('TorchCheckpoint on damaged or foreign files', () => {
  it('names the file when the pickle is not a dict (torch.save of a bare tensor)', async () => {
    const w = new PickleWriter();
    writeTensor(w, { storage: '0', numel: 2, size: [2], stride: [1] });
    const zip = checkpointZip(w.op(0x2e).bytes(), { '0': f32Bytes([1, 2]) });
    await expect(TorchCheckpoint.open(bytesSource(zip, 'bare.pt'))).rejects.toThrow(/bare\.pt: the checkpoint holds a single tensor, expected a dict/);
  });

  it('names the file when it is truncated', async () => {
    const whole = new Uint8Array(await fileSource(`${FIXTURES}/tiny256/weights.pt`).read(0, 3912103));
    await expect(TorchCheckpoint.open(bytesSource(whole.subarray(0, 2_000_000), 'half.pt'))).rejects.toThrow(
      /half\.pt: not a zip archive, or truncated \(no end-of-central-directory record/,
    );
    await expect(TorchCheckpoint.open(bytesSource(whole.subarray(0, whole.length - 1), 'cut.pt'))).rejects.toThrow(/cut\.pt: .*truncated/);
    // The central directory intact but data cut away: the directory points past the data.
    const cut = new Uint8Array(whole.length - 1000);
    cut.set(whole.subarray(0, 1000));
    cut.set(whole.subarray(whole.length - cut.length + 1000), 1000);
    await expect(TorchCheckpoint.open(bytesSource(cut, 'hole.pt'))).rejects.toThrow(/hole\.pt: .*(truncated|corrupt)/);
  });

  it('names the file when it is not a zip (a safetensors file, a legacy torch.save pickle)', async () => {
    const path = `${FIXTURES}/tiny256/weights.safetensors`;
    await expect(TorchCheckpoint.open(fileSource(path))).rejects.toThrow(`${path}: not a PyTorch zip checkpoint`);
    await expect(TorchCheckpoint.open(bytesSource(new Uint8Array([0x80, 2, 0x8a, 10, 0, 0]), 'old.pt'))).rejects.toThrow(/old\.pt: legacy \(pre-1\.6/);
    await expect(TorchCheckpoint.open(bytesSource(new Uint8Array(0), 'empty.pt'))).rejects.toThrow(/empty\.pt: not a zip archive/);
    await expect(TorchCheckpoint.open(fileSource('/nonexistent/x.pt'))).rejects.toThrow(/\/nonexistent\/x\.pt: cannot open/);
  });

  it('names the file when data.pkl is missing', async () => {
    const zip = writeZip([{ name: 'archive/version', data: new TextEncoder().encode('3\n') }]);
    await expect(TorchCheckpoint.open(bytesSource(zip, 'nopkl.pt'))).rejects.toThrow(
      /nopkl\.pt: not a PyTorch checkpoint: no '<archive>\/data\.pkl' record among 1 zip entries/,
    );
    const script = writeZip([{ name: 'm/constants.pkl', data: new Uint8Array([0x80, 2, 0x4e, 0x2e]) }]);
    await expect(TorchCheckpoint.open(bytesSource(script, 'script.pt'))).rejects.toThrow(/script\.pt: .*TorchScript archive/);
  });

  it('detects a corrupt data.pkl by its CRC', async () => {
    const zip = checkpointZip(statePickle([['w', { storage: '0', numel: 2, size: [2], stride: [1] }]]), { '0': f32Bytes([1, 2]) });
    const at = 64; // data.pkl is the first entry; its data starts at the first 64-byte boundary
    expect(zip[at]).toBe(0x80);
    zip[at + 3] ^= 0xff;
    await expect(TorchCheckpoint.open(bytesSource(zip, 'crc.pt'))).rejects.toThrow(/crc\.pt: entry 'archive\/data\.pkl' is corrupt \(CRC-32/);
  });

  it('detects a corrupt storage by its CRC when asked to', async () => {
    const zip = checkpointZip(statePickle([['w', { storage: '0', numel: 2, size: [2], stride: [1] }]]), { '0': f32Bytes([1, 2]) });
    const at = await (await ZipArchive.open(bytesSource(zip))).dataOffset('archive/data/0');
    new DataView(zip.buffer).setFloat32(at + 4, 3, true);
    const lax = await TorchCheckpoint.open(bytesSource(zip, 'lax.pt'));
    expect(Array.from(await lax.readF32('w'))).toEqual([1, 3]);
    const strict = await TorchCheckpoint.open(bytesSource(zip, 'strict.pt'), undefined, { verifyCrc: true });
    await expect(strict.readF32('w')).rejects.toThrow(/strict\.pt: entry 'archive\/data\/0' is corrupt \(CRC-32/);
  });
});

describe('zip reader', () => {
  it('computes the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    // Slicing-by-8 body plus a byte tail, and continuation across calls.
    const b = Uint8Array.from(iota(1003), (i) => (i * 37 + 11) & 0xff);
    let bitwise = ~0;
    for (const x of b) {
      bitwise ^= x;
      for (let k = 0; k < 8; k++) bitwise = bitwise & 1 ? 0xedb88320 ^ (bitwise >>> 1) : bitwise >>> 1;
    }
    expect(crc32(b)).toBe(~bitwise >>> 0);
    expect(crc32(b.subarray(500), crc32(b.subarray(0, 500)))).toBe(crc32(b));
  });

  const s = iota(12).map((i) => i / 4 - 1);
  const pkl = statePickle([
    ['a', { storage: '0', numel: 12, size: [3, 4], stride: [4, 1] }],
    ['at', { storage: '0', numel: 12, offset: 1, size: [3, 2], stride: [1, 4] }],
  ]);

  it('reads a zip64 archive (64-bit sizes and offsets in extra fields, zip64 end records)', async () => {
    const zip = checkpointZip(pkl, { '0': f32Bytes(s) }, { zip64: true, archive: 'sam2.1_hiera_large' });
    const src = counting(bytesSource(zip, 'z64.pt'));
    const za = await ZipArchive.open(src);
    expect(za.names()).toEqual(['sam2.1_hiera_large/data.pkl', 'sam2.1_hiera_large/data/0', 'sam2.1_hiera_large/version']);
    expect(za.entry('sam2.1_hiera_large/data/0').size).toBe(48);
    expect(new TextDecoder().decode(await za.read('sam2.1_hiera_large/version'))).toBe('3\n');
    const ck = await TorchCheckpoint.open(bytesSource(zip, 'z64.pt'));
    expect(ck.archiveName).toBe('sam2.1_hiera_large');
    expect(Array.from(await ck.readF32('a'))).toEqual(s);
    expect(Array.from(await ck.readF32('at'))).toEqual(viewOf(s, 1, [3, 2], [1, 4]));
  });

  it('reads deflated entries with file comments (fflate zipSync), and finds the end record behind a long archive comment', async () => {
    const enc = new TextEncoder();
    const zip = zipSync(
      { 'arch/data.pkl': pkl, 'arch/data/0': f32Bytes(s), 'arch/version': enc.encode('3\n') },
      { level: 9, comment: 'x'.repeat(3000) },
    );
    const za = await ZipArchive.open(bytesSource(zip, 'deflated.zip'));
    expect(za.entry('arch/data.pkl').method).toBe(8);
    const ck = await TorchCheckpoint.open(bytesSource(zip, 'deflated.pt'));
    expect(Array.from(await ck.readF32('a'))).toEqual(s);
    expect(Array.from(await ck.readF32('at'))).toEqual(viewOf(s, 1, [3, 2], [1, 4]));
    const commented = checkpointZip(pkl, { '0': f32Bytes(s) }, { comment: 'y'.repeat(5000) });
    const ck2 = await TorchCheckpoint.open(bytesSource(commented, 'comment.pt'));
    expect(Array.from(await ck2.readF32('a'))).toEqual(s);
  });

  it('reads ranges of stored entries and checks them', async () => {
    const za = await ZipArchive.open(bytesSource(checkpointZip(pkl, { '0': f32Bytes(s) }), 'r.zip'));
    const part = await za.readRange('archive/data/0', 8, 8);
    expect(Array.from(new Float32Array(part.slice().buffer))).toEqual([s[2], s[3]]);
    await expect(za.readRange('archive/data/0', 40, 16)).rejects.toThrow(/r\.zip: read of 16 bytes at 40 is outside entry 'archive\/data\/0' \(48 bytes\)/);
    expect(() => za.entry('nope')).toThrow(/r\.zip: no entry 'nope'/);
  });
});
