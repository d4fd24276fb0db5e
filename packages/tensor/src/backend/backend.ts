/**
 * The WebGPU backend: runs compute kernels on one device.
 *
 * Contract for kernels (see `kernels/wgsl.ts` for the helpers that write them):
 * - entry point `main`; bindings in group 0, in this order: every input as
 *   `var<storage, read>`, every output as `var<storage, read_write>`, then (if the dispatch has
 *   params) one `var<uniform>` struct;
 * - a kernel's `key` must determine its WGSL source: the generator runs once per key, and pipelines
 *   are cached by the generated source (kernels whose keys differ but whose WGSL is the same share
 *   one pipeline). {@link Backend.checkKernelKeys} proves key → source is a function for every
 *   dispatch it sees (on in the tensor tests and `check-ops`).
 *
 * Execution: dispatches are recorded into one compute pass of one command encoder and submitted in
 * batches (every {@link Backend.batchSize} dispatches, or when data is read back). Uniform params
 * go into one arena buffer, uploaded with a single `writeBuffer` per submit; no buffer is created
 * per dispatch. WebGPU orders queue operations, so rewriting the arena for the next batch is safe.
 *
 * Profiling (`startProfile` … `stopProfile`) times each dispatch (see `dispatch-profiler.ts`);
 * when it is off, the only cost is a null check per dispatch and transfer.
 *
 * A lost device (see `device/device-lost.ts`): the backend watches `device.lost`; from then on
 * every call throws {@link DeviceLostError}, readbacks and syncs already waiting reject with it
 * (never hang), and the pool forgets its buffers. `init()` then makes a new backend.
 */
import { BufferPool, type PoolStats } from './buffer-pool.js';
import { DispatchProfiler } from './dispatch-profiler.js';
import type { ProfileReport } from '../profile/report.js';
import type { DeviceInfo } from '../device/gpu-device.js';
import { DeviceLostError } from '../device/device-lost.js';
import { awaitPromise, type GpuWait } from '../device/gpu-wait.js';

/** A storage-buffer range used by one binding. */
export interface BufferRange {
  buffer: GPUBuffer;
  /** Bytes bound (the tensor's logical size, a multiple of 4). */
  size: number;
  /** Byte offset (multiple of the device's minStorageBufferOffsetAlignment). */
  offset?: number;
}

/**
 * A kernel: a key and the generator of the WGSL it stands for. The key names the kernel in
 * profiles and errors and memoises the generator (which runs once per key); pipelines are cached
 * by the generated source. Kernels come from the pure generators in `kernels/`.
 */
export interface Kernel {
  /** Names the kernel in profiles and errors; must determine the WGSL source. */
  key: string;
  /** Generates the kernel's WGSL source (called once per key). */
  wgsl: () => string;
}

interface PipelineEntry {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  code: string;
}

/** The error of a kernel key seen with two different sources: names the first differing line. */
function kernelKeyClash(key: string, before: string, after: string): string {
  const a = before.split('\n');
  const b = after.split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return (
    `kernel key '${key}' stands for two different WGSL sources (the key must determine the source; ` +
    `add what differs to the key). First difference at line ${i + 1}:\n  before: ${a[i] ?? '(end)'}\n  now:    ${b[i] ?? '(end)'}`
  );
}

/** One dispatch of a kernel. */
export interface Dispatch {
  kernel: Kernel;
  inputs: BufferRange[];
  outputs: BufferRange[];
  /** Raw bytes of the uniform struct (use `Params` to build them). */
  params?: ArrayBuffer;
  /** Workgroup counts (each at most maxComputeWorkgroupsPerDimension). */
  workgroups: readonly [number, number?, number?];
}

const UNIFORM_USAGE = 0x0040 | 0x0008; // UNIFORM | COPY_DST
const MAP_READ_USAGE = 0x0001 | 0x0008; // MAP_READ | COPY_DST
const ARENA_BYTES = 1 << 16;
/**
 * Readback staging buffers up to this size are kept (at most {@link STAGING_KEPT} of them, sizes
 * rounded up to a power of two) and mapped again by later reads: a fresh 4 MiB staging buffer cost
 * ~6 ms a read on lavapipe, mostly its allocation and first touch.
 */
