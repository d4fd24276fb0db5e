/**
 * The optimizer base class: parameter bookkeeping, per-parameter state kept on the GPU, zeroing
 * gradients, state dicts for checkpoints, and disposal. Subclasses implement one fused update per
 * parameter (see `fused-update.ts`), which step() also applies to packs of small parameters
 * (see `multi-tensor.ts`); no step reads anything back to the CPU.
 *
 * State-dict layout (PyTorch's names, flattened so that it maps onto a safetensors file):
 * tensors `state.<i>.<name>` (e.g. `state.0.exp_avg`), numbers `state.<i>.step` and the
 * hyperparameters (`lr`, `weight_decay`, …). `i` is the parameter's index in the list given to the
 * constructor.
 */
import { Tensor, assertTensor } from '../tensor/tensor.js';
import { fmtShape, shapeEq } from '../tensor/shape.js';
import type { Backend } from '../backend/backend.js';
import { getBackend } from '../runtime.js';
import { keep } from '../scope.js';
import { noGrad } from '../autograd/grad-mode.js';
import { runFusedUpdate, type FusedUpdate } from './fused-update.js';
import { packTensors, packable, unpackTensors } from './multi-tensor.js';

/** A flattened optimizer state: GPU tensors and plain numbers. */
export interface OptimizerStateDict {
  /** State tensors by name (`state.<i>.<name>`). */
  tensors: Record<string, Tensor>;
  /** Step counts (`state.<i>.step`) and hyperparameters. */
  scalars: Record<string, number>;
}

/**
 * What {@link Optimizer.loadStateDict} accepts: tensors or host arrays (e.g. from
 * `SafetensorsFile.readF32`), and numbers or numeric strings (e.g. a safetensors `__metadata__`).
 */
export interface OptimizerStateInput {
  tensors: Record<string, Tensor | ArrayLike<number>>;
  scalars: Record<string, number | string>;
}

/** Per-parameter state: named GPU buffers of the parameter's shape and a step count. */
export interface ParamState {
  step: number;
  buffers: Map<string, Tensor>;
}

/** Checks that a hyperparameter is a finite number in [min, max) (or [min, max] when `closed`). */
export function checkHyper(opt: string, name: string, v: number, min = 0, max = Infinity, closed = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (closed ? v > max : v >= max)) {
    const range = max === Infinity ? `≥ ${min}` : `in [${min}, ${max}${closed ? ']' : ')'}`;
    throw new RangeError(`${opt}: invalid ${name} ${v} (expected a finite number ${range})`);
  }
  return v;
}

/**
 * The base class of {@link SGD}, {@link Adam} and {@link AdamW}: the parameters, their state on the GPU
 * (freed by `dispose()`), `step()`, `zeroGrad()` and state dicts for checkpoints.
 */
export abstract class Optimizer {
  /** The parameters, in the order their state is indexed. */
  readonly params: readonly Tensor[];
  protected readonly state: (ParamState | undefined)[];
  protected readonly backend: Backend;
  private disposed = false;
  private learningRate: number;

  constructor(
    /** Name used in error messages (`Adam`, `SGD`, …). */
    readonly name: string,
    params: readonly Tensor[],
    lr: number,
  ) {
    if (!Array.isArray(params) || params.length === 0) throw new TypeError(`${name}: got an empty parameter list`);
    const storages = new Map<unknown, number>();
    params.forEach((p, i) => {
      assertTensor(p, name, `params[${i}]`);
      if (p.dtype !== 'f32') throw new TypeError(`${name}: params[${i}] (${p.describe()}) must be f32 to be optimized`);
      // Two entries over one storage would be updated twice per step.
      const prev = storages.get(p.store);
      if (prev !== undefined) throw new Error(`${name}: params[${i}] and params[${prev}] share storage (a parameter is listed twice)`);
      storages.set(p.store, i);
    });
    this.params = [...params];
    this.state = new Array(params.length).fill(undefined);
    this.backend = getBackend();
    this.learningRate = checkHyper(name, 'lr', lr);
  }

  /** The learning rate; set it between steps for schedules. */
  get lr(): number {
    return this.learningRate;
  }
  set lr(v: number) {
    this.learningRate = checkHyper(this.name, 'lr', v);
  }

  /** Names of the state buffers a parameter gets (in the order the kernel binds them). */
  protected abstract bufferNames(): readonly string[];
  /** Whether the step count is part of the state (Adam) or not (SGD). */
  protected abstract readonly countsSteps: boolean;
  /** Hyperparameters other than `lr` as PyTorch names them (numbers; booleans as 0/1). */
  protected abstract hyperparameters(): Record<string, number>;
  /** Sets one hyperparameter from a state dict (throws on an unknown name). */
  protected abstract setHyperparameter(name: string, value: number): void;
  /**
   * Records the fused update of parameter `i` (state already created). `fresh` is true on the
   * parameter's first step, when state buffers hold no data yet unless `zeroInit()` is true.
   * `i` is -1 when `p`, `g` and the state are flat packs of several parameters (elementwise
   * updates need not know where one parameter ends).
   */
  protected abstract update(i: number, p: Tensor, g: Tensor, st: ParamState, fresh: boolean): void;
  /** Whether new state buffers must be zero-filled before the first update. */
  protected abstract zeroInit(): boolean;
  /** Checks combinations of hyperparameters (after a state dict set several at once). */
  protected checkHyperparameters(): void {}

