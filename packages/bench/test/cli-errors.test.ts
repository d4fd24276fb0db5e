/**
 * The built `bench` and `check-ops` binaries on bad input (issue #22): a clear message and the
 * documented exit status, no JavaScript stack (that only with --debug), and an unusable --out
 * failing at once instead of spinning forever (Node 20's recursive mkdir under /proc). Runs
 * against dist/ (built by `pnpm build`); skipped when it is missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from './helpers/fixtures.js';

const BENCH = new URL('../dist/cli.js', import.meta.url).pathname;
const CHECK_OPS = new URL('../../tensor/dist/cli/check-ops.js', import.meta.url).pathname;
const STACK = /\n\s+at /;

/** Runs a binary with a hard timeout, so a hang fails the test instead of the suite. */
function run(bin: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', DEBUG: '', RPSAM2_DEBUG: '', ...env } });
  return { code: r.status, signal: r.signal, err: r.stderr, out: r.stdout };
}

const tmp = useTempDir('bench-cli-errors');

describe.skipIf(!existsSync(BENCH))('bench: errors (built CLI, child process)', () => {
  it('generate and table1 with an --out under /proc: exit 2 at once, naming the path', () => {
    const g = run(BENCH, ['generate', '/proc/rpsam2-test/data', '--cases', '1']);
    expect(g.signal).toBeNull();
    expect(g.code).toBe(2);
    expect(g.err).toMatch(/bench generate: \/proc\/rpsam2-test\/data: cannot use as an output folder \(cannot create \/proc\/rpsam2-test: ENOENT\); choose a folder you can write to/);
    const t = run(BENCH, ['table1', '--out', '/proc/rpsam2-test/run']);
    expect(t.signal).toBeNull();
    expect(t.code).toBe(2);
    expect(t.err).toMatch(/bench: \/proc\/rpsam2-test\/run: cannot use as an output folder/);
  }, 30_000);

  it('a --data folder that does not exist: exit 2 before a run folder is made', () => {
    const r = run(BENCH, ['table1', '--data', join(tmp.dir, 'missing'), '--out', join(tmp.dir, 'run-missing')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bench: --data .*missing: not found \(give the dataset's root folder\)/);
    expect(existsSync(join(tmp.dir, 'run-missing'))).toBe(false);
  });

  it('a dataset error: the message and exit 1, no stack; the stack with --debug or DEBUG=1', () => {
    mkdirSync(join(tmp.dir, 'empty'), { recursive: true });
    const args = ['table1', '--data', join(tmp.dir, 'empty'), '--out', join(tmp.dir, 'run')];
    const r = run(BENCH, args);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bench: cataract1k: 1 error, 0 warnings\n\s+error: .*empty: no Annotations\/Images-and-Supervisely-Annotations folder here/);
    expect(r.err).not.toMatch(STACK);
    expect(run(BENCH, [...args.slice(0, -1), join(tmp.dir, 'run2'), '--debug']).err).toMatch(STACK);
    expect(run(BENCH, [...args.slice(0, -1), join(tmp.dir, 'run3')], { DEBUG: '1' }).err).toMatch(STACK);
  }, 60_000);
});

describe.skipIf(!existsSync(CHECK_OPS))('check-ops: errors (built CLI, child process)', () => {
  it('a missing folder: the path, the fix, exit 2, no stack', () => {
    const r = run(CHECK_OPS, [join(tmp.dir, 'nothing')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/check-ops: .*nothing\/ops\.json: cannot read \(ENOENT\); give a folder holding ops\.json and ops\.safetensors/);
    expect(r.err).not.toMatch(STACK);
  });
});
