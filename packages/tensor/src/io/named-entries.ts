/**
 * What the lazy file readers (safetensors, PyTorch checkpoints, zip archives) share: entries
 * parsed once into a map by name, and a lookup that throws naming the file and the key.
 */
export abstract class NamedEntries<E> {
  protected constructor(
    /** Entries by name, in file order. */
    readonly entries: Map<string, E>,
    /** A label for error messages (usually the path). */
    readonly label: string,
  ) {}

  /** Names of all entries. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** Whether the file has an entry called `name`. */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The entry called `name`; throws naming the file and key when missing. */
  entry(name: string): E {
    const e = this.entries.get(name);
    if (!e) throw new Error(this.missingEntry(name));
    return e;
  }

  /** The message for a missing entry (each format words it its own way). */
  protected abstract missingEntry(name: string): string;
}