  /**
   * Runs an optimizer's vectorizable fused kernel `key` on one parameter (or pack): it reads the
   * gradient as `G` and updates `P` and the state buffers in place, each bound under the WGSL
   * name that `stateBindings` maps to its state name (in binding order).
   */
  protected runStep(
    key: string,
    p: Tensor,
    g: Tensor,
    st: ParamState,
    stateBindings: Record<string, string>,
    scalars: FusedUpdate['scalars'],
    body: string,
  ): void {
    const state = Object.entries(stateBindings).map(([wgsl, name]): [string, Tensor] => [wgsl, st.buffers.get(name)!]);
    runFusedUpdate(this.backend, { key, inputs: [['G', g]], outputs: [['P', p], ...state], scalars, body, vectorizable: true });
  }

  /**
   * Applies one update to every parameter whose `.grad` is set (others are skipped, as in
   * PyTorch). Every gradient is checked before any parameter changes.
   */
  step(): void {
    this.assertAlive('step');
    const work: [number, Tensor, Tensor][] = [];
    this.params.forEach((p, i) => {
      const g = p.grad;
      if (!g) return;
      if (p.isDisposed) throw new Error(`${this.name}.step: params[${i}] (${p.describe()}) was disposed`);
      if (g.isDisposed) throw new Error(`${this.name}.step: the grad of params[${i}] was disposed`);
      if (!shapeEq(g.shape, p.shape) || g.dtype !== 'f32') {
        throw new RangeError(`${this.name}.step: params[${i}] ${p.describe()} has a grad ${g.describe()} (expected f32 ${fmtShape(p.shape)})`);
      }
      // A binding cannot be both read-only and read_write in one dispatch.
      if (g.store === p.store) throw new Error(`${this.name}.step: params[${i}] and its grad share storage`);
      work.push([i, p, g]);
    });
    noGrad(() => {
      // Small parameters are updated in packed groups (see multi-tensor.ts); a group shares the
      // step count and freshness, the only per-parameter inputs of an update besides the data.
      const groups = new Map<string, { step: number; fresh: boolean; items: [number, Tensor, Tensor, ParamState][] }>();
      for (const [i, p, g] of work) {
        let st = this.state[i];
        const fresh = !st;
        if (!st) st = this.state[i] = this.newState(p);
        st.step++;
        if (!packable(p.size)) {
          this.update(i, p, g, st, fresh);
          continue;
        }
        const key = `${st.step}/${fresh}`;
        let grp = groups.get(key);
        if (!grp) groups.set(key, (grp = { step: st.step, fresh, items: [] }));
        grp.items.push([i, p, g, st]);
      }
      for (const grp of groups.values()) this.updatePacked(grp.step, grp.fresh, grp.items);
    });
  }

  /** One update over a group of parameters copied into flat buffers, then copied back. */
  private updatePacked(step: number, fresh: boolean, items: [number, Tensor, Tensor, ParamState][]): void {
    if (items.length === 1) return this.update(...items[0], fresh);
    const backend = this.backend;
    const ps = items.map(([, p]) => p);
    const names = this.bufferNames();
    const states = names.map((name) => items.map(([, , , st]) => st.buffers.get(name)!));
    const flats: Tensor[] = [];
    try {
      const flatP = packTensors(backend, ps);
      flats.push(flatP);
      const flatG = packTensors(backend, items.map(([, , g]) => g));
      flats.push(flatG);
      const buffers = new Map<string, Tensor>();
      names.forEach((name, k) => {
        const t = packTensors(backend, states[k]);
        flats.push(t);
        buffers.set(name, t);
      });
      this.update(-1, flatP, flatG, { step, buffers }, fresh);
      unpackTensors(backend, flatP, ps);
      names.forEach((name, k) => unpackTensors(backend, buffers.get(name)!, states[k]));
    } finally {
      for (const t of flats) t.dispose();
    }
  }

  /** Frees every parameter's gradient (PyTorch's `zero_grad(set_to_none=True)`). */
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /**
   * The state: views of the live GPU buffers (they share storage, so they follow later steps;
   * save them before stepping again) and numbers. The caller owns the views and disposes them.
   */
  stateDict(): OptimizerStateDict {
    this.assertAlive('stateDict');
    const tensors: Record<string, Tensor> = {};
    const scalars: Record<string, number> = { lr: this.lr, ...this.hyperparameters() };
    this.state.forEach((st, i) => {
      if (!st) return;
      if (this.countsSteps) scalars[`state.${i}.step`] = st.step;
      for (const [name, t] of st.buffers) tensors[`state.${i}.${name}`] = t.view(t.shape);
    });
    return { tensors, scalars };
  }