const STAGING_KEEP_BYTES = 16 << 20;
const STAGING_KEPT = 4;

/**
 * The WebGPU backend of one device: compiles and caches kernel pipelines, records and submits
 * dispatches in batches, and owns the buffer pool. Made by `init()` (get it with `getBackend()`).
 */
export class Backend {
  readonly pool: BufferPool;
  /** Dispatches recorded per submit. */
  batchSize = 64;
  /**
   * Dispatches in the first submit after a wait (the GPU is idle then); each later submit doubles
   * it up to `batchSize`. Recording costs ~50 µs a dispatch in Node (mostly `createBindGroup`), so
   * a full first batch kept a CPU adapter idle for ~3 ms of every decoder click.
   */
  firstBatch = 8;
  private nextBatch = this.firstBatch;
  /** Total dispatches recorded (for tests and benchmarks). */
  dispatchCount = 0;
  /** Total command encoders submitted (for tests and benchmarks). */
  submitCount = 0;
  /**
   * Debug check (on in the tensor tests and `check-ops`): regenerate each kernel's WGSL on every
   * dispatch and throw if one key stands for two different sources. Costs the generator's time
   * per dispatch.
   */
  checkKernelKeys = false;

  /** Pipelines by kernel key (and bind-group layout), and by generated source (and layout). */
  private readonly byKey = new Map<string, PipelineEntry>();
  private readonly bySource = new Map<string, PipelineEntry>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pendingInBatch = 0;
  private readonly arena: GPUBuffer;
  private readonly arenaStaging = new Uint8Array(ARENA_BYTES);
  private arenaUsed = 0;
  private readonly uniformAlign: number;
  private readonly errors: string[] = [];
  private destroyed = false;
  private lostError: DeviceLostError | null = null;
  /** Rejecters of the readbacks and syncs in flight, failed at once when the device is lost. */
  private readonly waiting = new Set<(e: DeviceLostError) => void>();
  /** Settles when the loss has been handled (awaited only on a failure path). */
  private readonly lostHandled: Promise<void>;
  private activeProfiler: DispatchProfiler | null = null;
  /** Unmapped staging buffers kept for reuse by `read` (see STAGING_KEEP_BYTES). */
  private readonly stagingFree: GPUBuffer[] = [];

  constructor(
    readonly device: GPUDevice,
    readonly info: DeviceInfo,
    /**
     * How the backend waits for the GPU's promises (see `device/gpu-wait.ts`); settable, e.g.
     * to time the plain `await` against Node's napping wait in one run.
     */
    public wait: GpuWait = awaitPromise,
  ) {
    this.pool = new BufferPool(device, info.limits.maxBufferSize);
    this.arena = device.createBuffer({ size: ARENA_BYTES, usage: UNIFORM_USAGE });
    this.uniformAlign = Math.max(16, info.limits.minUniformBufferOffsetAlignment);
    this.lostHandled = (device.lost ?? new Promise<never>(() => undefined)).then((e) => {
      if (!this.destroyed) this.markLost(new DeviceLostError(e.reason ?? 'unknown', e.message));
    });
    device.addEventListener?.('uncapturederror', (ev: Event) => {
      this.errors.push((ev as GPUUncapturedErrorEvent).error.message);
    });
  }

  /** Largest storage binding the device accepts, in bytes. */
  get maxBinding(): number {
    return this.info.limits.maxStorageBufferBindingSize;
  }

  /** Pool counters (live, peak, pooled bytes). */
  stats(): PoolStats {
    return this.pool.getStats();
  }

  /** The profiler while profiling, else null. */
  get profiler(): DispatchProfiler | null {
    return this.activeProfiler;
  }

  /**
   * Starts timing every dispatch (needs the device's 'timestamp-query' feature). Work recorded
   * before is not timed; sync first for a wall time that holds only the profiled work.
   */
  startProfile(): void {
    this.assertAlive();
    if (this.activeProfiler) throw new Error('startProfile: a profile is already running (call stopProfile first)');
    if (!this.info.features.timestampQuery) {
      throw new Error("startProfile: the device has no 'timestamp-query' feature, which the profiler needs to time dispatches");
    }
    this.activeProfiler = new DispatchProfiler(this.device);
  }

