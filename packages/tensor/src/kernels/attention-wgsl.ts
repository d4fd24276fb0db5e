/**
 * WGSL building blocks shared by the fused attention kernels: row loads/stores as vec4 (head
 * dims that are not a multiple of 4 are zero-padded in registers), balanced dot-product sums and
 * the tile-size choice.
 *
 * Rows of a head dim `d` are stored as `ceil(d/4)` vec4 registers. When `d % 4 == 0` the buffer is
 * bound as `array<vec4<f32>>` and a register is one load; otherwise it is gathered from scalars,
 * with the padding lanes set to 0 (so that 0·garbage can never make a NaN).
 */

/** Number of vec4 registers of a row of `d` floats. */
export const vec4s = (d: number) => Math.ceil(d / 4);

/** Whether a buffer of rows of `d` floats is bound as vec4. */
export const isVec = (d: number) => d % 4 === 0;

/** The WGSL element type of a buffer of rows of `d` floats. */
export const rowType = (d: number) => (isVec(d) ? 'vec4<f32>' : 'f32');

/** `fn ld_<name>(e, c) -> vec4<f32>`: register `c` of the row starting at element `e`. */
export function loadFn(name: string, d: number): string {
  if (isVec(d)) return `fn ld_${name}(e: u32, c: u32) -> vec4<f32> { return ${name}[(e >> 2u) + c]; }`;
  return `fn ld_${name}(e: u32, c: u32) -> vec4<f32> {
  let i = e + c * 4u;
  let n = ${d}u - c * 4u;
  return vec4<f32>(${name}[i], select(0.0, ${name}[i + 1u], n > 1u), select(0.0, ${name}[i + 2u], n > 2u), select(0.0, ${name}[i + 3u], n > 3u));
}`;
}

/** `fn st_<name>(e, c, v)`: stores register `c` of the row starting at element `e` (no padding). */
export function storeFn(name: string, d: number): string {
  if (isVec(d)) return `fn st_${name}(e: u32, c: u32, v: vec4<f32>) { ${name}[(e >> 2u) + c] = v; }`;
  return `fn st_${name}(e: u32, c: u32, v: vec4<f32>) {
  let i = e + c * 4u;
  let n = ${d}u - c * 4u;
  ${name}[i] = v.x;
  if (n > 1u) { ${name}[i + 1u] = v.y; }
  if (n > 2u) { ${name}[i + 2u] = v.z; }
  if (n > 3u) { ${name}[i + 3u] = v.w; }
}`;
}

/** A balanced sum of WGSL terms (shorter dependency chains and smaller rounding error). */
export function treeSum(terms: string[]): string {
  if (terms.length === 0) return '0.0';
  if (terms.length === 1) return terms[0];
  const h = Math.ceil(terms.length / 2);
  return `(${treeSum(terms.slice(0, h))} + ${treeSum(terms.slice(h))})`;
}

/**
 * Register code over the vec4 registers of a row: unrolled (registers become separate values,
 * fastest for small head dims) or as loops whose bound is a uniform (so the shader compiler
 * cannot unroll them: fully unrolled code for large head dims takes LLVM-based drivers such as
 * lavapipe minutes to compile). Kernels are written with arrays `name[c]`; {@link finish} turns
 * the unrolled ones into separate variables `name_c` (drivers compile constant-indexed arrays
 * much more slowly than plain values).
 */
export class Regs {
  private readonly names: string[] = [];
  constructor(readonly looped: boolean) {}

  /** Declares the register array `name` of `n` zeroed vec4s. */
  decl(name: string, n: number, indent = '  '): string {
    this.names.push(name);
    if (this.looped) return `${indent}var ${name}: array<vec4<f32>, ${n}>;`;
    return indent + Array.from({ length: n }, (_, k) => `var ${name}_${k}: vec4<f32>;`).join(' ');
  }

  /** The kernel's final source. */
  finish(code: string): string {
    if (this.looped || this.names.length === 0) return code;
    const re = new RegExp(`\\b(${this.names.join('|')})\\[(\\d+)u\\]`, 'g');
    return code.replace(re, '$1_$2');
  }

  /** Statements `body(c)` for every register c < n; `bound` is the uniform holding n. */
  each(n: number, bound: string, body: (c: string) => string, indent = '  '): string {
    if (!this.looped) return Array.from({ length: n }, (_, k) => indent + body(`${k}u`)).join('\n');
    return `${indent}for (var c = 0u; c < ${bound}; c++) { ${body('c')} }`;
  }

  /** Declares `name` = Σ_c dot(a(c), b(c)) over c < n. */
  dot(name: string, n: number, bound: string, a: (c: string) => string, b: (c: string) => string, indent = '  '): string {
    if (!this.looped) return `${indent}let ${name} = ${treeSum(Array.from({ length: n }, (_, k) => `dot(${a(`${k}u`)}, ${b(`${k}u`)})`))};`;
    return `${indent}var ${name} = 0.0;\n${indent}for (var c = 0u; c < ${bound}; c++) { ${name} += dot(${a('c')}, ${b('c')}); }`;
  }
}

/** 0..n-1 mapped and joined by newlines (for unrolled register code). */
export function each(n: number, f: (i: number) => string): string {
  return Array.from({ length: n }, (_, i) => f(i)).join('\n');
}

/**
 * Rows per tile so that the tile's workgroup arrays fit in `bytes`: `perRowVec4s` vec4s and
 * `perRowScalars` f32s per row. A power of two in [1, cap].
 */
export function tileRows(bytes: number, perRowVec4s: number, perRowScalars: number, cap: number): number {
  const perRow = perRowVec4s * 16 + perRowScalars * 4;
  let rows = cap;
  while (rows > 1 && rows * perRow > bytes) rows >>= 1;
  return rows;
}
