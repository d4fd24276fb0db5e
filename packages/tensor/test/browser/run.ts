/**
 * Browser test of @rpsam2/tensor: the built package (dist/, made by `pnpm build`; this script
 * builds nothing) running in Debian's Chromium on WebGPU (SwiftShader when there is no GPU).
 *
 * Serves dist/, a small page (index.html + page.js) and the op-vector fixtures over a localhost
 * HTTP server, opens the page in headless Chromium through playwright-core (never a downloaded
 * browser), and prints one line per case and `N passed, M failed`. The page runs a smoke add,
 * imageTokens against a JS reference, and every fixture case whose op is in the subset below and
 * already has an adapter (the others are listed as skipped: not implemented yet). A screenshot
 * goes to test-artifacts/.
 *
 * Usage: tsx packages/tensor/test/browser/run.ts [--ops add,exp,…|--all] [--fixtures <dir>]
 *        [--timeout <seconds>]
 * Exits 1 when a case fails, the page errors or WebGPU is unavailable; 2 on bad setup
 * (no build, no Chromium).
 * Environment: CHROMIUM_PATH (default /usr/bin/chromium).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createReadStream, existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from './chromium.js';

/** One case of each op family; every fixture case of these ops runs (when implemented). */
const DEFAULT_OPS = [
  'add',
  'exp',
  'gelu',
  'sum',
  'softmax',
  'matmul',
  'layer_norm',
  'conv2d',
  'interpolate',
  'scaled_dot_product_attention',
];

/** What page.js leaves in `window.__report`. */
interface PageReport {
  adapter: string;
  results: { key: string; op: string; passed: boolean; line: string }[];
  skipped: { key: string; op: string; why: string }[];
  liveBytes: number;
  error: string | null;
  done: boolean;
}

const HERE = dirname(fileURLToPath(import.meta.url));
const PKG = resolve(HERE, '../..');
const ROOT = resolve(PKG, '../..');

function parseArgs(argv: string[]) {
  const opts = { ops: DEFAULT_OPS, fixtures: resolve(ROOT, '../shared/fixtures/ops'), timeoutS: 600 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === '--ops') opts.ops = value().split(',').filter(Boolean);
    else if (a === '--all') opts.ops = ['*'];
    else if (a === '--fixtures') opts.fixtures = resolve(value());
    else if (a === '--timeout') opts.timeoutS = Number(value());
    else usage(a === '--help' || a === '-h' ? '' : `unknown argument ${a}`);
  }
  return opts;
}

function usage(problem: string): never {
  if (problem) console.error(`browser test: ${problem}`);
  console.error('usage: tsx packages/tensor/test/browser/run.ts [--ops add,exp,…|--all] [--fixtures <dir>] [--timeout <seconds>]');
  process.exit(2);
}

function fail(message: string, code = 2): never {
  console.error(`browser test: ${message}`);
  console.log('0 passed, 1 failed');
  process.exit(code);
}

