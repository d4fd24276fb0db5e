/**
 * A ZIP writer for the export archive (readable by any unzip and by @rpsam2/tensor's
 * `ZipArchive`): UTF-8 names, CRC-32 from @rpsam2/tensor, entries deflated with the platform's
 * `CompressionStream('deflate-raw')` when that compresses (JSON does; PNGs are compressed
 * already and are stored), or stored where the platform has no such stream. No zip64: an
 * archive is limited to 65,535 entries and 4 GiB, and exceeding that is an error.
 */
import { crc32 } from '@rpsam2/tensor';

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const FLAG_UTF8 = 0x0800;
const MAX_U32 = 0xffffffff;

interface Entry {
  name: Uint8Array;
  method: 0 | 8;
  crc: number;
  size: number;
  data: Uint8Array;
  offset: number;
}

/**
 * The fields a local file header and its central directory record share, in the same order
 * (version needed 2.0, flags, method, time, date, CRC, sizes, name length), written from `at`.
 */
function setEntryFields(dv: DataView, at: number, e: Entry, { date, time }: { date: number; time: number }): void {
  dv.setUint16(at, 20, true); // version needed: 2.0
  dv.setUint16(at + 2, FLAG_UTF8, true);
  dv.setUint16(at + 4, e.method, true);
  dv.setUint16(at + 6, time, true);
  dv.setUint16(at + 8, date, true);
  dv.setUint32(at + 10, e.crc, true);
  dv.setUint32(at + 14, e.data.length, true);
  dv.setUint32(at + 18, e.size, true);
  dv.setUint16(at + 22, e.name.length, true);
}

/** Whether this platform can deflate (CompressionStream with 'deflate-raw'). */
export function canDeflate(): boolean {
  try {
    new CompressionStream('deflate-raw' as CompressionFormat);
    return true;
  } catch {
    return false;
  }
}

async function deflateRaw(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream('deflate-raw' as CompressionFormat));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** MS-DOS date and time fields of a Date (local time, 2-second resolution, 1980–2107). */
export function dosDateTime(d: Date): { date: number; time: number } {
  const year = Math.min(Math.max(d.getFullYear(), 1980), 2107);
  return {
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
  };
}

export class ZipWriter {
  private readonly entries: Entry[] = [];
  private readonly names = new Set<string>();
  private offset = 0;
  private readonly stamp: { date: number; time: number };
  private readonly deflate: boolean;

  constructor(options: { date?: Date; compress?: boolean } = {}) {
    this.stamp = dosDateTime(options.date ?? new Date());
    this.deflate = (options.compress ?? true) && canDeflate();
  }

  /** Entries added so far. */
  get count(): number {
    return this.entries.length;
  }

  /** Adds a file (a string is written as UTF-8). Names use '/' and must be unique and relative. */
  async add(name: string, content: Uint8Array | string): Promise<void> {
    if (!name || name.startsWith('/') || name.includes('\\') || name.split('/').some((p) => p === '..' || p === '')) {
      throw new Error(`zip: bad entry name '${name}' (relative, '/'-separated, no empty or '..' parts)`);
    }
    if (this.names.has(name)) throw new Error(`zip: duplicate entry '${name}'`);
    if (this.entries.length >= 0xffff) throw new Error('zip: more than 65,535 entries (zip64 is not supported)');
    const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
    const crc = crc32(bytes);
    let data = bytes;
    let method: 0 | 8 = 0;
    if (this.deflate && bytes.length > 64) {
      const packed = await deflateRaw(bytes);
      if (packed.length < bytes.length) {
        data = packed;
        method = 8;
      }
    }
    const nameBytes = new TextEncoder().encode(name);
    if (this.offset + 30 + nameBytes.length + data.length > MAX_U32) throw new Error('zip: the archive would exceed 4 GiB (zip64 is not supported)');
    this.names.add(name);
    this.entries.push({ name: nameBytes, method, crc, size: bytes.length, data, offset: this.offset });
    this.offset += 30 + nameBytes.length + data.length;
  }

  /** The archive's bytes. */
  finish(): Uint8Array {
    const centralSize = this.entries.reduce((s, e) => s + 46 + e.name.length, 0);
    const total = this.offset + centralSize + 22;
    const out = new Uint8Array(total);
    const dv = new DataView(out.buffer);
    let p = 0;
    for (const e of this.entries) {
      dv.setUint32(p, SIG_LOCAL, true);
      setEntryFields(dv, p + 4, e, this.stamp);
      dv.setUint16(p + 28, 0, true);
      out.set(e.name, p + 30);
      out.set(e.data, p + 30 + e.name.length);
      p += 30 + e.name.length + e.data.length;
    }
    const centralStart = p;
    for (const e of this.entries) {
      dv.setUint32(p, SIG_CENTRAL, true);
      dv.setUint16(p + 4, 20, true); // made by: 2.0, MS-DOS attributes
      setEntryFields(dv, p + 6, e, this.stamp);
      // extra, comment, disk, internal attributes: 0
      dv.setUint32(p + 38, 0, true); // external attributes
      dv.setUint32(p + 42, e.offset, true);
      out.set(e.name, p + 46);
      p += 46 + e.name.length;
    }
    dv.setUint32(p, SIG_EOCD, true);
    dv.setUint16(p + 8, this.entries.length, true);
    dv.setUint16(p + 10, this.entries.length, true);
    dv.setUint32(p + 12, centralSize, true);
    dv.setUint32(p + 16, centralStart, true);
    return out;
  }
}
