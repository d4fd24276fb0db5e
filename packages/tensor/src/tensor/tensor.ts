/**
 * Tensor: a shape, a dtype and a reference to GPU storage. Storage is always contiguous and
 * row-major; reshape shares it (reference counted), every other view op copies.
 */
import type { Backend, BufferRange } from '../backend/backend.js';
import type { GradNode } from '../autograd/grad-node.js';
import { getBackend } from '../runtime.js';
import { trackTensor } from '../scope.js';
import { bytesPerElement, type DType } from './dtype.js';
import { assertShape, fmtShape, sizeOf, type Shape } from './shape.js';
import { f16BitsToF32 } from './half.js';

/** A reference-counted GPU buffer shared by tensors that view the same data. */
export class Storage {
  private refs = 1;
  constructor(
    readonly backend: Backend,
    readonly buffer: GPUBuffer,
    /** Logical size in bytes. */
    readonly bytes: number,
  ) {}
  /** Adds a reference (a new view of the data); returns this storage. */
  retain(): this {
    this.refs++;
    return this;
  }
  /** Drops a reference; the last one gives the buffer back to the pool. */
  release(): void {
    if (--this.refs === 0) this.backend.pool.release(this.buffer);
  }
}

let nextId = 1;

/**
 * An n-dimensional array on the GPU: a shape, a dtype and contiguous row-major storage. Make one
 * with `tensor(data, shape)` (or `zeros`, `ones`, `full`, …) after `init()` / `initNode()`; ops return
 * new tensors and record gradients for leaves made with `requiresGrad`. GPU memory is not
 * garbage-collected: call `dispose()` (or `using`), or create tensors inside `tidy(fn)`, which
 * frees all but the ones it returns. Read values back with `await data()` (Float32Array),
 * `intData()`, `item()` or `toArray()`.
 */
export class Tensor {
  /** Lets scope helpers recognise tensors without importing the class. */
  readonly isTensor = true;
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly size: number;
  /** Whether gradients flow to (leaf) or through (op output) this tensor. */
  requiresGrad = false;
  /** Accumulated gradient of a leaf tensor after `backward`. */
  grad: Tensor | null = null;
  /** The op that produced this tensor, when recorded for autodiff. @internal */
  node: GradNode | null = null;
  /** Optional name used in error messages. */
  name?: string;
  private storage: Storage | null;

  /** @internal Use the creation functions (`tensor`, `zeros`, …) instead. */
  constructor(shape: Shape, readonly dtype: DType, storage: Storage, track = true) {
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    this.storage = storage;
    if (track) trackTensor(this);
  }

  /** @internal A new tensor of this shape with fresh (uninitialised) storage. */
  static empty(shape: Shape, dtype: DType = 'f32'): Tensor {
    assertShape(shape, 'tensor');
    const backend = getBackend();
    const bytes = sizeOf(shape) * bytesPerElement(dtype);
    return new Tensor(shape, dtype, new Storage(backend, backend.pool.acquire(bytes), bytes));
  }

  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.storage === null;
  }

  /** "tensor 'name' [2, 3] f32" — used in error messages. */
  describe(): string {
    return `tensor${this.name ? ` '${this.name}'` : ` #${this.id}`} ${fmtShape(this.shape)} ${this.dtype}`;
  }

  /** Same as {@link Tensor.describe}: the name (or id), shape and dtype, not the values. */
  toString(): string {
    return this.describe();
  }

  /** @internal The live storage; throws if disposed. */
  get store(): Storage {
    if (!this.storage) throw new Error(`${this.describe()} was used after dispose()`);
    return this.storage;
  }

  /** @internal The binding of this tensor's data. */
  get range(): BufferRange {
    const s = this.store;
    return { buffer: s.buffer, size: Math.ceil(s.bytes / 4) * 4 };
  }

  /** @internal A new tensor object of another shape over the same storage (same element count). */
  view(shape: Shape, track = true): Tensor {
    const t = new Tensor(shape, this.dtype, this.store.retain(), track);
    return t;
  }

  /** Frees the GPU storage (when no other view holds it). Idempotent. */
  dispose(): void {
    if (!this.storage) return;
    this.storage.release();
    this.storage = null;
    if (this.node) {
      this.node.unref();
      this.node = null;
    }
    if (this.grad) {
      this.grad.dispose();
      this.grad = null;
    }
  }

  /** Calls {@link Tensor.dispose}, so `using t = …` frees the tensor at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Reads the data back as f32 (f16 widened, i32 converted). */
  async data(): Promise<Float32Array> {
    const s = this.store;
    const raw = await s.backend.read(s.buffer, 0, s.bytes);
    if (this.dtype === 'i32') return Float32Array.from(new Int32Array(raw));
    if (this.dtype === 'f16') {
      const h = new Uint16Array(raw);
      const out = new Float32Array(h.length);
      for (let i = 0; i < h.length; i++) out[i] = f16BitsToF32(h[i]);
      return out;
    }
    return new Float32Array(raw);
  }

  /** Reads an i32 tensor back. */
  async intData(): Promise<Int32Array> {
    assertDType(this, ['i32'], 'intData', 'this');
    const s = this.store;
    return new Int32Array(await s.backend.read(s.buffer, 0, s.bytes));
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new RangeError(`item(): ${this.describe()} has ${this.size} elements, expected 1`);
    return (await this.data())[0];
  }

  /** Data as nested arrays (for debugging and small tensors). */
  async toArray(): Promise<unknown> {
    const d = Array.from(await this.data());
    const build = (dim: number, off: number): unknown => {
      if (dim === this.rank) return d[off];
      const stride = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, off + i * stride));
    };
    return build(0, 0);
  }
}

/** Throws unless `t` is a live tensor; names the op and argument. */
export function assertTensor(t: unknown, op: string, arg: string): asserts t is Tensor {
  if (!t || (t as Tensor).isTensor !== true) throw new TypeError(`${op}: argument '${arg}' is not a Tensor`);
  if ((t as Tensor).isDisposed) throw new Error(`${op}: argument '${arg}' (${(t as Tensor).describe()}) was used after dispose()`);
}

/** Throws unless the tensor has the given dtype. */
export function assertDType(t: Tensor, dtypes: DType[], op: string, arg: string): void {
  if (!dtypes.includes(t.dtype)) {
    throw new TypeError(`${op}: argument '${arg}' (${t.describe()}) must have dtype ${dtypes.join(' or ')}`);
  }
}
