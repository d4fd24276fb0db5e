/**
 * The elementwise map kernels over up to four inputs (run by ops/broadcast-map.ts): `expr` is a
 * WGSL expression reading `a`, `b`, … for the inputs, `p0`, `p1`, … for the f32 scalar uniforms,
 * and the helpers of math.wgsl.ts. Broadcast inputs are read through their strides (uniform
 * arrays `shape`, `st0`, `st1`, … of rank `rank`); same-shape inputs are read directly, or by the
 * vectorised kernel of vec4.ts. Pure generators: no tensors, no dispatch.
 */
import type { Kernel } from '../backend/backend.js';
import { MATH_WGSL } from './math.wgsl.js';
import { Params, bindings, broadcastIndices, linearMain } from './wgsl.js';
import { vec4Main, vec4MapWgsl } from './vec4.js';

const NAMES = ['A', 'B', 'C', 'D'];

export interface MapConfig {
  /** Names the expression (the kernel key is made of it and the shape of the call). */
  name: string;
  expr: string;
  inputs: number;
  scalars: number;
  /** Whether every input has the output's shape (no index math); else the output's rank. */
  same: boolean;
  rank: number;
  /**
   * For the broadcast vec4 kernel: per input, whether it runs along the output's last dim (read
   * as vec4s) rather than being broadcast along it (one element, splat).
   */
  alongLast?: readonly boolean[];
  params: Params;
}

/** The broadcast kernels' per-input index variables and stride arrays. */
const indexNames = (inputs: number) => NAMES.slice(0, inputs).map((_, k) => `i${k}`);
const strideArrays = (inputs: number) => NAMES.slice(0, inputs).map((_, k) => `st${k}`);

const mapKey = (c: MapConfig) => `map:${c.name}:${c.same ? 'same' : `r${c.rank}`}:${c.inputs}:${c.scalars}`;
const scalarLets = (n: number) => Array.from({ length: n }, (_, k) => `let p${k} = params.p${k};`).join(' ');

/** One thread per output element; bindings A, B, … → OUT. */
export function mapKernel(c: MapConfig): Kernel {
  return { key: mapKey(c), wgsl: () => mapWgsl(c) };
}

function mapWgsl({ expr, inputs, scalars, same, rank, params: p }: MapConfig): string {
  const names = NAMES.slice(0, inputs);
  const sc = scalarLets(scalars);
  const index = same ? '' : `${broadcastIndices(indexNames(inputs), rank, 'shape', strideArrays(inputs))}\n`;
  const loads = index + names.map((n, k) => `  let ${n.toLowerCase()} = ${n}[${same ? 'i' : `i${k}`}];`).join('\n');
  return `${bindings(names, ['OUT'])}\n${p.wgsl(names.length + 1)}\n${MATH_WGSL}
${linearMain(`${loads}\n  ${sc}\n  OUT[i] = ${expr};`)}`;
}

/**
 * The scalar function `map_(a, b, …) -> f32` of a same-shape map, for the vectorised kernel
 * (`vec4MapWgsl`), which applies it lane by lane.
 */
export function mapFunction(expr: string, inputs: number, scalars: number): string {
  const args = NAMES.slice(0, inputs)
    .map((n) => `${n.toLowerCase()}: f32`)
    .join(', ');
  return `${MATH_WGSL}\nfn map_(${args}) -> f32 { ${scalarLets(scalars)} return ${expr}; }`;
}

/** The vectorised same-shape map (bindings IN0, IN1, … → OUT as vec4s). */
export function vec4MapKernel(c: MapConfig): Kernel {
  return { key: `${mapKey(c)}:v4`, wgsl: () => vec4MapWgsl(c.inputs, mapFunction(c.expr, c.inputs, c.scalars), c.params) };
}

/**
 * The broadcast map for outputs whose last dim is a multiple of 4 (inputs along the last dim
 * bound as vec4s, the others as f32 → OUT as vec4s; dispatch as the vectorised map, `vec4Grid`):
 * each thread takes 4 vec4s of the output and decodes the output index once per vec4 (one
 * division per dim, the inputs' offsets accumulated together), then reads one vec4 of each input
 * along the last dim (`alongLast`) or one element of each input broadcast along it. On lavapipe
 * integer division runs lane by lane and every load costs the same whatever its width, so both
 * matter: [1, 256, 64, 64] + [1, 256, 1, 1] (coalesced to [256, 4096] + [256, 1] by the op)
 * 4.4 → 1.8 ms in the decoder (dispatch profiler, mins of 3).
 */
export function broadcastVec4MapKernel(c: MapConfig): Kernel {
  const along = (c.alongLast ?? []).map((a) => (a ? 'v' : 's')).join('');
  return { key: `${mapKey(c)}:bv4:${along}`, wgsl: () => broadcastVec4MapWgsl(c) };
}

function broadcastVec4MapWgsl({ expr, inputs, scalars, rank, params: p, alongLast }: MapConfig): string {
  const names = NAMES.slice(0, inputs);
  const along = names.map((_, k) => alongLast?.[k] ?? false);
  const types: Record<string, string> = { OUT: 'vec4<f32>' };
  names.forEach((n, k) => along[k] && (types[n] = 'vec4<f32>'));
  const loads = names
    .map((n, k) => `      let ${n.toLowerCase()}4 = ${along[k] ? `${n}[i${k} >> 2u]` : `vec4<f32>(${n}[i${k}])`};`)
    .join('\n');
  const lane = (c: string) => `map_(${names.map((n) => `${n.toLowerCase()}4.${c}`).join(', ')})`;
  return `${bindings(names, ['OUT'], types)}\n${p.wgsl(names.length + 1)}
${mapFunction(expr, inputs, scalars)}
${vec4Main(`${broadcastIndices(indexNames(inputs), rank, 'shape', strideArrays(inputs), 'i * 4u')}
${loads}
      OUT[i] = vec4<f32>(${['x', 'y', 'z', 'w'].map(lane).join(', ')});`)}`;
}