  /** Stops profiling: submits pending work, waits for its timings and returns the report. */
  async stopProfile(): Promise<ProfileReport> {
    const p = this.activeProfiler;
    if (!p) throw new Error('stopProfile: no profile is running (call startProfile first)');
    this.flush();
    this.activeProfiler = null;
    const report = await this.untilLost(p.finish());
    this.throwErrors();
    return report;
  }

  /** Records one dispatch. */
  run(d: Dispatch): void {
    this.assertAlive();
    for (const r of [...d.inputs, ...d.outputs]) {
      if (r.size > this.maxBinding) {
        throw new RangeError(
          `kernel ${d.kernel.key}: a binding of ${r.size} bytes exceeds the device's maxStorageBufferBindingSize ` +
            `(${this.maxBinding}); the op must split its work`,
        );
      }
    }
    const maxWg = this.info.limits.maxComputeWorkgroupsPerDimension;
    const [wx, wy = 1, wz = 1] = d.workgroups;
    if (wx > maxWg || wy > maxWg || wz > maxWg) {
      throw new RangeError(`kernel ${d.kernel.key}: workgroups [${wx},${wy},${wz}] exceed the per-dimension limit ${maxWg}`);
    }
    if (wx === 0 || wy === 0 || wz === 0) return;
    const prof = this.activeProfiler;
    if (prof?.full) this.flush();
    const { pipeline, layout } = this.pipeline(d.kernel, d.inputs.length, d.outputs.length, d.params !== undefined);

    const entries: GPUBindGroupEntry[] = [];
    let binding = 0;
    for (const r of d.inputs) entries.push({ binding: binding++, resource: { buffer: r.buffer, offset: r.offset ?? 0, size: Math.max(4, r.size) } });
    for (const r of d.outputs) entries.push({ binding: binding++, resource: { buffer: r.buffer, offset: r.offset ?? 0, size: Math.max(4, r.size) } });
    if (d.params !== undefined) {
      const size = Math.max(16, Math.ceil(d.params.byteLength / 16) * 16);
      if (this.arenaUsed + size > ARENA_BYTES) this.flush();
      const offset = this.arenaUsed;
      this.arenaStaging.set(new Uint8Array(d.params), offset);
      this.arenaUsed = Math.ceil((offset + size) / this.uniformAlign) * this.uniformAlign;
      entries.push({ binding: binding++, resource: { buffer: this.arena, offset, size } });
    }
    const bindGroup = this.device.createBindGroup({ layout, entries });
    let pass: GPUComputePassEncoder;
    if (prof) {
      this.endPass();
      pass = prof.beginPass(this.commandEncoder(), d.kernel.key);
    } else pass = this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(wx, wy, wz);
    if (prof) pass.end();
    this.dispatchCount++;
    if (++this.pendingInBatch >= Math.min(this.nextBatch, this.batchSize)) this.flush();
  }

