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
  return boundedSource(label, bytes.byteLength, async (offset, length) => bytes.subarray(offset, offset + length));
}

/** A source over a Blob or File (browsers), reading only the requested slices. */
export function blobSource(blob: Blob, label = (blob as File).name ?? 'blob'): ByteSource {
  return boundedSource(label, blob.size, async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer()));
}

/** A source of known `size` whose reads are range-checked here, so `read` only sees ranges inside it. */
function boundedSource(label: string, size: number, read: ByteSource['read']): ByteSource {
  return {
    label,
    size: async () => size,
    read: async (offset, length) => {
      if (offset < 0 || offset + length > size) {
        throw new RangeError(`${label}: read of ${length} bytes at ${offset} is past the end (${size} bytes)`);
      }
      return read(offset, length);
    },
  };
}