/** Picks the ES-module entry a browser would load from a package's `exports`/`module`/`main`. */
function browserEntry(pkgDir: string): string {
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const pick = (e: unknown): string | undefined => {
    if (typeof e === 'string') return e;
    if (!e || typeof e !== 'object') return undefined;
    for (const cond of ['browser', 'import', 'module', 'default']) {
      const hit = pick((e as Record<string, unknown>)[cond]);
      if (hit) return hit;
    }
    return undefined;
  };
  const exp = pkg.exports;
  const entry = pick(typeof exp === 'object' && exp && '.' in exp ? exp['.'] : exp) ?? pkg.module ?? pkg.main ?? 'index.js';
  return entry.replace(/^\.\//, '');
}

/**
 * The import map: the package itself (its root and `/testing` entries), and each runtime
 * dependency that the core may import (webgpu is Node-only and never imported by dist/index.js).
 * Dependencies are served from /deps/<name>/.
 */
function importMap(): { map: Record<string, string>; deps: Map<string, string> } {
  const pkg = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8'));
  const map: Record<string, string> = { '@rpsam2/tensor': '/dist/index.js', '@rpsam2/tensor/testing': '/dist/testing.js' };
  const deps = new Map<string, string>();
  for (const name of Object.keys(pkg.dependencies ?? {})) {
    if (name === 'webgpu') continue;
    const dir = join(PKG, 'node_modules', name);
    if (!existsSync(join(dir, 'package.json'))) continue;
    deps.set(name, realpathSync(dir));
    map[name] = `/deps/${name}/${browserEntry(dir)}`;
    map[`${name}/`] = `/deps/${name}/`;
  }
  return { map, deps };
}

/**
 * Bare imports that the static import graphs of dist/index.js and dist/testing.js reach but the
 * import map cannot serve (Node built-ins such as fs/promises, or webgpu): the core must not have
 * any. Reported before the browser starts, with the file that imports each.
 */
function unservableImports(map: Record<string, string>): string[] {
  const dist = join(PKG, 'dist');
  const found = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(file, 'utf8');
    // esbuild writes static imports as `from "x"` or `import "x"` at the start of a line.
    for (const m of code.matchAll(/^(?:import|export)\b[^;]*?(?:from\s*|import\s*)["']([^"']+)["']/gms)) {
      const spec = m[1];
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else if (!(spec in map) && !Object.keys(map).some((k) => k.endsWith('/') && spec.startsWith(k))) {
        found.add(`${spec} (imported by dist/${relative(dist, file)})`);
      }
    }
  };
  visit(join(dist, 'index.js'));
  visit(join(dist, 'testing.js'));
  return [...found];
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
};

