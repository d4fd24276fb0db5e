/**
 * Uniform parameters of a kernel: one builder yields both the WGSL struct and its bytes, so the
 * two cannot drift apart. Scalars come first, then fixed-capacity u32/i32 arrays stored as
 * `array<vec4<u32>, N>` (uniform arrays need a 16-byte stride); each array gets an accessor
 * function `<name>_at(i)`.
 */

type Scalar = { name: string; type: 'u32' | 'i32' | 'f32'; value: number };
type Arr = { name: string; type: 'u32' | 'i32'; values: readonly number[]; capacity: number };

/**
 * A kernel's uniform parameters, built by chained calls (`new Params().u32('n', n).f32('a', a)`):
 * {@link Params.wgsl} declares the struct and {@link Params.bytes} fills it, in the same order.
 */
export class Params {
  private scalars: Scalar[] = [];
  private arrays: Arr[] = [];

  /** Adds a u32 scalar field; returns this builder. */
  u32(name: string, value: number): this {
    this.scalars.push({ name, type: 'u32', value });
    return this;
  }
  /** Adds an i32 scalar field; returns this builder. */
  i32(name: string, value: number): this {
    this.scalars.push({ name, type: 'i32', value });
    return this;
  }
  /** Adds an f32 scalar field; returns this builder. */
  f32(name: string, value: number): this {
    this.scalars.push({ name, type: 'f32', value });
    return this;
  }
  /** An array of up to `capacity` values (capacity must be part of the kernel key). */
  u32s(name: string, values: readonly number[], capacity = Math.max(4, Math.ceil(values.length / 4) * 4)): this {
    return this.array(name, 'u32', values, capacity);
  }
  /** An i32 array of up to `capacity` values (capacity must be part of the kernel key). */
  i32s(name: string, values: readonly number[], capacity = Math.max(4, Math.ceil(values.length / 4) * 4)): this {
    return this.array(name, 'i32', values, capacity);
  }

  private array(name: string, type: 'u32' | 'i32', values: readonly number[], capacity: number): this {
    if (values.length > capacity) throw new RangeError(`Params.${name}: ${values.length} values exceed capacity ${capacity}`);
    this.arrays.push({ name, type, values, capacity: Math.max(4, Math.ceil(capacity / 4) * 4) });
    return this;
  }

  /** WGSL: the struct, the `params` uniform binding at `binding`, and array accessors. */
  wgsl(binding: number): string {
    const fields: string[] = this.scalars.map((s) => `  ${s.name}: ${s.type},`);
    const pad = (4 - (this.scalars.length % 4)) % 4;
    if (this.arrays.length) for (let i = 0; i < pad; i++) fields.push(`  _pad${i}: u32,`);
    for (const a of this.arrays) fields.push(`  ${a.name}: array<vec4<${a.type}>, ${a.capacity / 4}>,`);
    if (fields.length === 0) fields.push('  _unused: u32,');
    const accessors = this.arrays
      .map((a) => `fn ${a.name}_at(i: u32) -> ${a.type} { return params.${a.name}[i / 4u][i % 4u]; }`)
      .join('\n');
    return `struct Params {\n${fields.join('\n')}\n};\n@group(0) @binding(${binding}) var<uniform> params: Params;\n${accessors}\n`;
  }

  /** The struct's bytes, laid out as {@link wgsl} declares it. */
  bytes(): ArrayBuffer {
    const nScalarWords = this.arrays.length ? Math.ceil(this.scalars.length / 4) * 4 : Math.max(1, this.scalars.length);
    const nWords = nScalarWords + this.arrays.reduce((n, a) => n + a.capacity, 0);
    const buf = new ArrayBuffer(Math.ceil(nWords / 4) * 16);
    const u = new Uint32Array(buf);
    const i = new Int32Array(buf);
    const f = new Float32Array(buf);
    this.scalars.forEach((s, k) => {
      if (s.type === 'f32') f[k] = s.value;
      else if (s.type === 'i32') i[k] = s.value;
      else u[k] = s.value;
    });
    let off = nScalarWords;
    for (const a of this.arrays) {
      a.values.forEach((v, k) => (a.type === 'i32' ? (i[off + k] = v) : (u[off + k] = v)));
      off += a.capacity;
    }
    return buf;
  }
}