  /** Records a buffer-to-buffer copy. */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.assertAlive();
    if (bytes === 0) return;
    this.activeProfiler?.countCopy(bytes);
    this.encodeCopy(src, srcOffset, dst, dstOffset, bytes);
  }

  /** Uploads bytes into a buffer (ordered before any not-yet-submitted dispatch). */
  write(dst: GPUBuffer, dstOffset: number, data: ArrayBufferView): void {
    this.assertAlive();
    if (data.byteLength === 0) return;
    // A buffer reused within the unsubmitted encoder: submit first, so the recorded commands read
    // its old contents before the upload lands.
    if (this.pool.writeNeedsSubmit(dst)) this.flush();
    this.activeProfiler?.countUpload(data.byteLength);
    // writeBuffer needs a multiple of 4 bytes.
    if (data.byteLength % 4 !== 0) {
      const padded = new Uint8Array(Math.ceil(data.byteLength / 4) * 4);
      padded.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      this.device.queue.writeBuffer(dst, dstOffset, padded);
    } else {
      this.device.queue.writeBuffer(dst, dstOffset, data.buffer, data.byteOffset, data.byteLength);
    }
  }

  /** Submits everything recorded so far (after a device loss: drops it). */
  flush(): void {
    if (this.lostError) {
      this.pass = this.encoder = null;
      return;
    }
    this.endPass();
    if (!this.encoder) return;
    const timed = this.activeProfiler?.resolve(this.encoder);
    if (this.arenaUsed > 0) this.device.queue.writeBuffer(this.arena, 0, this.arenaStaging, 0, this.arenaUsed);
    this.device.queue.submit([this.encoder.finish()]);
    this.submitCount++;
    if (timed) this.activeProfiler!.afterSubmit(timed);
    this.encoder = null;
    this.arenaUsed = 0;
    this.pendingInBatch = 0;
    this.nextBatch = Math.min(this.batchSize, this.nextBatch * 2);
    this.pool.onSubmit();
  }

  /** Reads `bytes` bytes of a buffer back to the CPU (submits pending work first). */
  async read(src: GPUBuffer, srcOffset: number, bytes: number): Promise<ArrayBuffer> {
    this.assertAlive();
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const keep = size <= STAGING_KEEP_BYTES;
    const capacity = keep ? 2 ** Math.ceil(Math.log2(size)) : size;
    const kept = keep ? this.stagingFree.findIndex((b) => b.size === capacity) : -1;
    const staging = kept >= 0 ? this.stagingFree.splice(kept, 1)[0] : this.device.createBuffer({ size: capacity, usage: MAP_READ_USAGE });
    this.activeProfiler?.countReadback(bytes);
    let reusable = false;
    try {
      this.encodeCopy(src, srcOffset, staging, 0, size);
      this.flush();
      try {
        await this.untilLost(staging.mapAsync(0x0001 /* GPUMapMode.READ */));
      } catch (e) {
        // Dawn aborts the mapping a moment before it reports the loss: report the loss.
        throw (await this.lostWithin(1000)) ?? e;
      }
      this.throwErrors();
      this.nextBatch = this.firstBatch;
      const out = staging.getMappedRange(0, size).slice(0, bytes);
      staging.unmap();
      reusable = keep && !this.destroyed && !this.lostError;
      return out;
    } finally {
      if (reusable) {
        this.stagingFree.push(staging);
        if (this.stagingFree.length > STAGING_KEPT) this.stagingFree.shift()!.destroy();
      } else staging.destroy();
    }
  }

  /** Waits until the GPU has finished all submitted work; reports any GPU error. */
  async sync(): Promise<void> {
    if (this.lostError) throw this.lostError;
    this.flush();
    await this.untilLost(this.device.queue.onSubmittedWorkDone());
    this.nextBatch = this.firstBatch;
    this.throwErrors();
  }

  /** Releases the device. The backend cannot be used afterwards. */
  destroy(): void {
    if (this.destroyed) return;
    this.flush();
    this.activeProfiler = null;
    this.destroyed = true;
    this.pool.trim();
    for (const b of this.stagingFree.splice(0)) b.destroy();
    this.arena.destroy();
    this.device.destroy();
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /** Whether the device was lost (every call throws {@link DeviceLostError}; `init()` makes a new backend). */
  get isLost(): boolean {
    return this.lostError !== null;
  }

  /** The device is gone: fail what waits, forget the pool's buffers, refuse everything after. */
  private markLost(e: DeviceLostError): void {
    if (this.lostError) return;
    this.lostError = e;
    this.activeProfiler = null;
    this.pass = this.encoder = null;
    this.pool.markLost(e);
    for (const reject of this.waiting) reject(e);
    this.waiting.clear();
  }

  /** `p`, or a rejection with the {@link DeviceLostError} as soon as the device is lost. */
  private untilLost<T>(p: Promise<T>): Promise<T> {
    if (this.lostError) return Promise.reject(this.lostError);
    // A set entry per call, removed when it settles (a reaction on `device.lost` per readback would pile up).
    return this.wait(
      new Promise<T>((resolve, reject) => {
        this.waiting.add(reject);
        void p.then(resolve, reject).finally(() => this.waiting.delete(reject));
      }),
    );
  }

  /** The loss error if the device is (or within `ms` turns out to be) lost, else null. */
  private async lostWithin(ms: number): Promise<DeviceLostError | null> {
    if (!this.lostError) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.lostHandled, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
      clearTimeout(timer);
    }
    return this.lostError;
  }

  private throwErrors(): void {
    if (this.lostError) {
      this.errors.length = 0;
      throw this.lostError;
    }
    if (this.errors.length) {
      const msg = this.errors.splice(0).join('\n');
      throw new Error(`WebGPU error: ${msg}`);
    }
  }

  private assertAlive(): void {
    if (this.lostError) throw this.lostError;
    if (this.destroyed) throw new Error('the WebGPU backend was destroyed (call init() again)');
  }

  private commandEncoder(): GPUCommandEncoder {
    return (this.encoder ??= this.device.createCommandEncoder());
  }

  private computePass(): GPUComputePassEncoder {
    return (this.pass ??= this.commandEncoder().beginComputePass());
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  /** Encodes a copy (not counted by the profiler: `read` counts its own as a readback). */
  private encodeCopy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  private bindGroupLayout(nIn: number, nOut: number, uniform: boolean): GPUBindGroupLayout {
    const key = `${nIn}/${nOut}/${uniform}`;
    let layout = this.layouts.get(key);
    if (!layout) {
      const entries: GPUBindGroupLayoutEntry[] = [];
      let b = 0;
      const COMPUTE = 0x4; // GPUShaderStage.COMPUTE
      for (let i = 0; i < nIn; i++) entries.push({ binding: b++, visibility: COMPUTE, buffer: { type: 'read-only-storage' } });
      for (let i = 0; i < nOut; i++) entries.push({ binding: b++, visibility: COMPUTE, buffer: { type: 'storage' } });
      if (uniform) entries.push({ binding: b++, visibility: COMPUTE, buffer: { type: 'uniform' } });
      layout = this.device.createBindGroupLayout({ entries });
      this.layouts.set(key, layout);
    }
    return layout;
  }

  /**
   * The pipeline of a kernel. The generator runs once per key: regenerating the WGSL on every
   * dispatch measured ~0.2 ms of host CPU per dispatch (a mix of conv, attention, matmul, norm and
   * elementwise ops on a 2-core machine), some 40% of the time spent recording them, while looking
   * up the generated string cost ~0.01 ms. Pipelines are cached by the generated source itself, so
   * two keys that yield the same WGSL share one pipeline. With {@link checkKernelKeys} on, every
   * dispatch regenerates the source and throws if its key was seen with a different one (key →
   * source must be a function).
   */
  private pipeline(kernel: Kernel, nIn: number, nOut: number, uniform: boolean): PipelineEntry {
    const layoutKey = `${nIn}/${nOut}/${uniform}`;
    const cacheKey = `${kernel.key}|${layoutKey}`;
    let entry = this.byKey.get(cacheKey);
    if (entry) {
      if (this.checkKernelKeys) {
        const code = kernel.wgsl();
        if (code !== entry.code) throw new Error(kernelKeyClash(kernel.key, entry.code, code));
      }
      return entry;
    }
    const code = kernel.wgsl();
    const sourceKey = `${layoutKey}|${code}`;
    entry = this.bySource.get(sourceKey);
    if (!entry) {
      entry = this.compile(kernel.key, code, this.bindGroupLayout(nIn, nOut, uniform));
      this.bySource.set(sourceKey, entry);
    }
    this.byKey.set(cacheKey, entry);
    return entry;
  }

  private compile(label: string, code: string, layout: GPUBindGroupLayout): PipelineEntry {
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code, label });
    const pipeline = this.device.createComputePipeline({
      label,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
    void this.device.popErrorScope().then((err) => {
      if (err) {
        const numbered = code
          .split('\n')
          .map((l, i) => `${String(i + 1).padStart(4)}: ${l}`)
          .join('\n');
        this.errors.push(`kernel ${label} failed to compile: ${err.message}\n${numbered}`);
      }
    });
    return { pipeline, layout, code };
  }
}
