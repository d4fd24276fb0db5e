/**
 * A size-bucketed pool of GPU storage buffers.
 *
 * Sizes are rounded up to one of four buckets per power of two (at most 25% slack), so a freed
 * buffer serves later requests of a similar size. A released buffer is parked until the command
 * encoder that may still reference it has been submitted: after that, any later use (including a
 * `queue.writeBuffer`, which runs before not-yet-submitted commands) is ordered after it.
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
  private pending: GPUBuffer[] = [];
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
    const list = this.free.get(size);
    let buffer = list?.pop();
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

  /** Gives a buffer back; it becomes reusable after the next {@link onSubmit}. */
  release(buffer: GPUBuffer): void {
    const size = this.sizes.get(buffer)!;
    this.stats.liveBytes -= size;
    this.stats.liveBuffers--;
    if (this.lost) {
      // The buffer died with its device: nothing to keep or reuse.
      this.stats.allocatedBytes -= size;
      return;
    }
    this.pending.push(buffer);
    this.stats.pooledBytes += size;
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
    for (const b of this.pending) {
      const size = this.sizes.get(b)!;
      let list = this.free.get(size);
      if (!list) this.free.set(size, (list = []));
      list.push(b);
    }
    this.pending = [];
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
