/**
 * The GPU waits: Node's napping wait settles exactly as the promise it waits for (value, error,
 * order) and is what initNode installs; its schedule (spin first, growing naps, event-loop turns
 * between them) is checked on a clock of the test's own, never by wall-clock timings; reads
 * through either wait give the same numbers, and the pool ends where it started.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awaitPromise, getBackend, matmul, tensor, type Backend } from '../src/index.js';
import { initNode, napWhileWaiting } from '../src/node.js';
import { createNapWait, napMs, type NapClock } from '../src/device/nap-wait.js';

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

  it('naps longer as a wait goes on: 1 ms at first, 8 ms after half a second', () => {
    expect([0, 7.9, 8, 63.9, 64, 511, 512, 60_000].map(napMs)).toEqual([1, 1, 2, 2, 4, 4, 8, 8]);
  });
});

/**
 * A clock of the test's own: each reading costs TICK ms (a turn of the loop takes time) and a
 * sleep moves it on. Promises from `after` settle when the clock passes their time, so the
 * schedule is checked exactly, whatever the machine's load.
 */
function fakeClock() {
  const TICK = 0.25;
  let t = 1000;
  const sleeps: { at: number; ms: number }[] = [];
  const alarms: { at: number; fire: () => void }[] = [];
  const ring = () => {
    for (const a of alarms.filter((a) => a.at <= t)) {
      alarms.splice(alarms.indexOf(a), 1);
      a.fire();
    }
  };
  const clock: NapClock = {
    now: () => {
      t += TICK;
      ring();
      return t;
    },
    sleep: (ms) => {
      sleeps.push({ at: t, ms });
      t += ms;
      ring();
    },
  };
  const after = (ms: number) => {
    const at = t + ms;
    return new Promise<void>((fire) => alarms.push({ at, fire }));
  };
  return { clock, sleeps, after, now: () => t, TICK };
}

describe('the nap schedule (on a clock of the test\'s own)', () => {
  it('a long wait wakes far less often than once a millisecond, naps as napMs says, and ends within a nap', async () => {
    const f = fakeClock();
    const { wait, stats } = createNapWait(f.clock);
    const t0 = f.now();
    await wait(f.after(600));
    const took = f.now() - t0;
    // 2 ms of spin, then ~7 naps of 1 ms, ~25 of 2 ms, ~105 of 4 ms, ~11 of 8 ms: ~150, not ~600
    expect(stats.naps).toBe(f.sleeps.length);
    expect(stats.naps).toBeGreaterThan(100);
    expect(stats.naps).toBeLessThan(250);
    // no nap before the spin is over; each nap as long as napMs says for its time into the wait
    const napFrom = t0 + 2;
    expect(f.sleeps[0]!.at).toBeGreaterThanOrEqual(napFrom);
    expect(f.sleeps[0]!.at).toBeLessThan(napFrom + 2 * f.TICK);
    for (const s of f.sleeps) expect(s.ms).toBe(napMs(s.at - napFrom));
    expect(new Set(f.sleeps.map((s) => s.ms))).toEqual(new Set([1, 2, 4, 8]));
    // late by one nap at most, plus a turn or two
    expect(took).toBeGreaterThanOrEqual(600);
    expect(took).toBeLessThanOrEqual(600 + 8 + 2 * f.TICK);
  });

  it('a wait that starts as the previous one ends spins first again: no nap at once', async () => {
    const f = fakeClock();
    const { wait, stats } = createNapWait(f.clock);
    for (let i = 0; i < 5; i++) {
      await wait(f.after(20)); // long enough to nap
      expect(stats.naps).toBeGreaterThan(0);
      const before = stats.naps;
      // settles within a turn or two (well inside the spin that starts every new burst of waits),
      // while the loop that served the last wait is still finishing its turn
      await wait(new Promise<void>((r) => setImmediate(() => setImmediate(r))));
      expect(stats.naps - before).toBe(0);
    }
  });

  it('keeps the event loop turning while it waits', async () => {
    const f = fakeClock();
    const { wait, stats } = createNapWait(f.clock);
    let turns = 0;
    let stop = false;
    const spin = async () => {
      while (!stop) {
        await new Promise<void>((r) => setImmediate(r));
        turns++;
      }
    };
    const spinning = spin();
    await wait(f.after(40));
    stop = true;
    await spinning;
    // a turn between naps (~20 naps in 40 ms): not zero (blocked), and the spin ran throughout
    expect(stats.naps).toBeGreaterThan(10);
    expect(turns).toBeGreaterThanOrEqual(stats.naps);
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
