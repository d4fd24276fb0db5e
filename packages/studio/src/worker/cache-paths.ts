/**
 * Paths of a feature cache folder (`index.json`, `images/<id>.safetensors`) among dropped or
 * picked files, and the cache key of a frame file. No imports: the page uses these without
 * loading the model libraries (the worker reads the files, see precomputed-features.ts).
 */

/** A file with its path relative to what was dropped or picked (as the frame list gets them). */
export interface PathedFile {
  file: Blob;
  path: string;
}

/** Forward slashes, no leading slash. */
export function normalPath(path: string): string {
  return path.replace(/\\/g, '/').replace(/^\/+/, '');
}

/**
 * The folder of a feature cache among `paths` ('' for the top level, else ending in '/'): the
 * folder of an `index.json` with `images/*.safetensors` beside it, the shallowest if several;
 * null when there is none.
 */
export function cacheRootOf(paths: readonly string[]): string | null {
  const norm = paths.map(normalPath);
  const roots = norm
    .filter((p) => p === 'index.json' || p.endsWith('/index.json'))
    .map((p) => p.slice(0, p.length - 'index.json'.length))
    .filter((root) => norm.some((p) => p.startsWith(`${root}images/`) && p.endsWith('.safetensors')))
    .sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1));
  return roots.length ? roots[0] : null;
}

/** Whether `path` is a file of the cache folder `root` (from {@link cacheRootOf}): its index.json or a file under images/. */
export function inCacheFolder(root: string, path: string): boolean {
  const p = normalPath(path);
  return p === `${root}index.json` || p.startsWith(`${root}images/`);
}

/** Whether a path is a feature cache file (the page does not report these as skipped non-images). */
export function isCacheFilePath(path: string): boolean {
  return /(^|\/)index\.json$/.test(path) || /(^|\/)images\/[^/]+\.safetensors$/.test(path);
}

/** The cache key of a frame file: its name without folders and extension (as `bench embed` keys frames). */
export function cacheKeyOf(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}
