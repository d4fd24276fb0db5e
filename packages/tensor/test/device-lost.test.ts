/**
 * A lost device (simulated with `device.destroy()` behind the backend's back): a readback in
 * flight rejects with DeviceLostError within a time bound instead of hanging, every later call
 * throws it at once, disposing the old tensors brings the old pool back to 0, and init() makes a
 * new backend that computes the same result as before.
 */
import { describe, expect, it } from 'vitest';
import { DeviceLostError, add, getBackend, isDeviceLost, matmul, tensor, tidy } from '../src/index.js';
import { initNode } from '../src/node.js';

const A = Float32Array.from({ length: 64 * 64 }, (_, i) => Math.sin(i));

/** Rejects if `p` takes longer than `ms`: the point of these tests is "no hang". */
function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms (hang)`)), ms)));
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

async function compute(): Promise<Float32Array> {
  const y = tidy(() => {
    const a = tensor(A, [64, 64]);
    return add(matmul(a, a), a);
  });
  try {
    return await y.data();
  } finally {
    y.dispose();
  }
}

describe('device loss', () => {
  it('fails a pending readback and later calls with DeviceLostError, then init() recovers', async () => {
    const before = await compute();
    const old = getBackend();
    const live0 = old.stats().liveBytes;
    const a = tensor(A, [64, 64]);
    const y = matmul(a, a);
    const pending = y.data();
    old.device.destroy();
    const err = await within(pending.then(() => null, (e: unknown) => e), 5000);
    // A readback submitted before the destroy may still complete; the next one cannot.
    const e = err ?? (await within(y.data().then(() => null, (x: unknown) => x), 5000));
    expect(e).toBeInstanceOf(DeviceLostError);
    expect(isDeviceLost(e)).toBe(true);
    expect((e as Error).message).toMatch(/GPU device was lost \(destroyed.*init\(\) \/ initNode\(\).*recover\(\).*--resume/);
    expect(old.isLost).toBe(true);
    // Everything after fails at once, also allocation and sync.
    expect(() => matmul(a, a)).toThrow(DeviceLostError);
    expect(() => tensor([1, 2], [2])).toThrow(DeviceLostError);
    await expect(within(old.sync(), 5000)).rejects.toThrow(DeviceLostError);
    // The old pool: nothing pooled, and back to where it was once the old tensors are disposed.
    a.dispose();
    y.dispose();
    expect(old.stats()).toMatchObject({ liveBytes: live0, pooledBytes: 0 });
    // A new device: same result, and its pool ends where it started.
    const fresh = await initNode();
    expect(fresh).not.toBe(old);
    expect(getBackend()).toBe(fresh);
    const live1 = fresh.stats().liveBytes;
    expect(await compute()).toEqual(before);
    expect(fresh.stats().liveBytes).toBe(live1);
  });
});
