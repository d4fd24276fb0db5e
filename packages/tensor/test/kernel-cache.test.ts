/**
 * The pipeline cache: a kernel key must determine its WGSL source. The tensor tests run with
 * `checkKernelKeys` on, so every kernel they dispatch is checked; here the check itself.
 */
import { describe, expect, it } from 'vitest';
import { Params, Tensor, getBackend } from '../src/index.js';
import { bindings, linearMain } from '../src/kernels/wgsl.js';
import { runLinear } from '../src/ops/run.js';

function fillKernel(key: string, value: string) {
  const p = new Params().u32('n', 4);
  return { p, kernel: { key, wgsl: () => `${bindings([], ['Y'])}\n${p.wgsl(1)}\n${linearMain(`  Y[i] = ${value};`)}` } };
}

describe('kernel keys', () => {
  it('are checked in the tensor tests', () => {
    expect(getBackend().checkKernelKeys).toBe(true);
  });

  it('a key seen with two different sources throws, naming the key and the first differing line', async () => {
    const y = Tensor.empty([4]);
    const a = fillKernel('test:clash', '1.0');
    runLinear(getBackend(), a.kernel, [], [y.range], a.p, 4);
    const b = fillKernel('test:clash', '2.0');
    expect(() => runLinear(getBackend(), b.kernel, [], [y.range], b.p, 4)).toThrow(/kernel key 'test:clash' stands for two different WGSL sources[\s\S]*Y\[i\] = 1\.0;[\s\S]*Y\[i\] = 2\.0;/);
    expect(Array.from(await y.data())).toEqual([1, 1, 1, 1]);
    y.dispose();
  });

  it('two keys with the same source run the same pipeline', async () => {
    const y = Tensor.empty([4]);
    for (const key of ['test:same:a', 'test:same:b']) {
      const k = fillKernel(key, '3.0');
      runLinear(getBackend(), k.kernel, [], [y.range], k.p, 4);
    }
    expect(Array.from(await y.data())).toEqual([3, 3, 3, 3]);
    y.dispose();
  });
});
