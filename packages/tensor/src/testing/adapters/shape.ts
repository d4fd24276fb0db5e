/** Op-vector adapters: shape and data-movement ops. */
import { permute, transpose, reshape, slice, cat, stack, pad, expand, repeatInterleave, gatherRows, type SliceSpec } from '../../ops/index.js';
import type { OpAdapter } from './types.js';

const int = (s: string, what: string): number | undefined => {
  const t = s.trim();
  if (t === '') return undefined;
  if (!/^-?\d+$/.test(t)) throw new Error(`slice: bad ${what} ${JSON.stringify(t)} in the index`);
  return Number(t);
};

/**
 * Parses a Python basic index such as "[:, 1:3, ::2, 1:]" or "[0, ..., -2:]" into slice specs
 * (integers select, `a:b:c` slices, `...` keeps the dims it stands for whole).
 */
export function parseIndex(index: string, rank: number): SliceSpec[] {
  const body = index.trim().replace(/^\[/, '').replace(/\]$/, '');
  const parts = body.trim() === '' ? [] : body.split(',').map((p) => p.trim());
  const specs: SliceSpec[] = [];
  const ellipsis = parts.indexOf('...');
  for (const [k, p] of parts.entries()) {
    if (p === '...') {
      for (let i = 0; i < rank - (parts.length - 1); i++) specs.push(null);
      continue;
    }
    if (!p.includes(':')) {
      const v = int(p, 'index');
      if (v === undefined) throw new Error(`slice: empty entry ${k} in ${JSON.stringify(index)}`);
      specs.push(v);
      continue;
    }
    const [a, b, c = '', ...rest] = p.split(':');
    if (rest.length) throw new Error(`slice: bad entry ${JSON.stringify(p)} in ${JSON.stringify(index)}`);
    specs.push({ start: int(a, 'start'), end: int(b, 'end'), step: int(c, 'step') });
  }
  if (ellipsis >= 0 && parts.indexOf('...', ellipsis + 1) >= 0) throw new Error(`slice: more than one '...' in ${JSON.stringify(index)}`);
  return specs;
}

export const shapeAdapters: Record<string, OpAdapter> = {
  permute: ([x], a) => permute(x, a.dims),
  transpose: ([x], a) => transpose(x, a.dim0, a.dim1),
  reshape: ([x], a) => reshape(x, a.shape),
  expand: ([x], a) => expand(x, a.shape),
  slice: ([x], a) => slice(x, parseIndex(String(a.index), x.rank)),
  cat: (xs, a) => cat(xs, a.dim ?? 0),
  stack: (xs, a) => stack(xs, a.dim ?? 0),
  pad: ([x], a) => {
    if (a.mode !== undefined && a.mode !== 'constant') throw new Error(`pad: mode ${JSON.stringify(a.mode)} is not supported (only 'constant')`);
    return pad(x, a.pad, a.value ?? 0);
  },
  repeat_interleave: ([x], a) => {
    if (typeof a.repeats !== 'number') throw new Error(`repeat_interleave: repeats must be a number, got ${JSON.stringify(a.repeats)}`);
    return repeatInterleave(x, a.repeats, a.dim ?? undefined);
  },
  gather_rows: ([x, idx]) => gatherRows(x, idx),
};
