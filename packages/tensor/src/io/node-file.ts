/** Node implementations of the I/O seam: files read by range, never whole. */
import { open, stat } from 'node:fs/promises';
import type { ByteSource } from './byte-source.js';

/** A ByteSource over a file; a missing file is reported by path. */
export function fileSource(path: string): ByteSource {
  return {
    label: path,
    size: async () => {
      try {
        return (await stat(path)).size;
      } catch (e) {
        throw new Error(`${path}: cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    },
    read: async (offset, length) => {
      const fh = await open(path, 'r');
      try {
        const buf = new Uint8Array(length);
        let done = 0;
        while (done < length) {
          const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
          if (bytesRead === 0) throw new RangeError(`${path}: read of ${length} bytes at ${offset} is past the end of the file`);
          done += bytesRead;
        }
        return buf;
      } finally {
        await fh.close();
      }
    },
  };
}
