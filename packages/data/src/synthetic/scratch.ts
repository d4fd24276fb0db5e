/**
 * Reusable typed arrays for the generator. Allocating (and zero-filling) tens of megabytes per
 * frame costs far more than drawing it on a loaded machine, so large buffers are kept by name
 * and grown only when a bigger frame needs them.
 */
export class Scratch {
  private readonly buffers = new Map<string, Float32Array | Uint8Array | Int8Array | Int32Array>();

  /** A Float32Array of length n (contents undefined). */
  f32(name: string, n: number): Float32Array {
    return this.get(name, n, Float32Array) as Float32Array;
  }

  /** A Uint8Array of length n (contents undefined). */
  u8(name: string, n: number): Uint8Array {
    return this.get(name, n, Uint8Array) as Uint8Array;
  }

  /** An Int8Array of length n (contents undefined). */
  i8(name: string, n: number): Int8Array {
    return this.get(name, n, Int8Array) as Int8Array;
  }

  /** An Int32Array of length n (contents undefined). */
  i32(name: string, n: number): Int32Array {
    return this.get(name, n, Int32Array) as Int32Array;
  }

  private get(name: string, n: number, ctor: Float32ArrayConstructor | Uint8ArrayConstructor | Int8ArrayConstructor | Int32ArrayConstructor) {
    let b = this.buffers.get(name);
    if (!b || b.length < n || b.constructor !== ctor) {
      b = new ctor(Math.max(n, Math.ceil((b?.length ?? 0) * 1.25)));
      this.buffers.set(name, b);
    }
    return b.subarray(0, n);
  }
}
