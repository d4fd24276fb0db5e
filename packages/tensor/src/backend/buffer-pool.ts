/**
 * A size-bucketed pool of GPU storage buffers.
 *
 * Sizes are rounded up to one of four buckets per power of two (at most 25% slack), so a freed
 * buffer serves later requests of a similar size. A released buffer is reused at once when no
 * submitted one of its size is idle: commands recorded into the same encoder run in order (the
 * implementation orders a dispatch's writes after earlier dispatches' reads), so a later
 * dispatch may overwrite it. Only a `queue.writeBuffer`, which runs before not-yet-submitted
 * commands, could overtake the commands that still read it: such a buffer is marked until the
 * next submit ({@link BufferPool.writeNeedsSubmit}), and the backend submits before writing into
 * it. Before this, released buffers waited for a submit (every 64 dispatches), and a Hiera-T
 * encoder pass created 2.5 GiB of buffers for 0.8 GiB of live tensors.
 */

// Spec values of GPUBufferUsage (STORAGE | COPY_SRC | COPY_DST), spelled out so the core does not
// depend on the `GPUBufferUsage` global, which Node only has after installing Dawn's globals.
const STORAGE_USAGE = 0x0080 | 0x0004 | 0x0008;

/** Bucket size (bytes) for a request: 16-byte minimum, then four buckets per octave. */
export function bucketSize(bytes: number): number {
  if (bytes <= 256) return Math.max(16, Math.ceil(bytes / 16) * 16);
  const octave = 2 ** Math.floor(Math.log2(bytes));
  const step = octave / 4;
  return Math.ceil(bytes / step) * step;
}

/** Counters exposed for tests and benchmarks. */
export interface PoolStats {
  /** Bytes of buffers currently handed out (held by tensors). */
  liveBytes: number;
  /** Highest `liveBytes` since the last {@link BufferPool.resetPeak}. */
  peakBytes: number;
  /** Bytes of idle buffers kept for reuse. */
  pooledBytes: number;
  /** Buffers handed out right now. */
  liveBuffers: number;
  /** Total bytes of GPU buffers this pool created and has not destroyed. */
  allocatedBytes: number;
}

/**
 * A size-bucketed pool of GPU storage buffers, one per backend: released buffers are reused once
 * the encoder that may still use them has been submitted.
 */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  /** Released since the last submit, by size. */
  private pending = new Map<number, GPUBuffer[]>();
  /** Handed out again from `pending` since the last submit (see the file comment). */
  private readonly reusedBeforeSubmit = new Set<GPUBuffer>();
  private readonly sizes = new WeakMap<GPUBuffer, number>();
  private stats: PoolStats = { liveBytes: 0, peakBytes: 0, pooledBytes: 0, liveBuffers: 0, allocatedBytes: 0 };
  /** Set when the device is lost: nothing is handed out, released buffers are just counted off. */
  private lost: Error | null = null;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxBufferSize: number,
  ) {}

  /** A buffer of at least `bytes` bytes (its size is the bucket size). */
  acquire(bytes: number): GPUBuffer {
    if (this.lost) throw this.lost;
    const size = bucketSize(Math.max(bytes, 4));
    if (size > this.maxBufferSize) {
      throw new RangeError(`buffer of ${bytes} bytes exceeds the device's maxBufferSize (${this.maxBufferSize})`);
    }
    let buffer = this.free.get(size)?.pop();
    if (!buffer) {
      buffer = this.pending.get(size)?.pop();
      if (buffer) this.reusedBeforeSubmit.add(buffer);
    }
    if (buffer) {
      this.stats.pooledBytes -= size;
    } else {
      buffer = this.device.createBuffer({ size, usage: STORAGE_USAGE });
      this.sizes.set(buffer, size);
      this.stats.allocatedBytes += size;
    }
    this.stats.liveBytes += size;
    this.stats.liveBuffers++;
    if (this.stats.liveBytes > this.stats.peakBytes) this.stats.peakBytes = this.stats.liveBytes;
    return buffer;
  }

  /** Gives a buffer back for reuse (see the file comment). */
  release(buffer: GPUBuffer): void {
    const size = this.sizes.get(buffer)!;
    this.stats.liveBytes -= size;
    this.stats.liveBuffers--;
    if (this.lost) {
      // The buffer died with its device: nothing to keep or reuse.
      this.stats.allocatedBytes -= size;
      return;
    }
    let list = this.pending.get(size);
    if (!list) this.pending.set(size, (list = []));
    list.push(buffer);
    this.stats.pooledBytes += size;
  }

  /**
   * Whether a `queue.writeBuffer` into `buffer` must wait for a submit: it was released and handed
   * out again since the last one, so commands recorded before may still read its old contents.
   */
  writeNeedsSubmit(buffer: GPUBuffer): boolean {
    return this.reusedBeforeSubmit.has(buffer);
  }

  /**
   * The device is lost: idle buffers are dropped, later `acquire` calls throw `error`, and
   * buffers still held by tensors are counted off as they are released (so `liveBytes` returns
   * to 0 once the old tensors are disposed).
   */
  markLost(error: Error): void {
    this.lost = error;
    this.onSubmit();
    this.trim();
  }

  /** Called by the backend right after it submits the encoder that may use pending buffers. */
  onSubmit(): void {
    for (const [size, buffers] of this.pending) {
      let list = this.free.get(size);
      if (!list) this.free.set(size, (list = []));
      list.push(...buffers);
    }
    this.pending = new Map();
    this.reusedBeforeSubmit.clear();
  }

  /** Destroys every idle buffer (pending ones stay until submitted). */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        const size = this.sizes.get(b)!;
        this.stats.pooledBytes -= size;
        this.stats.allocatedBytes -= size;
        b.destroy();
      }
    }
    this.free.clear();
  }

  /** Size in bytes of a buffer made by this pool. */
  sizeOf(buffer: GPUBuffer): number {
    return this.sizes.get(buffer)!;
  }

  /** A snapshot of the pool counters (a copy; it does not change afterwards). */
  getStats(): PoolStats {
    return { ...this.stats };
  }

  /** Restarts the peak: sets `peakBytes` to the bytes live now. */
  resetPeak(): void {
    this.stats.peakBytes = this.stats.liveBytes;
  }
}
