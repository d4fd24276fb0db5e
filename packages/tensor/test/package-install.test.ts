/**
 * The libraries as a user gets them: `pnpm pack` of @rpsam2/tensor, @rpsam2/sam2 and
 * @rpsam2/rpsam2, the tarballs installed with npm into an empty project next to the example's
 * other dependencies (from the registry), `examples/node-quickstart` type-checked strictly
 * (skipLibCheck false; NodeNext, and bundler resolution with the browser example) and run; then
 * `examples/browser-quickstart` bundled with esbuild (no Dawn, no Node module may enter the
 * bundle) and run in headless Chromium on WebGPU (skipped without Chromium or with
 * RPSAM2_SKIP_BROWSER=1). Packs dist/ as `pnpm build` (the first step of `pnpm test`) left it;
 * skipped when it is missing. Needs the npm registry (or a warm npm cache).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { browserAvailable, launchChromium } from './browser/chromium.js';

const run = promisify(execFile);
const REPO = new URL('../../../', import.meta.url).pathname;
const EXAMPLE = join(REPO, 'examples/node-quickstart');
const BROWSER_EXAMPLE = join(REPO, 'examples/browser-quickstart');
const LIBS = ['tensor', 'sam2', 'rpsam2'] as const;
const built = LIBS.every((p) => existsSync(join(REPO, 'packages', p, 'dist/index.js')));
const root = mkdtempSync(join(tmpdir(), 'rpsam2-install-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs a command in `cwd`; on failure the error carries its output. */
async function sh(cmd: string, args: string[], cwd: string, timeout = 300_000): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(cmd, args, { cwd, timeout, maxBuffer: 64 << 20, env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' } });
  } catch (e) {
    const x = e as Error & { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${x.message}\n${x.stdout ?? ''}\n${x.stderr ?? ''}`);
  }
}

/** Serves `dir` over HTTP on localhost (static files, no listing). */
async function serve(dir: string): Promise<{ url: string; close: () => void }> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json' };
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname)).replace(/^\/+/, '');
    const file = join(dir, path || 'index.html');
    if (path.startsWith('..') || !existsSync(file) || !statSync(file).isFile()) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => server.close() };
}

describe('the packed libraries', () => {
  it.each(['README.md', 'packages/rpsam2/README.md'])('the quick start in %s is examples/node-quickstart/quickstart.ts verbatim', (file) => {
    const readme = readFileSync(join(REPO, file), 'utf8');
    const example = readFileSync(join(EXAMPLE, 'quickstart.ts'), 'utf8');
    // The block right after the marker comment that names the file.
    const m = /<!-- examples\/node-quickstart\/quickstart\.ts -->\s*```ts\n([\s\S]*?)```/.exec(readme);
    expect(m, `${file} has no \`\`\`ts block after <!-- examples/node-quickstart/quickstart.ts -->`).not.toBeNull();
    expect(m![1], `${file}: copy examples/node-quickstart/quickstart.ts into its quick start`).toBe(example);
  });

  it.skipIf(!built)(
    'pack, npm install into an empty project, strict tsc, run the Node example, bundle the browser example without Dawn and run it in Chromium',
    async () => {
      const tarballs = join(root, 'tarballs');
      mkdirSync(tarballs);
      for (const p of LIBS) await sh('pnpm', ['pack', '--pack-destination', tarballs], join(REPO, 'packages', p));
      const tgz = Object.fromEntries(LIBS.map((p) => [`@rpsam2/${p}`, join(tarballs, readdirSync(tarballs).find((f) => f.startsWith(`rpsam2-${p}-`))!)]));

      // The packed manifests: real version ranges, the fields a registry shows, the license files.
      for (const [name, file] of Object.entries(tgz)) {
        const pkg = JSON.parse((await sh('tar', ['-xzOf', file, 'package/package.json'], root)).stdout);
        expect(JSON.stringify(pkg), name).not.toContain('workspace:');
        expect(pkg.license, name).toBe('Apache-2.0');
        // No `repository` yet: the project has no public remote to point at (an invented URL would mislead).
        for (const f of ['keywords', 'engines']) expect(pkg[f], `${name} ${f}`).toBeDefined();
        const files = (await sh('tar', ['-tzf', file], root)).stdout.split('\n');
        for (const f of ['LICENSE', 'NOTICE', 'README.md', 'CHANGELOG.md']) expect(files, `${name} ships ${f}`).toContain(`package/${f}`);
      }

      // An empty project: the example's files, its package.json with the tarballs for our packages.
      const app = join(root, 'app');
      mkdirSync(app);
      for (const f of ['quickstart.ts', 'tsconfig.json']) copyFileSync(join(EXAMPLE, f), join(app, f));
      mkdirSync(join(app, 'browser'));
      for (const f of ['main.ts', 'index.html']) copyFileSync(join(BROWSER_EXAMPLE, f), join(app, 'browser', f));
      const manifest = JSON.parse(readFileSync(join(EXAMPLE, 'package.json'), 'utf8'));
      for (const name of Object.keys(tgz)) expect(manifest.dependencies[name], `example depends on ${name}`).toBeDefined();
      Object.assign(manifest.dependencies, Object.fromEntries(Object.entries(tgz).map(([n, f]) => [n, `file:${f}`])));
      writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
      await sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], app);

      // Strict type-check with the consumer's own TypeScript: NodeNext (emits), then bundler
      // resolution over both examples.
      await sh('node', ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], app);
      const strict = JSON.parse(readFileSync(join(app, 'tsconfig.json'), 'utf8'));
      const bundler = { compilerOptions: { ...strict.compilerOptions, module: 'ESNext', moduleResolution: 'Bundler', noEmit: true }, files: ['quickstart.ts', 'browser/main.ts'] };
      writeFileSync(join(app, 'tsconfig.bundler.json'), JSON.stringify(bundler));
      expect(bundler.compilerOptions.skipLibCheck).toBe(false);
      await sh('node', ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.bundler.json'], app);

      const { stdout } = await sh('node', ['dist/quickstart.js'], app);
      const refined = /refined \(([\d.]+), ([\d.]+)\)/.exec(stdout);
      const mask = /mask: (\d+) px, predicted IoU ([\d.]+)/.exec(stdout);
      expect(refined, stdout).not.toBeNull();
      expect(mask, stdout).not.toBeNull();
      expect(Number(mask![1]), 'mask area').toBeGreaterThan(0);
      console.log(`node example: ${stdout.trim().replace(/\n/g, '; ')}`);

      // Without the optional peer `webgpu`, the Node entry still imports and initNode() names the install command.
      renameSync(join(app, 'node_modules/webgpu'), join(app, 'webgpu.away'));
      try {
        const probe = "import('@rpsam2/tensor/node').then((m) => m.initNode()).then(() => console.log('no error'), (e) => console.log(e.message))";
        expect((await sh('node', ['--input-type=module', '-e', probe], app)).stdout).toMatch(/'webgpu' package, which is not installed: npm install webgpu/);
      } finally {
        renameSync(join(app, 'webgpu.away'), join(app, 'node_modules/webgpu'));
      }

      // The browser example bundled from the installed packages: no Dawn, no Node built-ins.
      const esbuild = await import('esbuild');
      const b = await esbuild.build({ entryPoints: [join(app, 'browser/main.ts')], absWorkingDir: app, bundle: true, format: 'esm', platform: 'browser', outfile: join(app, 'browser/dist/main.js'), metafile: true, logLevel: 'silent' });
      const inputs = Object.keys(b.metafile.inputs);
      expect(inputs.some((f) => f.includes('@rpsam2/rpsam2/dist/'))).toBe(true);
      expect(inputs.filter((f) => /node_modules\/webgpu\/|dawn/.test(f))).toEqual([]);
      expect(readFileSync(join(app, 'browser/dist/main.js'), 'utf8')).not.toMatch(/from\s*["']node:|require\(["']node:/);
      if (!browserAvailable()) return;

      // …and run in headless Chromium: the page serves the project, so node_modules/@rpsam2/*/models are there.
      writeFileSync(join(app, 'index.html'), readFileSync(join(app, 'browser/index.html'), 'utf8').replace('src="dist/main.js"', 'src="browser/dist/main.js"'));
      const server = await serve(app);
      const browser = await launchChromium();
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const page = await browser.newPage();
        // The example logs its result line, or fails with a page error.
        const done = new Promise<string>((resolve, reject) => {
          page.on('console', (m) => m.text().startsWith('click ') && resolve(m.text()));
          page.on('pageerror', (e) => reject(new Error(`the browser example failed: ${e.message}`)));
          timer = setTimeout(() => reject(new Error('no result from the browser example in 240 s')), 240_000);
        });
        await page.goto(server.url);
        const line = await done;
        const area = /mask: (\d+) px, predicted IoU ([\d.]+)/.exec(line);
        expect(area, line).not.toBeNull();
        expect(Number(area![1]), 'mask area in the browser').toBeGreaterThan(0);
        console.log(`browser example: ${line}`);
      } finally {
        clearTimeout(timer);
        await browser.close();
        server.close();
      }
    },
    600_000,
  );
});
