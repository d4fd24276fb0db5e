/** Op-vector adapters: conv2d, conv_transpose2d, max_pool2d, avg_pool2d (PyTorch argument names). */
import { conv2d, convTranspose2d, maxPool2d, avgPool2d } from '../../ops/index.js';
import type { Size2 } from '../../kernels/conv-geometry.js';
import type { OpAdapter } from './types.js';

/** A PyTorch int-or-tuple size argument (undefined when absent). */
function size(op: string, args: Record<string, unknown>, name: string): Size2 | undefined {
  const v = args[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return v;
  if (Array.isArray(v) && v.length === 2 && v.every((d) => typeof d === 'number')) return [v[0], v[1]];
  throw new Error(`${op}: unsupported ${name} ${JSON.stringify(v)} (expected an int or a pair)`);
}

function rejectCeilMode(op: string, args: Record<string, unknown>): void {
  if (args.ceil_mode) throw new Error(`${op}: ceil_mode is not supported (floor mode only)`);
  if (args.dilation !== undefined && args.dilation !== 1) throw new Error(`${op}: dilation ${JSON.stringify(args.dilation)} is not supported`);
  if (args.count_include_pad === false) throw new Error(`${op}: count_include_pad=False is not supported`);
}

export const convAdapters: Record<string, OpAdapter> = {
  conv2d: ([x, w, b], a) =>
    conv2d(x, w, b ?? null, {
      stride: size('conv2d', a, 'stride'),
      padding: size('conv2d', a, 'padding'),
      dilation: size('conv2d', a, 'dilation'),
      groups: a.groups ?? 1,
    }),
  conv_transpose2d: ([x, w, b], a) =>
    convTranspose2d(x, w, b ?? null, {
      stride: size('conv_transpose2d', a, 'stride'),
      padding: size('conv_transpose2d', a, 'padding'),
      outputPadding: size('conv_transpose2d', a, 'output_padding'),
      dilation: size('conv_transpose2d', a, 'dilation'),
      groups: a.groups ?? 1,
    }),
  max_pool2d: ([x], a) => {
    rejectCeilMode('max_pool2d', a);
    return maxPool2d(x, { kernelSize: size('max_pool2d', a, 'kernel_size')!, stride: size('max_pool2d', a, 'stride'), padding: size('max_pool2d', a, 'padding') });
  },
  avg_pool2d: ([x], a) => {
    rejectCeilMode('avg_pool2d', a);
    return avgPool2d(x, { kernelSize: size('avg_pool2d', a, 'kernel_size')!, stride: size('avg_pool2d', a, 'stride'), padding: size('avg_pool2d', a, 'padding') });
  },
};
