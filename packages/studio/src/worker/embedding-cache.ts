/**
 * The session's embedding cache: one entry per frame (the image encoder's features, held by a
 * predictor), least recently used first out once the bytes exceed the budget. The entry in use
 * (just added or touched) is never evicted, even when it alone exceeds the budget.
 */

/** Something the cache owns and frees. */
export interface Disposable {
  dispose(): void;
}

/** An LRU map from frame id to an owned value with a byte size. */
export class EmbeddingCache<V extends Disposable> {
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private total = 0;

  constructor(
    /** Budget in bytes (GPU memory of the cached features). */
    readonly budgetBytes: number,
  ) {
    if (!(budgetBytes > 0)) throw new RangeError(`EmbeddingCache: budget must be positive, got ${budgetBytes}`);
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.entries.size;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Frame ids, least recently used first. */
  ids(): string[] {
    return [...this.entries.keys()];
  }

  /** The value, marked as most recently used; undefined when absent. */
  get(id: string): V | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    this.entries.delete(id);
    this.entries.set(id, e);
    return e.value;
  }

  /**
   * Adds (or replaces, disposing the old value) an entry as the most recently used, then evicts
   * the least recently used others until within budget. Returns the evicted ids.
   */
  set(id: string, value: V, bytes: number): string[] {
    if (!(bytes >= 0)) throw new RangeError(`EmbeddingCache: bytes must be ≥ 0, got ${bytes}`);
    const old = this.entries.get(id);
    if (old) {
      this.entries.delete(id);
      this.total -= old.bytes;
      if (old.value !== value) old.value.dispose();
    }
    this.entries.set(id, { value, bytes });
    this.total += bytes;
    const evicted: string[] = [];
    for (const [k, e] of this.entries) {
      if (this.total <= this.budgetBytes) break;
      if (k === id) continue;
      this.entries.delete(k);
      this.total -= e.bytes;
      e.value.dispose();
      evicted.push(k);
    }
    return evicted;
  }

  /** Removes and disposes one entry (no-op when absent). */
  delete(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    this.total -= e.bytes;
    e.value.dispose();
  }

  /** Removes and disposes every entry. */
  clear(): void {
    for (const e of this.entries.values()) e.value.dispose();
    this.entries.clear();
    this.total = 0;
  }
}
