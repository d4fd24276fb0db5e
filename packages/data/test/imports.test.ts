/**
 * How the packages may import one another (#21): every file of a package's `src/` reaches other
 * packages only by their names, each a declared dependency, along an acyclic graph; and
 * `@rpsam2/data`, which the page bundles, uses no Node built-in.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PACKAGES = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm;

interface Pkg {
  dir: string;
  name: string;
  deps: Set<string>;
}

function packages(): Pkg[] {
  return readdirSync(PACKAGES)
    .filter((d) => statSync(join(PACKAGES, d, 'package.json'), { throwIfNoEntry: false })?.isFile())
    .map((d) => {
      const json = JSON.parse(readFileSync(join(PACKAGES, d, 'package.json'), 'utf8')) as Record<string, Record<string, string> | string>;
      const deps = new Set<string>();
      for (const field of ['dependencies', 'devDependencies', 'peerDependencies']) for (const k of Object.keys((json[field] as Record<string, string>) ?? {})) deps.add(k);
      return { dir: d, name: json.name as string, deps };
    });
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : []));
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3]);
}

describe('workspace imports', () => {
  const all = packages();
  const byName = new Map(all.map((p) => [p.name, p]));

  it('finds the packages, @rpsam2/data among them', () => {
    expect(byName.has('@rpsam2/data')).toBe(true);
    expect(all.length).toBeGreaterThanOrEqual(6);
  });

  it("no src/ file reaches into another package's folder; every workspace import is a declared dependency", () => {
    const problems: string[] = [];
    for (const p of all) {
      const root = join(PACKAGES, p.dir);
      for (const file of sources(join(root, 'src'))) {
        const where = relative(PACKAGES, file);
        for (const spec of importsOf(file)) {
          if (spec.startsWith('.')) {
            if (relative(root, resolve(dirname(file), spec)).startsWith('..')) problems.push(`${where}: '${spec}' leaves ${p.name}`);
          } else if (spec.startsWith('@rpsam2/')) {
            const target = spec.split('/').slice(0, 2).join('/');
            if (target !== p.name && !p.deps.has(target)) problems.push(`${where}: '${spec}' is not a dependency of ${p.name}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('the workspace dependencies form no cycle', () => {
    const state = new Map<string, 'visiting' | 'done'>();
    const cycle: string[] = [];
    const visit = (name: string, path: string[]): void => {
      if (state.get(name) === 'done' || cycle.length) return;
      if (state.get(name) === 'visiting') return void cycle.push(...path, name);
      state.set(name, 'visiting');
      for (const d of byName.get(name)?.deps ?? []) if (byName.has(d)) visit(d, [...path, name]);
      state.set(name, 'done');
    };
    for (const p of all) visit(p.name, []);
    expect(cycle).toEqual([]);
  });

  it('@rpsam2/data imports no Node built-in (the labeling page bundles it)', () => {
    const data = byName.get('@rpsam2/data')!;
    const nodeImports = sources(join(PACKAGES, data.dir, 'src')).flatMap((f) =>
      importsOf(f)
        .filter((s) => s.startsWith('node:') || ['fs', 'path', 'os', 'zlib', 'crypto', 'url'].includes(s))
        .map((s) => `${relative(PACKAGES, f)}: ${s}`),
    );
    expect(nodeImports).toEqual([]);
  });
});
