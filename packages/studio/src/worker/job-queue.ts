/**
 * The worker's GPU job queue: one job at a time (the tensor runtime and the GPU queue are
 * shared), lower priority numbers first, first come first served within a priority. Keyed jobs
 * are deduplicated: a second push with the same key joins the pending (or running) job and can
 * only raise its priority.
 */

interface Job {
  key: string | null;
  priority: number;
  seq: number;
  run: () => Promise<unknown>;
  promise: Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class JobQueue {
  private waiting: Job[] = [];
  private running: Job | null = null;
  private seq = 0;
  private scheduled = false;

  /** Jobs waiting (not counting the running one). */
  get pending(): number {
    return this.waiting.length;
  }

  /** Whether a job with this key is waiting or running. */
  has(key: string): boolean {
    return this.running?.key === key || this.waiting.some((j) => j.key === key);
  }

  /** Jobs that would run before a new job of this priority. */
  ahead(priority: number): number {
    return this.waiting.filter((j) => j.priority <= priority).length + (this.running ? 1 : 0);
  }

  /**
   * Queues `run`; resolves with its result. With a `key` that is already queued or running,
   * `run` is dropped and the existing job's promise is returned (its priority raised to
   * `priority` if that is more urgent).
   */
  push<T>(priority: number, run: () => Promise<T>, key: string | null = null): Promise<T> {
    if (key !== null) {
      if (this.running?.key === key) return this.running.promise as Promise<T>;
      const same = this.waiting.find((j) => j.key === key);
      if (same) {
        same.priority = Math.min(same.priority, priority);
        return same.promise as Promise<T>;
      }
    }
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<unknown>((ok, fail) => {
      resolve = ok;
      reject = fail;
    });
    this.waiting.push({ key, priority, seq: this.seq++, run, promise, resolve, reject });
    this.schedule();
    return promise as Promise<T>;
  }

  /** Drops waiting jobs whose key matches; their promises reject with `reason`. Returns how many. */
  cancel(match: (key: string | null) => boolean, reason: Error): number {
    const dropped = this.waiting.filter((j) => match(j.key));
    this.waiting = this.waiting.filter((j) => !match(j.key));
    for (const j of dropped) j.reject(reason);
    return dropped.length;
  }

  /** Picks the next job on a microtask, so that jobs pushed together are ordered by priority first. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.running || this.waiting.length === 0) return;
    let best = 0;
    for (let i = 1; i < this.waiting.length; i++) {
      const a = this.waiting[i];
      const b = this.waiting[best];
      if (a.priority < b.priority || (a.priority === b.priority && a.seq < b.seq)) best = i;
    }
    const job = this.waiting.splice(best, 1)[0];
    this.running = job;
    Promise.resolve()
      .then(job.run)
      .then(job.resolve, job.reject)
      .finally(() => {
        this.running = null;
        this.schedule();
      });
  }
}
