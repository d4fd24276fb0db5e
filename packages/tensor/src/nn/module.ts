/**
 * Modules: a tree of named parameters, mirroring PyTorch's state-dict names (`weight`,
 * `layers.0.bias`, …) so checkpoints map onto a model by key. A parameter slot knows its expected
 * shape and holds its tensor once loaded or initialised; filling the slots (from a checkpoint, a
 * seeded initialisation, …) is up to the packages built on this one.
 */
import { cast } from '../ops/cast.js';
import type { Tensor } from '../tensor/tensor.js';

/** One parameter: its full shape and, once loaded or initialised, its tensor. */
export class ParamSlot {
  value: Tensor | null = null;
  /**
   * @param halfOk whether the owning layer widens an f16 value itself on use (via
   *   {@link ParamSlot.f32}); only such slots may be stored as f16 (e.g. when weights load with
   *   `dtype: 'f16'`), every other slot stays f32.
   */
  constructor(
    readonly shape: readonly number[],
    readonly halfOk = false,
  ) {}

  /** The loaded tensor (f16 for an f16-stored slot); throws naming the parameter if weights were never loaded. */
  get(name = 'parameter'): Tensor {
    if (!this.value) throw new Error(`${name} ${JSON.stringify(this.shape)} has no value: load weights first`);
    return this.value;
  }

  /**
   * The value as f32: the stored tensor itself, or for an f16-stored slot a widened copy that
   * the caller gives back with {@link ParamSlot.release} right after the op that reads it.
   */
  f32(): Tensor {
    const v = this.get();
    return v.dtype === 'f32' ? v : cast(v, 'f32');
  }

  /**
   * Frees a copy made by {@link ParamSlot.f32} (no-op for the stored tensor). Safe right after
   * the op is recorded: kernels are ordered on the queue and autograd keeps its own reference
   * to the tensors it saves.
   */
  release(t: Tensor): void {
    if (t !== this.value) t.dispose();
  }

  /** `fn` on the value as f32 ({@link ParamSlot.f32}), the copy released after it (even if it throws). */
  withF32<T>(fn: (w: Tensor) => T): T {
    const w = this.f32();
    try {
      return fn(w);
    } finally {
      this.release(w);
    }
  }
}

/**
 * A layer or model: named parameter slots and named child modules, registered in the
 * constructor; {@link Module.namedParams} lists them with PyTorch's dotted state-dict names.
 */
export abstract class Module {
  private readonly slots = new Map<string, ParamSlot>();
  private readonly children = new Map<string, Module>();

  /**
   * Registers a parameter under `name` (a state-dict key segment). `halfOk`: the module reads
   * it through {@link ParamSlot.f32}, so it may be stored as f16.
   */
  protected param(name: string, shape: readonly number[], halfOk = false): ParamSlot {
    const slot = new ParamSlot(shape, halfOk);
    this.slots.set(name, slot);
    return slot;
  }

  /** Registers a child module (its parameters get `name.` as prefix). */
  protected child<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** Registers children `name.0`, `name.1`, … (a PyTorch ModuleList). */
  protected list<M extends Module>(name: string, ms: M[]): M[] {
    ms.forEach((m, i) => this.children.set(`${name}.${i}`, m));
    return ms;
  }

  /** Every parameter with its full dotted name, in registration order. */
  namedParams(prefix = ''): [string, ParamSlot][] {
    const out: [string, ParamSlot][] = [];
    for (const [n, s] of this.slots) out.push([prefix + n, s]);
    for (const [n, c] of this.children) out.push(...c.namedParams(`${prefix}${n}.`));
    return out;
  }

  /** Number of parameter elements. */
  paramCount(): number {
    return this.namedParams().reduce((n, [, s]) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  }

  /** Frees every loaded parameter (and whatever subclasses hold, via their own dispose). */
  dispose(): void {
    for (const s of this.slots.values()) {
      s.value?.dispose();
      s.value = null;
    }
    for (const c of this.children.values()) c.dispose();
  }

  /** Calls {@link Module.dispose}, so `using m = …` frees the parameters at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
