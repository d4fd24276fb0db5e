/**
 * The cast kernels (run by ops/cast.ts). f16 is stored two halves per u32 word.
 *
 * The f32→f16 rounding is done with integer bit arithmetic rather than `pack2x16float`, because
 * WGSL leaves that builtin's rounding direction and its result for values beyond the f16 range
 * implementation-defined; the kernel rounds to nearest even, overflows to ±Inf and keeps NaN,
 * bit-identical to the CPU's `f32ToF16Bits`. Widening decodes the bits likewise (subnormal halves
 * stay exact on adapters that flush denormals). f32/f16→i32 truncates toward zero (WGSL clamps
 * values beyond the i32 range). Pure generators: no tensors, no dispatch.
 */
import type { Kernel } from '../backend/backend.js';
import type { DType } from '../tensor/dtype.js';
import { Params, bindings, linearMain } from './wgsl.js';

/** WGSL: f32 bits → f16 bits (round to nearest even). */
const F16_PACK = /* wgsl */ `
fn f16_bits(x: u32) -> u32 {
  let sign = (x >> 16u) & 0x8000u;
  let e = i32((x >> 23u) & 0xffu);
  let m = x & 0x7fffffu;
  if (e == 255) { return sign | 0x7c00u | select(0u, 0x200u, m != 0u); }
  let he = e - 112;
  if (he >= 31) { return sign | 0x7c00u; }
  if (he <= 0) {
    if (he < -10) { return sign; }
    let mm = m | 0x800000u;
    let shift = u32(14 - he);
    var h = mm >> shift;
    let rem = mm & ((1u << shift) - 1u);
    let mid = 1u << (shift - 1u);
    if (rem > mid || (rem == mid && (h & 1u) == 1u)) { h += 1u; }
    return sign | h;
  }
  var h = (u32(he) << 10u) | (m >> 13u);
  let rem = m & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) == 1u)) { h += 1u; }
  return sign | h;
}`;

/** WGSL: f16 bits → f32 value. */
const F16_UNPACK = /* wgsl */ `
fn f16_value(h: u32) -> f32 {
  let sign = (h & 0x8000u) << 16u;
  let e = (h >> 10u) & 0x1fu;
  let m = h & 0x3ffu;
  if (e == 0u) {
    let v = f32(m) * 5.960464477539063e-8;
    return select(v, -v, sign != 0u);
  }
  if (e == 31u) { return bitcast<f32>(sign | 0x7f800000u | (m << 13u)); }
  return bitcast<f32>(sign | ((e + 112u) << 23u) | (m << 13u));
}`;

/** f32 or i32 → f16: one thread per output word (two halves); `params` holds n (words) and size (elements). */
export function castToF16Kernel(from: DType, p: Params): Kernel {
  const bits = (k: string) => (from === 'f32' ? `X[${k}]` : `bitcast<u32>(f32(X[${k}]))`);
  const body = `  let k = 2u * i;
  var hi = 0u;
  if (k + 1u < params.size) { hi = f16_bits(${bits('k + 1u')}); }
  Y[i] = f16_bits(${bits('k')}) | (hi << 16u);`;
  const types = { X: from === 'f32' ? 'u32' : 'i32', Y: 'u32' };
  return { key: `cast:${from}:f16`, wgsl: () => `${bindings(['X'], ['Y'], types)}\n${p.wgsl(2)}\n${F16_PACK}\n${linearMain(body)}` };
}

/** Any other cast, one thread per element (`params.n`). */
export function castKernel(from: DType, to: DType, p: Params): Kernel {
  let load: string;
  if (from === 'f16') load = 'f16_value((X[i >> 1u] >> ((i & 1u) * 16u)) & 0xffffu)';
  else if (from === 'i32') load = 'f32(X[i])';
  else load = 'X[i]';
  const store = to === 'i32' ? `i32(${load})` : load;
  const types = { X: from === 'f16' ? 'u32' : from, Y: to };
  return { key: `cast:${from}:${to}`, wgsl: () => `${bindings(['X'], ['Y'], types)}\n${p.wgsl(2)}\n${F16_UNPACK}\n${linearMain(`  Y[i] = ${store};`)}` };
}
