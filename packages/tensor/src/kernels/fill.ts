/**
 * The fill kernel (run by ops/creation.ts): every 32-bit word of the output set to `params.bits`
 * (an f32 or i32 bit pattern), one thread per word over `params.n`. Pure generator.
 */
import type { Kernel } from '../backend/backend.js';
import { Params, bindings, linearMain } from './wgsl.js';

/** → out (u32 words). */
export function fillKernel(p: Params): Kernel {
  return { key: 'fill', wgsl: () => `${bindings([], ['out'], { out: 'u32' })}\n${p.wgsl(1)}\n${linearMain('  out[i] = params.bits;')}` };
}