  /**
   * Replaces the state with a saved one (from {@link stateDict}, possibly through a safetensors
   * file). Values are copied; the caller keeps ownership of what it passed. Parameters with no
   * entry start fresh. Throws, naming the key, on an unknown key, a wrong shape or a missing part.
   */
  loadStateDict(sd: OptimizerStateInput): void {
    this.assertAlive('loadStateDict');
    const what = `${this.name}.loadStateDict`;
    const names = new Set(this.bufferNames());
    const perParam = new Map<number, { step?: number; buffers: Map<string, Tensor | ArrayLike<number>> }>();
    const slot = (key: string): { i: number; field: string } | null => {
      const m = /^state\.(\d+)\.(.+)$/.exec(key);
      if (!m) return null;
      const i = Number(m[1]);
      if (i >= this.params.length) throw new RangeError(`${what}: '${key}' refers to parameter ${i}, but there are ${this.params.length}`);
      if (!perParam.has(i)) perParam.set(i, { buffers: new Map() });
      return { i, field: m[2] };
    };
    const hyper: [string, number][] = [];
    for (const [key, raw] of Object.entries(sd.scalars)) {
      const v = typeof raw === 'string' ? (raw.trim() === '' ? NaN : Number(raw)) : raw;
      if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`${what}: scalar '${key}' is not a number (${String(raw)})`);
      const s = slot(key);
      if (s) {
        if (s.field !== 'step' || !this.countsSteps) throw new Error(`${what}: unknown key '${key}'`);
        if (!Number.isInteger(v) || v < 1) throw new RangeError(`${what}: '${key}' must be a positive integer, got ${v}`);
        perParam.get(s.i)!.step = v;
      } else hyper.push([key, v]);
    }
    for (const [key, t] of Object.entries(sd.tensors)) {
      const s = slot(key);
      if (!s || !names.has(s.field)) throw new Error(`${what}: unknown key '${key}' (expected state.<i>.{${[...names].join(', ')}})`);
      const p = this.params[s.i];
      if (t instanceof Tensor) {
        assertTensor(t, what, key);
        if (!shapeEq(t.shape, p.shape) || t.dtype !== 'f32') {
          throw new RangeError(`${what}: '${key}' is ${t.describe()}, but params[${s.i}] is ${p.describe()}`);
        }
      } else if (t.length !== p.size) {
        throw new RangeError(`${what}: '${key}' has ${t.length} values, but params[${s.i}] ${p.describe()} has ${p.size}`);
      }
      perParam.get(s.i)!.buffers.set(s.field, t);
    }
    for (const [i, e] of perParam) {
      const missing = [...names].filter((n) => !e.buffers.has(n));
      if (missing.length) throw new Error(`${what}: state of parameter ${i} lacks ${missing.map((n) => `'state.${i}.${n}'`).join(', ')}`);
      if (this.countsSteps && e.step === undefined) throw new Error(`${what}: state of parameter ${i} lacks 'state.${i}.step'`);
    }
    // Everything is validated: now apply (hyperparameters first, they validate their values).
    const before = { lr: this.lr, ...this.hyperparameters() };
    try {
      for (const [k, v] of hyper) {
        if (k === 'lr') this.lr = v;
        else this.setHyperparameter(k, v);
      }
      this.checkHyperparameters();
    } catch (e) {
      for (const [k, v] of Object.entries(before)) (k === 'lr' ? (this.learningRate = v) : this.setHyperparameter(k, v));
      throw e;
    }
    this.clearState();
    for (const [i, e] of perParam) {
      const st = this.newState(this.params[i], false);
      st.step = e.step ?? 0;
      for (const [name, src] of e.buffers) {
        const dst = st.buffers.get(name)!;
        if (src instanceof Tensor) this.backend.copy(src.store.buffer, 0, dst.store.buffer, 0, dst.size * 4);
        else this.backend.write(dst.store.buffer, 0, src instanceof Float32Array ? src : Float32Array.from(src));
      }
      this.state[i] = st;
    }
  }

  /** Frees the state buffers; the optimizer cannot be used afterwards. Parameters are not touched. */
  dispose(): void {
    if (this.disposed) return;
    this.clearState();
    this.disposed = true;
  }

  /** Calls {@link Optimizer.dispose}, so `using opt = …` frees the state at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** The state of parameter `i` (for tests and tools); undefined before its first step. */
  stateOf(i: number): Readonly<ParamState> | undefined {
    return this.state[i];
  }

  private clearState(): void {
    for (const st of this.state) if (st) for (const t of st.buffers.values()) t.dispose();
    this.state.fill(undefined);
  }

  private newState(p: Tensor, init = this.zeroInit()): ParamState {
    const buffers = new Map<string, Tensor>();
    for (const name of this.bufferNames()) {
      // keep(): state outlives any tidy scope the step happens to run in.
      const t = keep(Tensor.empty(p.shape));
      // Zero-filled in binding-sized chunks, like the updates, so no parameter is too big.
      if (init) runFusedUpdate(this.backend, { key: 'zero', inputs: [], outputs: [['Z', t]], scalars: [], body: '  Z[i] = 0.0;' });
      buffers.set(name, t);
    }
    return { step: 0, buffers };
  }

  private assertAlive(op: string): void {
    if (this.disposed) throw new Error(`${this.name}.${op}: the optimizer was disposed`);
  }
}
