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

/**
 * The root folder of the installed package `name` (the first folder above the module at
 * `moduleUrl` whose package.json has that name), for finding files shipped inside it (Node).
 */
export async function packageRootOf(name: string, moduleUrl: string): Promise<string> {
  const path = await importNode<typeof import('node:path')>('node:path');
  const fs = await importNode<typeof import('node:fs')>('node:fs');
  const url = await importNode<typeof import('node:url')>('node:url');
  const start = url.fileURLToPath(moduleUrl);
  let dir = path.dirname(start);
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj) && JSON.parse(fs.readFileSync(pj, 'utf8')).name === name) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`${name}: cannot find the package root above ${start}`);
    dir = up;
  }
}

/**
 * Absolute paths of files shipped inside the installed package `name` (Node): `dir` and each of
 * `files` (paths relative to the package root) joined to the package root. They need not exist.
 */
export async function packagedPaths<K extends string>(name: string, moduleUrl: string, dir: string, files: Record<K, string>): Promise<{ dir: string } & Record<K, string>> {
  const path = await importNode<typeof import('node:path')>('node:path');
  const root = await packageRootOf(name, moduleUrl);
  const out = { dir: path.join(root, dir) } as { dir: string } & Record<K, string>;
  for (const [k, f] of Object.entries(files) as [K, string][]) (out as Record<K, string>)[k] = path.join(root, f);
  return out;
}
