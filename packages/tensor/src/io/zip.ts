/**
 * A minimal ZIP reader over a ByteSource: it parses the central directory (zip64 included) and
 * reads entries, or byte ranges of stored entries, on demand, so a 900 MB archive is never loaded
 * whole. Enough for PyTorch checkpoints (stored, 64-byte aligned entries) and ordinary deflated
 * archives; no encryption, no multi-disk archives.
 */
import { inflateSync } from 'fflate';
import type { ByteSource } from './byte-source.js';
import { NamedEntries } from './named-entries.js';

/** One file of the archive, as described by its central-directory record. */
export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflated. */
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  /** Offset of the local file header. */
  localHeaderOffset: number;
  flags: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const EOCD_SIZE = 22;
const LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIZE = 56;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const MAX_COMMENT = 0xffff;
/** First tail read: enough for the EOCD, the zip64 locator and a short comment. */
const FIRST_TAIL = 1024;
/** Whole-entry reads (e.g. a pickle) beyond this are refused to bound memory. */
const MAX_ENTRY_READ = 2 ** 31 - 1;

const utf8 = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** A 64-bit little-endian field as a Number; beyond 2^53 it cannot be an offset we can read. */
function u64(dv: DataView, at: number, label: string, what: string): number {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${label}: zip ${what} ${v} is too large`);
  return Number(v);
}

let crcTables: Uint32Array[] | null = null;

/** Slicing-by-8 tables: table k advances a byte through k further zero bytes. */
function tables(): Uint32Array[] {
  if (crcTables) return crcTables;
  const t = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[0][n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) t[k][n] = (t[k - 1][n] >>> 8) ^ t[0][t[k - 1][n] & 0xff];
  }
  crcTables = t;
  return t;
}

/** CRC-32 (IEEE, as in ZIP) of `bytes`, optionally continuing from a previous value; 8 bytes a step. */
export function crc32(bytes: Uint8Array, previous = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = tables();
  let c = ~previous;
  let i = 0;
  const n8 = bytes.length - (bytes.length % 8);
  for (; i < n8; i += 8) {
    const lo = c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    c =
      t7[lo & 0xff] ^
      t6[(lo >>> 8) & 0xff] ^
      t5[(lo >>> 16) & 0xff] ^
      t4[lo >>> 24] ^
      t3[bytes[i + 4]] ^
      t2[bytes[i + 5]] ^
      t1[bytes[i + 6]] ^
      t0[bytes[i + 7]];
  }
  for (; i < bytes.length; i++) c = t0[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** A ZIP archive opened for lazy reads. */
export class ZipArchive extends NamedEntries<ZipEntry> {
  private readonly dataOffsets = new Map<string, number>();

  private constructor(
    private readonly source: ByteSource,
    /** Entries by name, in central-directory order. */
    entries: Map<string, ZipEntry>,
    /** Total size of the archive in bytes. */
    readonly byteLength: number,
    label: string,
  ) {
    super(entries, label);
  }

  /**
   * Reads the end-of-central-directory record (zip64 aware) and the central directory.
   * Throws naming `label` when the source is not a zip archive or is truncated.
   */
  static async open(source: ByteSource, label = source.label ?? 'zip'): Promise<ZipArchive> {
    const size = await source.size();
    if (size < EOCD_SIZE) throw new Error(`${label}: not a zip archive (${size} bytes, shorter than an end-of-central-directory record)`);

    // The EOCD sits at the end, after an optional comment of up to 64 KiB: look in a short tail first.
    let tailLen = Math.min(size, FIRST_TAIL);
    let tail = await source.read(size - tailLen, tailLen);
    let at = findEocd(tail);
    if (at < 0 && tailLen < size) {
      tailLen = Math.min(size, EOCD_SIZE + MAX_COMMENT + LOCATOR_SIZE);
      tail = await source.read(size - tailLen, tailLen);
      at = findEocd(tail);
    }
    if (at < 0) {
      throw new Error(`${label}: not a zip archive, or truncated (no end-of-central-directory record in the last ${tailLen} bytes)`);
    }
    const eocdPos = size - tailLen + at;
    const dv = view(tail);
    const diskNo = dv.getUint16(at + 4, true);
    const cdDisk = dv.getUint16(at + 6, true);
    let count = dv.getUint16(at + 10, true);
    let cdSize = dv.getUint32(at + 12, true);
    let cdOffset = dv.getUint32(at + 16, true);

    // zip64: a locator right before the EOCD points at the zip64 EOCD record with 64-bit fields.
    if (at >= LOCATOR_SIZE && dv.getUint32(at - LOCATOR_SIZE, true) === SIG_ZIP64_LOCATOR) {
      const recPos = u64(dv, at - LOCATOR_SIZE + 8, label, 'zip64 end-of-central-directory offset');
      if (recPos + ZIP64_EOCD_SIZE > eocdPos) {
        throw new Error(`${label}: truncated or corrupt zip (zip64 end-of-central-directory record at ${recPos} is outside the file)`);
      }
      const rec = view(await source.read(recPos, ZIP64_EOCD_SIZE));
      if (rec.getUint32(0, true) !== SIG_ZIP64_EOCD) {
        throw new Error(`${label}: corrupt zip (no zip64 end-of-central-directory record at ${recPos})`);
      }
      count = u64(rec, 32, label, 'entry count');
      cdSize = u64(rec, 40, label, 'central directory size');
      cdOffset = u64(rec, 48, label, 'central directory offset');
    } else if (diskNo !== cdDisk || dv.getUint16(at + 8, true) !== count) {
      throw new Error(`${label}: multi-disk zip archives are not supported`);
    }
    if (cdOffset + cdSize > eocdPos) {
      throw new Error(
        `${label}: truncated or corrupt zip (central directory [${cdOffset}, ${cdOffset + cdSize}) runs past its end record at ${eocdPos}; file is ${size} bytes)`,
      );
    }

    const cd = await source.read(cdOffset, cdSize);
    const entries = parseCentralDirectory(cd, count, label);
    for (const e of entries.values()) {
      if (e.localHeaderOffset + LOCAL_SIZE > cdOffset || e.localHeaderOffset + e.compressedSize > cdOffset) {
        throw new Error(`${label}: truncated or corrupt zip (entry '${e.name}' at ${e.localHeaderOffset} overlaps the central directory at ${cdOffset})`);
      }
    }
    return new ZipArchive(source, entries, size, label);
  }

  /** Names of all entries (the zip spelling of `keys()`). */
  names(): string[] {
    return this.keys();
  }

  protected missingEntry(name: string): string {
    return `${this.label}: no entry '${name}' in the zip archive`;
  }

  /** Offset of an entry's first data byte (after its local header, read once and cached). */
  async dataOffset(name: string): Promise<number> {
    const cached = this.dataOffsets.get(name);
    if (cached !== undefined) return cached;
    const e = this.entry(name);
    const h = view(await this.source.read(e.localHeaderOffset, LOCAL_SIZE));
    if (h.getUint32(0, true) !== SIG_LOCAL) {
      throw new Error(`${this.label}: corrupt zip (no local header for '${name}' at ${e.localHeaderOffset})`);
    }
    // The local extra field may differ from the central one (PyTorch pads it to align data).
    const start = e.localHeaderOffset + LOCAL_SIZE + h.getUint16(26, true) + h.getUint16(28, true);
    if (start + e.compressedSize > this.byteLength) {
      throw new Error(`${this.label}: truncated zip (data of '${name}' ends at ${start + e.compressedSize}, file is ${this.byteLength} bytes)`);
    }
    this.dataOffsets.set(name, start);
    return start;
  }

  /**
   * The whole (decompressed) content of an entry, CRC-checked unless `verify` is false (CRC-32
   * runs at a few hundred MB/s in JS, noticeable on a 900 MB checkpoint).
   */
  async read(name: string, verify = true): Promise<Uint8Array> {
    const e = this.entry(name);
    if (e.size > MAX_ENTRY_READ) throw new Error(`${this.label}: entry '${name}' (${e.size} bytes) is too large to read whole`);
    const raw = await this.source.read(await this.dataOffset(name), e.compressedSize);
    let out: Uint8Array;
    if (e.method === 0) {
      out = raw;
    } else {
      try {
        out = inflateSync(raw, { out: new Uint8Array(e.size) });
      } catch (err) {
        throw new Error(`${this.label}: entry '${name}' does not inflate (${(err as Error).message})`);
      }
    }
    if (out.byteLength !== e.size) {
      throw new Error(`${this.label}: entry '${name}' has ${out.byteLength} bytes, its directory record says ${e.size}`);
    }
    const crc = verify ? crc32(out) : e.crc32;
    if (crc !== e.crc32) {
      throw new Error(`${this.label}: entry '${name}' is corrupt (CRC-32 ${hex(crc)}, expected ${hex(e.crc32)})`);
    }
    return out;
  }

  /**
   * `length` bytes of an entry's content from `offset`. Stored entries are read by range (CRC
   * checked only when the range is the whole entry and `verify` is set); deflated ones are
   * inflated whole, then sliced.
   */
  async readRange(name: string, offset: number, length: number, verify = false): Promise<Uint8Array> {
    const e = this.entry(name);
    if (offset < 0 || length < 0 || offset + length > e.size) {
      throw new RangeError(`${this.label}: read of ${length} bytes at ${offset} is outside entry '${name}' (${e.size} bytes)`);
    }
    if (offset === 0 && length === e.size) return this.read(name, verify);
    if (e.method !== 0) return (await this.read(name, verify)).subarray(offset, offset + length);
    return this.source.read((await this.dataOffset(name)) + offset, length);
  }
}

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}

/** Last EOCD signature in `tail` whose comment length fits exactly; -1 when none. */
function findEocd(tail: Uint8Array): number {
  const dv = view(tail);
  for (let i = tail.byteLength - EOCD_SIZE; i >= 0; i--) {
    if (dv.getUint32(i, true) === SIG_EOCD && i + EOCD_SIZE + dv.getUint16(i + 20, true) === tail.byteLength) return i;
  }
  return -1;
}

function parseCentralDirectory(cd: Uint8Array, count: number, label: string): Map<string, ZipEntry> {
  const dv = view(cd);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + CENTRAL_SIZE > cd.byteLength || dv.getUint32(p, true) !== SIG_CENTRAL) {
      throw new Error(`${label}: corrupt zip (central directory record ${i} of ${count} missing at offset ${p})`);
    }
    const flags = dv.getUint16(p + 8, true);
    const method = dv.getUint16(p + 10, true);
    const crc = dv.getUint32(p + 16, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let localHeaderOffset = dv.getUint32(p + 42, true);
    const end = p + CENTRAL_SIZE + nameLen + extraLen + commentLen;
    if (end > cd.byteLength) throw new Error(`${label}: corrupt zip (central directory record ${i} runs past the directory)`);
    const nameBytes = cd.subarray(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLen);
    const name = (flags & 0x800 ? utf8 : latin1).decode(nameBytes);

    // zip64 extended information: 64-bit values for exactly the fields saturated at 0xFFFFFFFF.
    let q = p + CENTRAL_SIZE + nameLen;
    const extraEnd = q + extraLen;
    while (q + 4 <= extraEnd) {
      const id = dv.getUint16(q, true);
      const len = dv.getUint16(q + 2, true);
      if (q + 4 + len > extraEnd) break;
      if (id === 0x0001) {
        let r = q + 4;
        const take = (what: string): number => {
          if (r + 8 > q + 4 + len) throw new Error(`${label}: corrupt zip (zip64 field of '${name}' lacks its ${what})`);
          const v = u64(dv, r, label, what);
          r += 8;
          return v;
        };
        if (size === 0xffffffff) size = take('size');
        if (compressedSize === 0xffffffff) compressedSize = take('compressed size');
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take('local header offset');
      }
      q += 4 + len;
    }

    if (flags & 0x1) throw new Error(`${label}: entry '${name}' is encrypted; encrypted zip entries are not supported`);
    if (method !== 0 && method !== 8) {
      throw new Error(`${label}: entry '${name}' uses compression method ${method}; only stored (0) and deflate (8) are supported`);
    }
    if (method === 0 && compressedSize !== size) {
      throw new Error(`${label}: corrupt zip (stored entry '${name}' has size ${size} but compressed size ${compressedSize})`);
    }
    entries.set(name, { name, method, compressedSize, size, crc32: crc, localHeaderOffset, flags });
    p = end;
  }
  return entries;
}
