import { describe, expect, it } from 'vitest';
import { JobQueue } from '../src/worker/job-queue.js';
import { EmbeddingCache } from '../src/worker/embedding-cache.js';

describe('JobQueue', () => {
  it('runs one job at a time, most urgent first, in order within a priority', async () => {
    const q = new JobQueue();
    const log: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const job = (name: string) => async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, 2));
      log.push(`end ${name}`);
      running--;
      return name;
    };
    const all = [q.push(3, job('bg1')), q.push(3, job('bg2')), q.push(2, job('now')), q.push(0, job('decode'))];
    expect(await Promise.all(all)).toEqual(['bg1', 'bg2', 'now', 'decode']);
    expect(maxRunning).toBe(1);
    expect(log.filter((l) => l.startsWith('start'))).toEqual(['start decode', 'start now', 'start bg1', 'start bg2']);
  });

  it('joins a keyed job that is queued or running, raising its priority', async () => {
    const q = new JobQueue();
    const order: string[] = [];
    let runs = 0;
    const blocker = q.push(0, async () => {
      await new Promise((r) => setTimeout(r, 5));
      order.push('blocker');
    });
    const a = q.push(5, async () => (runs++, order.push('frame'), 'A'), 'encode:f');
    const other = q.push(3, async () => void order.push('other'));
    const b = q.push(1, async () => 'B', 'encode:f'); // joins a and moves it before 'other'
    expect(q.has('encode:f')).toBe(true);
    expect(await Promise.all([a, b])).toEqual(['A', 'A']);
    await Promise.all([blocker, other]);
    expect(runs).toBe(1);
    expect(order).toEqual(['blocker', 'frame', 'other']);
    expect(q.has('encode:f')).toBe(false);
  });

  it('passes errors to the caller and keeps going', async () => {
    const q = new JobQueue();
    const bad = q.push(0, async () => {
      throw new Error('boom');
    });
    const good = q.push(0, async () => 42);
    await expect(bad).rejects.toThrow('boom');
    await expect(good).resolves.toBe(42);
  });

  it('cancels waiting jobs by key', async () => {
    const q = new JobQueue();
    const first = q.push(0, async () => new Promise((r) => setTimeout(() => r('first'), 5)));
    const x = q.push(1, async () => 'x', 'encode:x');
    const y = q.push(1, async () => 'y', 'encode:y');
    await Promise.resolve();
    expect(q.cancel((k) => k === 'encode:x', new Error('frame closed'))).toBe(1);
    await expect(x).rejects.toThrow('frame closed');
    await expect(Promise.all([first, y])).resolves.toEqual(['first', 'y']);
  });

  it('counts the jobs ahead of a priority', async () => {
    const q = new JobQueue();
    const gate = q.push(0, () => new Promise<void>((r) => setTimeout(r, 5)));
    await Promise.resolve();
    await Promise.resolve();
    const rest = [q.push(2, async () => 0), q.push(3, async () => 0)];
    expect(q.pending).toBe(2);
    // The running job plus the priority-2 one.
    expect(q.ahead(2)).toBe(2);
    expect(q.ahead(3)).toBe(3);
    await Promise.all([gate, ...rest]);
  });
});

describe('EmbeddingCache', () => {
  const item = (log: string[], name: string) => ({ dispose: () => log.push(name) });

  it('evicts the least recently used entries beyond the budget, disposing them', () => {
    const log: string[] = [];
    const c = new EmbeddingCache(100);
    expect(c.set('a', item(log, 'a'), 40)).toEqual([]);
    expect(c.set('b', item(log, 'b'), 40)).toEqual([]);
    c.get('a'); // a is now the most recent
    expect(c.set('c', item(log, 'c'), 40)).toEqual(['b']);
    expect(log).toEqual(['b']);
    expect(c.ids()).toEqual(['a', 'c']);
    expect(c.bytes).toBe(80);
    expect(c.has('b')).toBe(false);
    expect(c.get('b')).toBeUndefined();
  });

  it('keeps the newest entry even when it alone is over budget', () => {
    const log: string[] = [];
    const c = new EmbeddingCache(100);
    c.set('a', item(log, 'a'), 30);
    expect(c.set('big', item(log, 'big'), 500)).toEqual(['a']);
    expect(c.ids()).toEqual(['big']);
    expect(c.bytes).toBe(500);
  });

  it('replaces, deletes and clears with dispose', () => {
    const log: string[] = [];
    const c = new EmbeddingCache(1000);
    c.set('a', item(log, 'a1'), 10);
    c.set('a', item(log, 'a2'), 20);
    expect(log).toEqual(['a1']);
    expect(c.bytes).toBe(20);
    c.set('b', item(log, 'b'), 5);
    c.delete('a');
    c.delete('zzz');
    expect(log).toEqual(['a1', 'a2']);
    c.clear();
    expect(log).toEqual(['a1', 'a2', 'b']);
    expect(c.size).toBe(0);
    expect(c.bytes).toBe(0);
    expect(() => new EmbeddingCache(0)).toThrow(/budget must be positive/);
  });
});
