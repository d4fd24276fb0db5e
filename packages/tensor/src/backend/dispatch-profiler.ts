/**
 * Times every compute dispatch the backend records while profiling, with timestamp queries.
 *
 * Why timestamp queries and not "submit each dispatch and await `onSubmittedWorkDone()`": ops
 * record dispatches synchronously (`Backend.run` returns before the GPU runs anything), so awaiting
 * per dispatch would need every op to be async. Timestamps keep the backend's structure: while
 * profiling, each dispatch gets its own compute pass whose `timestampWrites` bracket it; the query
 * set is resolved at the end of the command encoder, copied to a mappable buffer and read back
 * asynchronously after the submit, so recording stays synchronous and batches stay batched.
 * WebGPU only allows timestamps at pass boundaries (not between dispatches of one pass), hence a
 * pass per dispatch; that costs a little, and only while profiling.
 *
 * On lavapipe the timestamps are the CPU clock of the queue thread, read when the command runs
 * (llvmpipe runs a compute grid synchronously), so a dispatch's time is its wall-clock execution
 * time. Dawn quantizes timestamps to ~65 µs unless its `timestamp_quantization` toggle is off
 * (`createNodeGPU` turns it off); quantized per-dispatch times are coarse, but their sums over many
 * dispatches stay unbiased.
 */
import type { ProfileEntry, ProfileReport, TransferCount } from '../profile/report.js';

// Spec values, spelled out so the core does not depend on Dawn's globals (see buffer-pool.ts).
const QUERY_RESOLVE_USAGE = 0x0200 | 0x0004; // QUERY_RESOLVE | COPY_SRC
const MAP_READ_USAGE = 0x0001 | 0x0008; // MAP_READ | COPY_DST
/** Dispatches timed per command encoder (2 queries each; a query set holds at most 4096). */
const CAPACITY = 256;
const SLOT_BYTES = 16; // two u64 timestamps

/** The timed dispatches of one submitted encoder and the buffer their timestamps are copied to. */
export interface TimedBatch {
  staging: GPUBuffer;
  dispatches: { kernel: string; label: string }[];
}

interface Accumulator {
  kernel: string;
  label: string;
  calls: number;
  totalMs: number;
}

/**
 * Times each compute dispatch with timestamp queries, and counts uploads, readbacks and copies,
 * while a profile is running; {@link DispatchProfiler.finish} returns the report.
 */
export class DispatchProfiler {
  /** Label attached to the dispatches recorded now ('' for none); set by `profileScope`. */
  label = '';

  private readonly querySet: GPUQuerySet;
  private readonly resolveBuffer: GPUBuffer;
  private readonly freeStaging: GPUBuffer[] = [];
  /** Kernel and label of each dispatch of the encoder being recorded, by slot. */
  private batch: { kernel: string; label: string }[] = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly acc = new Map<string, Accumulator>();
  private readonly transfers = { uploads: zero(), readbacks: zero(), copies: zero() };
  private dispatches = 0;
  private readonly startedAt = performance.now();
  private failure: Error | null = null;

