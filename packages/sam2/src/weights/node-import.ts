/**
 * Lazy access to Node-only modules (files) from the platform-neutral package: the specifier is
 * a run-time value, so bundlers neither follow nor bundle it, and browsers only fail when a
 * Node-only path (a file path instead of a ByteSource) is actually used.
 */
export async function importNode<T>(specifier: string): Promise<T> {
  try {
    return (await import(/* @vite-ignore */ specifier)) as T;
  } catch (e) {
    throw new Error(
      `@rpsam2/sam2: '${specifier}' is not available (${(e as Error).message}); file paths work in Node only — in a browser pass a ByteSource such as blobSource(file)`,
      { cause: e },
    );
  }
}
