#!/usr/bin/env node
/**
 * `node scripts/pack-node-tree.mjs <package-dir> <out-dir> [--skip name,name]`: copies the
 * runtime dependency closure of a workspace package into <out-dir>/node_modules as plain files,
 * flat, so that `node <out-dir>/node_modules/<package>/dist/…` resolves every import with no
 * pnpm install. pnpm's node_modules are symlinks into its store, which do not travel to another
 * machine; this tree does (scripts/gpu-report.sh packs it for the lent GPU machine).
 *
 * Workspace packages (outside any node_modules) contribute package.json and dist/ without source
 * maps; other packages are copied whole, minus nested node_modules. Optional dependencies that
 * are not installed (other platforms' binaries) are left out. `--skip` leaves packages and their
 * dependencies out (the `webgpu` package: its 130 MB of binaries for every platform are packed
 * separately, compressed). Two versions of one package cannot share a flat tree: that is an error.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const [pkgArg, outArg, ...rest] = process.argv.slice(2);
if (!pkgArg || !outArg || (rest.length && rest[0] !== '--skip')) {
  console.error('usage: node scripts/pack-node-tree.mjs <package-dir> <out-dir> [--skip name,name]');
  process.exit(2);
}
const skip = new Set(rest[1] ? rest[1].split(',') : []);
const readJson = (f) => JSON.parse(readFileSync(f, 'utf8'));

/** The installed directory of `name` as Node would find it from `fromDir` (walking up node_modules). */
function findPackage(name, fromDir) {
  for (let d = fromDir; ; d = dirname(d)) {
    const p = join(d, 'node_modules', name, 'package.json');
    if (existsSync(p)) return realpathSync(dirname(p));
    if (dirname(d) === d) return null;
  }
}

const root = realpathSync(pkgArg);
const nodeModules = join(outArg, 'node_modules');
/** name → real directory it was copied from. */
const copied = new Map();
const queue = [{ name: readJson(join(root, 'package.json')).name, dir: root }];
while (queue.length) {
  const { name, dir } = queue.shift();
  if (copied.has(name)) {
    if (copied.get(name) !== dir) throw new Error(`two versions of ${name} are needed (${copied.get(name)} and ${dir}); a flat tree cannot hold both`);
    continue;
  }
  copied.set(name, dir);
  const pkg = readJson(join(dir, 'package.json'));
  const dest = join(nodeModules, name);
  mkdirSync(dest, { recursive: true });
  if (!dir.split('/').includes('node_modules')) {
    // A workspace package: what it publishes, less the maps and the bundled models (the report
    // uses random weights).
    if (!existsSync(join(dir, 'dist'))) throw new Error(`${name}: ${dir}/dist is missing: run \`pnpm build\` first`);
    cpSync(join(dir, 'package.json'), join(dest, 'package.json'));
    cpSync(join(dir, 'dist'), join(dest, 'dist'), { recursive: true, filter: (f) => !f.endsWith('.map') });
  } else {
    cpSync(dir, dest, { recursive: true, dereference: true, filter: (f) => !relative(dir, f).split('/').includes('node_modules') });
  }
  const deps = [
    ...Object.keys(pkg.dependencies ?? {}).map((n) => ({ n, optional: false })),
    ...Object.keys(pkg.optionalDependencies ?? {}).map((n) => ({ n, optional: true })),
  ];
  for (const { n, optional } of deps) {
    if (skip.has(n)) continue;
    const found = findPackage(n, dir);
    if (!found) {
      if (optional) continue;
      throw new Error(`${name} depends on ${n}, which is not installed: run \`pnpm install\``);
    }
    queue.push({ name: n, dir: found });
  }
}
console.log(`packed ${copied.size} packages into ${nodeModules}: ${[...copied.keys()].sort().join(', ')}`);
