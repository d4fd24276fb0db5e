import { describe, expect, it } from 'vitest';
import {
  add,
  backward,
  exp,
  formatProfile,
  getBackend,
  groupProfile,
  isProfiling,
  matmul,
  mul,
  profile,
  profileScope,
  startProfile,
  stopProfile,
  sum,
  tensor,
  tidy,
  zeros,
  type ProfileReport,
  type Tensor,
} from '../src/index.js';
import { Rng } from './support/rng.js';

const rng = new Rng(5);
const randn = (n: number) => Float32Array.from(rng.array(n));

/** Calls of `kernel` in the report (all labels). */
const callsOf = (r: ProfileReport, kernel: string) => groupProfile(r, 'kernel').find((e) => e.kernel === kernel)?.calls ?? 0;

/** The ops the profile runs: add, exp, matmul; returns the outputs. */
function ops(a: Tensor, b: Tensor, m: Tensor): Tensor[] {
  const s = add(a, b);
  return [s, exp(s), matmul(m, m)];
}

describe('dispatch profiler', () => {
  it('lists the kernels run with their call counts and times, without changing results', async () => {
    const backend = getBackend();
    const live0 = backend.stats().liveBytes;
    const a = tensor(randn(1000), [1000]);
    const b = tensor(randn(1000), [1000]);
    // Large enough that the matmul's time dwarfs scheduling noise on a loaded machine (a 256³
    // matmul once measured below a 1000-element add's noise under load).
    const n = 768;
    const m = tensor(randn(n * n), [n, n]);
    const plain = ops(a, b, m);
    const want = await Promise.all(plain.map((t) => t.data()));
    await backend.sync();
    const count0 = backend.dispatchCount;

    startProfile();
    expect(isProfiling()).toBe(true);
    const runs = [ops(a, b, m), ops(a, b, m), ops(a, b, m)];
    const got = await Promise.all(runs[2].map((t) => t.data()));
    const report = await stopProfile();
    expect(isProfiling()).toBe(false);

    expect(callsOf(report, 'map:add:same:2:0:v4')).toBe(3);
    expect(callsOf(report, 'unary:exp:v4')).toBe(3);
    const matmulRows = report.entries.filter((e) => e.kernel.includes('matmul'));
    expect(matmulRows.length).toBeGreaterThan(0);
    // Every dispatch recorded was timed, once.
    expect(report.dispatches).toBe(backend.dispatchCount - count0);
    expect(report.entries.reduce((s, e) => s + e.calls, 0)).toBe(report.dispatches);
    for (const e of report.entries) {
      expect(e.totalMs).toBeGreaterThanOrEqual(0);
      expect(e.meanMs).toBeCloseTo(e.totalMs / e.calls, 9);
      expect(e.label).toBe('');
    }
    expect(report.kernelMs).toBeCloseTo(report.entries.reduce((s, e) => s + e.totalMs, 0), 6);
    expect(report.wallMs).toBeGreaterThan(0);
    // A 768³ matmul takes longer than adding 1000 numbers: times go to the right kernels.
    const mean = (k: (e: { kernel: string }) => boolean) => {
      const rows = report.entries.filter(k);
      return rows.reduce((s, e) => s + e.totalMs, 0) / rows.reduce((s, e) => s + e.calls, 0);
    };
    expect(mean((e) => e.kernel.includes('matmul'))).toBeGreaterThan(mean((e) => e.kernel === 'map:add:same:2:0:v4'));
    // The three reads of the last run's outputs; nothing uploaded.
    expect(report.readbacks).toEqual({ count: 3, bytes: 4 * (1000 + 1000 + n * n) });
    expect(report.uploads).toEqual({ count: 0, bytes: 0 });
    // Same kernels, same inputs: the same bits.
    got.forEach((g, i) => expect(Array.from(g)).toEqual(Array.from(want[i])));

    for (const t of [...runs.flat(), ...plain, a, b, m]) t.dispose();
    expect(backend.stats().liveBytes).toBe(live0);
  });

  it('stops recording when stopped, and leaves the buffer pool as it was', async () => {
    const backend = getBackend();
    await backend.sync();
    const stats0 = backend.stats();
    // The profiler's query set and staging buffers are its own, not pool buffers.
    const empty = await profile(() => undefined);
    expect(empty.report.dispatches).toBe(0);
    expect(backend.stats()).toEqual(stats0);

    const first = await profile(() => zeros([16]));
    expect(callsOf(first.report, 'fill')).toBe(1);
    first.result.dispose();
    // Not profiling: nothing is recorded anywhere.
    zeros([16]).dispose();
    const { report } = await profile(() => {
      const x = tensor(new Float32Array(8), [8]);
      x.dispose();
    });
    expect(report.dispatches).toBe(0);
    expect(report.entries).toEqual([]);
    expect(report.uploads).toEqual({ count: 1, bytes: 32 });
    expect(backend.stats().liveBytes).toBe(stats0.liveBytes);
  });

  it('times more dispatches than one query set holds (the batch is submitted when full)', async () => {
    const { result, report } = await profile(() => Array.from({ length: 600 }, () => zeros([16])));
    expect(callsOf(report, 'fill')).toBe(600);
    expect(report.dispatches).toBe(600);
    for (const t of result) t.dispose();
  });

  it('labels dispatches by profileScope and backward rule', async () => {
    const x = tensor(randn(64), [64], { requiresGrad: true });
    const { report } = await profile(() => {
      const y = profileScope('loss', () => tidy(() => sum(mul(x, x))));
      backward(y);
      y.dispose();
    });
    const labels = new Set(report.entries.map((e) => e.label));
    expect(labels.has('loss')).toBe(true);
    expect([...labels].some((l) => l.startsWith('backward/'))).toBe(true);
    expect([...labels].every((l) => l === 'loss' || l === 'backward' || l.startsWith('backward/'))).toBe(true);
    const byLabel = groupProfile(report, 'label');
    expect(byLabel.reduce((s, e) => s + e.calls, 0)).toBe(report.dispatches);
    // Outside a profile, a scope only runs its function.
    expect(profileScope('idle', () => 7)).toBe(7);
    x.grad?.dispose();
    x.dispose();
  });

  it('formats a table sorted by total time', async () => {
    const a = tensor(randn(4096), [4096]);
    const { result, report } = await profile(() => [exp(a), add(a, a), add(a, a)]);
    const text = formatProfile(report, 1);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^kernel\s+calls\s+total ms\s+%\s+mean ms$/);
    expect(lines[2].split(/\s+/)[0]).toBe(groupProfile(report, 'kernel')[0].kernel);
    expect(lines[3]).toMatch(/^\(1 more\)/);
    expect(lines[4]).toMatch(/^3 dispatches, [\d.]+ ms in kernels/);
    for (const t of [...result, a]) t.dispose();
  });

  it('rejects a second start and a stop without start', async () => {
    startProfile();
    expect(() => startProfile()).toThrow(/already running/);
    await stopProfile();
    await expect(stopProfile()).rejects.toThrow(/no profile is running/);
  });
});
