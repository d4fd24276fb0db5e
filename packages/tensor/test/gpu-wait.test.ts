/**
 * The GPU waits: Node's napping wait settles exactly as the promise it waits for (value, error,
 * order), lets the event loop run while it waits, and is what initNode installs; reads through
 * either wait give the same numbers, and the pool ends where it started.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awaitPromise, getBackend, matmul, tensor, type Backend } from '../src/index.js';
import { initNode, napWhileWaiting } from '../src/node.js';
import { napMs, napStats } from '../src/device/nap-wait.js';

const later = <T>(ms: number, v: T) => new Promise<T>((r) => setTimeout(() => r(v), ms));

describe('napWhileWaiting', () => {
  it('resolves and rejects as the promise does', async () => {
    await expect(napWhileWaiting(later(5, 42))).resolves.toBe(42);
    await expect(napWhileWaiting(Promise.resolve('now'))).resolves.toBe('now');
    const err = new Error('boom');
    await expect(napWhileWaiting(later(3, 0).then(() => Promise.reject(err)))).rejects.toBe(err);
  });

  it('serves concurrent waits, each settling in its own order', async () => {
    const order: number[] = [];
    const waits = [30, 5, 15, 0].map((ms, i) => napWhileWaiting(later(ms, i)).then((v) => order.push(v)));
    await Promise.all(waits);
    expect(order).toEqual([3, 1, 2, 0]);
    // and a new wait after the loop has stopped starts it again
    await expect(napWhileWaiting(later(2, 'again'))).resolves.toBe('again');
  });

  it('a wait that starts as the previous one ends spins first again: no nap at once', async () => {
    for (let i = 0; i < 5; i++) {
      await napWhileWaiting(later(20, i)); // long enough to nap
      const before = napStats.naps;
      // settles within a turn or two: well inside the spin that starts every new burst of waits
      await napWhileWaiting(new Promise<void>((r) => setImmediate(() => setImmediate(r))));
      expect(napStats.naps - before).toBe(0);
    }
  });

  it('naps longer as a wait goes on: 1 ms at first, 8 ms after half a second', () => {
    expect([0, 7.9, 8, 63.9, 64, 511, 512, 60_000].map(napMs)).toEqual([1, 1, 2, 2, 4, 4, 8, 8]);
  });

  it('a long wait wakes far less often than once a millisecond, and still ends on time', async () => {
    const before = napStats.naps;
    const t0 = performance.now();
    await napWhileWaiting(later(600, null));
    const took = performance.now() - t0;
    // 2 ms of spin, then ~6 naps of 1 ms, 28 of 2 ms, 112 of 4 ms, a few of 8 ms: ~150, not ~600
    expect(napStats.naps - before).toBeLessThan(250);
    // late by one nap at most (8 ms), plus timer slack on a busy machine
    expect(took).toBeLessThan(600 + 8 + 100);
  });

  it('keeps the event loop turning while it waits', async () => {
    let turns = 0;
    let stop = false;
    const spin = async () => {
      while (!stop) {
        await new Promise<void>((r) => setImmediate(r));
        turns++;
      }
    };
    const spinning = spin();
    await napWhileWaiting(later(40, null));
    stop = true;
    await spinning;
    // 1–2 ms naps: a couple of dozen turns in 40 ms, not zero (blocked) and not unbounded (a spin)
    expect(turns).toBeGreaterThan(3);
  });
});

describe('the backend waits', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await initNode();
  });
  afterAll(() => {
    backend.wait = napWhileWaiting;
  });

  it('initNode installs the napping wait', () => {
    expect(getBackend().wait).toBe(napWhileWaiting);
  });

  it('reads the same numbers through either wait; the pool returns to its start', async () => {
    const live0 = backend.stats().liveBytes;
    const a = tensor(Float32Array.from({ length: 48 * 40 }, (_, i) => Math.cos(i)), [48, 40]);
    const b = tensor(Float32Array.from({ length: 40 * 24 }, (_, i) => Math.sin(i)), [40, 24]);
    const out: Float32Array[] = [];
    for (const wait of [napWhileWaiting, awaitPromise]) {
      backend.wait = wait;
      const y = matmul(a, b);
      out.push(await y.data());
      await backend.sync();
      y.dispose();
    }
    expect(out[1]).toEqual(out[0]);
    a.dispose();
    b.dispose();
    expect(backend.stats().liveBytes).toBe(live0);
  });
});