  constructor(private readonly device: GPUDevice) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 * CAPACITY });
    this.resolveBuffer = device.createBuffer({ size: CAPACITY * SLOT_BYTES, usage: QUERY_RESOLVE_USAGE });
  }

  /** Whether the current encoder has no slot left (the backend then submits it first). */
  get full(): boolean {
    return this.batch.length >= CAPACITY;
  }

  /** Opens the timed compute pass of one dispatch on `encoder` (the caller ends it). */
  beginPass(encoder: GPUCommandEncoder, kernel: string): GPUComputePassEncoder {
    const slot = this.batch.length;
    this.batch.push({ kernel, label: this.label });
    return encoder.beginComputePass({
      timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * slot, endOfPassWriteIndex: 2 * slot + 1 },
    });
  }

  /**
   * Called with the encoder about to be submitted: resolves its timestamps into a mappable buffer.
   * Returns the batch to hand to {@link afterSubmit} once submitted; null if nothing was timed.
   */
  resolve(encoder: GPUCommandEncoder): TimedBatch | null {
    const n = this.batch.length;
    if (n === 0) return null;
    const staging = this.freeStaging.pop() ?? this.device.createBuffer({ size: CAPACITY * SLOT_BYTES, usage: MAP_READ_USAGE });
    encoder.resolveQuerySet(this.querySet, 0, 2 * n, this.resolveBuffer, 0);
    encoder.copyBufferToBuffer(this.resolveBuffer, 0, staging, 0, n * SLOT_BYTES);
    const dispatches = this.batch;
    this.batch = [];
    return { staging, dispatches };
  }

  /**
   * After the submit: reads the batch's timestamps back when the GPU is done with it. The query
   * set and the resolve buffer are reused by the next encoder; that is safe because the queue runs
   * submits in order, so this batch's copy to `staging` happens before the next batch's writes.
   */
  afterSubmit({ staging, dispatches: batch }: TimedBatch): void {
    const done = staging
      .mapAsync(0x0001 /* GPUMapMode.READ */, 0, batch.length * SLOT_BYTES)
      .then(() => {
        const t = new BigUint64Array(staging.getMappedRange(0, batch.length * SLOT_BYTES));
        batch.forEach((d, i) => this.add(d.kernel, d.label, t[2 * i + 1] > t[2 * i] ? Number(t[2 * i + 1] - t[2 * i]) / 1e6 : 0));
        staging.unmap();
        this.freeStaging.push(staging);
      })
      .catch((e: unknown) => {
        this.failure ??= e instanceof Error ? e : new Error(String(e));
        staging.destroy();
      })
      .finally(() => this.pending.delete(done));
    this.pending.add(done);
  }

  /** Counts one upload (CPU → GPU write) of `bytes` bytes. */
  countUpload(bytes: number): void {
    add(this.transfers.uploads, bytes);
  }

  /** Counts one readback (GPU → CPU read) of `bytes` bytes. */
  countReadback(bytes: number): void {
    add(this.transfers.readbacks, bytes);
  }

  /** Counts one buffer-to-buffer copy of `bytes` bytes on the GPU. */
  countCopy(bytes: number): void {
    add(this.transfers.copies, bytes);
  }

  /**
   * Waits for every submitted batch's timestamps (the backend has submitted everything first),
   * frees the GPU objects and returns the report. `wallMs` spans start to the GPU finishing.
   */
  async finish(): Promise<ProfileReport> {
    while (this.pending.size) await Promise.all([...this.pending]);
    const wallMs = performance.now() - this.startedAt;
    this.querySet.destroy();
    this.resolveBuffer.destroy();
    for (const b of this.freeStaging.splice(0)) b.destroy();
    if (this.failure) throw new Error(`profiler: reading timestamps failed: ${this.failure.message}`, { cause: this.failure });
    const entries: ProfileEntry[] = [...this.acc.values()]
      .map((a) => ({ ...a, meanMs: a.totalMs / a.calls }))
      .sort((a, b) => b.totalMs - a.totalMs);
    const kernelMs = entries.reduce((s, e) => s + e.totalMs, 0);
    return { entries, dispatches: this.dispatches, kernelMs, wallMs, ...this.transfers };
  }

  private add(kernel: string, label: string, ms: number): void {
    const key = `${kernel}\u0000${label}`;
    let a = this.acc.get(key);
    if (!a) this.acc.set(key, (a = { kernel, label, calls: 0, totalMs: 0 }));
    a.calls++;
    a.totalMs += ms;
    this.dispatches++;
  }
}

function zero(): TransferCount {
  return { count: 0, bytes: 0 };
}

function add(t: TransferCount, bytes: number): void {
  t.count++;
  t.bytes += bytes;
}
