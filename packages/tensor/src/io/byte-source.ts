/**
 * The I/O seam: random-access byte sources. The core reads files only through this interface;
 * Node provides a file-backed source (`@rpsam2/tensor/node`), browsers a Blob/File-backed one.
 */
export interface ByteSource {
  /** Total size in bytes. */
  size(): Promise<number>;
  /** `length` bytes from `offset`; throws if the range is outside the source. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** A name for error messages (a path or file name). */
  readonly label?: string;
}

/** A source over bytes already in memory. */
export function bytesSource(bytes: Uint8Array, label = 'bytes'): ByteSource {
  return {
    label,
    size: async () => bytes.byteLength,
    read: async (offset, length) => {
      if (offset < 0 || offset + length > bytes.byteLength) {
        throw new RangeError(`${label}: read of ${length} bytes at ${offset} is past the end (${bytes.byteLength} bytes)`);
      }
      return bytes.subarray(offset, offset + length);
    },
  };
}

/** A source over a Blob or File (browsers), reading only the requested slices. */
export function blobSource(blob: Blob, label = (blob as File).name ?? 'blob'): ByteSource {
  return {
    label,
    size: async () => blob.size,
    read: async (offset, length) => {
      if (offset < 0 || offset + length > blob.size) {
        throw new RangeError(`${label}: read of ${length} bytes at ${offset} is past the end (${blob.size} bytes)`);
      }
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
}
