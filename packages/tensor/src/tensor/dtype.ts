/** Element types. Compute is f32; f16 is a storage type (weights), i32 holds indices. */
export type DType = 'f32' | 'f16' | 'i32';

/** Bytes per element of a dtype. */
export function bytesPerElement(dtype: DType): number {
  return dtype === 'f16' ? 2 : 4;
}

/** Typed array returned by a readback of that dtype (f16 is widened to f32). */
export type TypedArrayFor<D extends DType> = D extends 'i32' ? Int32Array : Float32Array;