/** Serves `rel` from under `base` only (no `..` escapes); 404 otherwise. */
function sendFile(res: ServerResponse, base: string, rel: string) {
  const path = resolve(base, '.' + sep + decodeURIComponent(rel));
  if ((path !== base && !path.startsWith(base + sep)) || !existsSync(path) || !statSync(path).isFile()) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${rel}`);
    return;
  }
  res.writeHead(200, {
    'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
    'content-length': statSync(path).size,
    'cache-control': 'no-store',
  });
  createReadStream(path).pipe(res);
}

function startServer(fixtures: string | null, map: Record<string, string>, deps: Map<string, string>) {
  const html = readFileSync(join(HERE, 'index.html'), 'utf8').replace(
    '<!--IMPORT_MAP-->',
    `<script type="importmap">${JSON.stringify({ imports: map })}</script>`,
  );
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const p = url.pathname;
    if (p === '/' || p === '/index.html') res.writeHead(200, { 'content-type': TYPES['.html'] }).end(html);
    else if (p === '/page.js') sendFile(res, HERE, 'page.js');
    else if (p.startsWith('/dist/')) sendFile(res, join(PKG, 'dist'), p.slice('/dist/'.length));
    else if (p.startsWith('/fixtures/') && fixtures) sendFile(res, fixtures, p.slice('/fixtures/'.length));
    else if (p.startsWith('/deps/')) {
      const [name, ...rest] = p.slice('/deps/'.length).split('/');
      // Scoped names (@scope/name) take two segments.
      const full = name.startsWith('@') ? `${name}/${rest.shift()}` : name;
      const dir = deps.get(full);
      if (dir) sendFile(res, dir, rest.join('/'));
      else res.writeHead(404).end();
    } else if (p === '/favicon.ico') res.writeHead(204).end();
    else res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${p}`);
  });
  return new Promise<{ url: string; close: () => void }>((ok) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      ok({ url: `http://127.0.0.1:${port}`, close: () => server.close() });
    });
  });
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(join(PKG, 'dist/index.js'))) fail(`${relative(ROOT, join(PKG, 'dist/index.js'))} is missing: run \`pnpm build\` first.`);
  if (!existsSync(chromiumPath)) {
    fail(`no Chromium at ${chromiumPath}: run \`bash scripts/setup.sh\` (installs Debian's chromium) or set CHROMIUM_PATH.`);
  }
  const haveFixtures = existsSync(join(opts.fixtures, 'ops.json')) && existsSync(join(opts.fixtures, 'ops.safetensors'));
  if (!haveFixtures) console.log(`note: no op vectors at ${opts.fixtures}; running the smoke case only`);

  const { map, deps } = importMap();
  const nodeOnly = unservableImports(map);
  if (nodeOnly.length) {
    fail(`dist/index.js must run in a browser, but its imports reach modules a browser cannot load: ${nodeOnly.join(', ')}`, 1);
  }
  const server = await startServer(haveFixtures ? opts.fixtures : null, map, deps);
  const query = new URLSearchParams({ ops: opts.ops.join(',') });
  if (haveFixtures) query.set('fixtures', '/fixtures');

  // Chromium, like Dawn, wants a runtime dir; containers and CI often have none.
  process.env.XDG_RUNTIME_DIR ||= '/tmp';
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // Playwright gives every launch a fresh temporary profile (--user-data-dir).
    args: [...CHROMIUM_ARGS, ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
  });
  const version = browser.version();
  const seen = new Set<string>();
  let repeats = 0;
  let report: PageReport | null = null;
  let shot = '';
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    // Page errors and WebGPU validation messages arrive on the console: show each once (a broken
    // kernel repeats the same message for every dispatch).
    page.on('console', (m) => {
      if (m.type() !== 'error' && m.type() !== 'warning') return;
      const text = m.text().trim();
      if (seen.has(text)) repeats++;
      else {
        seen.add(text);
        console.log(`  [page ${m.type()}] ${text}`);
      }
    });
    page.on('pageerror', (e) => console.log(`  [page exception] ${e.message}`));
    page.on('requestfailed', (r) => console.log(`  [page request failed] ${r.url()} ${r.failure()?.errorText ?? ''}`));
    page.on('response', (r) => {
      if (r.status() >= 400) console.log(`  [page HTTP ${r.status()}] ${r.url()}`);
    });

    const t0 = performance.now();
    await page.goto(`${server.url}/?${query}`);
    try {
      await page.waitForFunction(() => (window as unknown as { __report?: PageReport }).__report?.done, undefined, {
        timeout: opts.timeoutS * 1000,
        polling: 250,
      });
    } catch {
      // Reported below, with the cases that did finish.
    }
    report = await page.evaluate(() => (window as unknown as { __report?: PageReport }).__report ?? null);
    if (repeats) console.log(`  (${repeats} repeated page messages not shown)`);
    console.log(`browser run took ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const dir = join(ROOT, 'test-artifacts');
    await mkdir(dir, { recursive: true });
    shot = join(dir, 'browser-test.png');
    await page.screenshot({ path: shot, fullPage: true });
  } finally {
    await browser.close();
    server.close();
  }

  console.log(`chromium: ${version}; adapter: ${report?.adapter || 'none'}`);
  let passed = 0;
  let failed = 0;
  for (const r of report?.results ?? []) {
    console.log(r.line);
    if (r.passed) passed++;
    else failed++;
  }
  const skipped = report?.skipped ?? [];
  if (skipped.length) {
    const ops = [...new Set(skipped.map((s) => s.op))];
    console.log(`skipped ${skipped.length} cases, op not implemented yet: ${ops.join(', ')}`);
  }
  if (!report) {
    console.log('FAIL the page left no report (it did not load or crashed; see the page messages above)');
    failed++;
  } else if (report.error) {
    const noGpu = /navigator\.gpu|adapter/i.test(report.error);
    console.log(`FAIL ${noGpu ? 'WebGPU unavailable in Chromium: ' : 'page error: '}${report.error}`);
    failed++;
  } else if (!report.done) {
    console.log(`FAIL the page did not finish within ${opts.timeoutS} s (cases after the last line above did not run)`);
    failed++;
  }
  if (report && report.liveBytes !== 0) console.log(`warning: ${report.liveBytes} bytes of GPU memory still live after the run`);
  if (shot) console.log(`screenshot: ${relative(process.cwd(), shot)}`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`browser test: ${(e as Error).stack ?? e}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
