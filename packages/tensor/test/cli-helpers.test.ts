/**
 * The Node helpers every CLI shares (issue #22): output folders that fail at once with a clear
 * message instead of hanging (Node 20's recursive mkdir spins forever under /proc), and one
 * error printer (the message; the stack only when asked for).
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { debugRequested, ensureOutputDir, errorText, withOutputDir, withoutDebugFlag } from '../src/node.js';

const root = mkdtempSync(join(tmpdir(), 'tensor-cli-helpers-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('ensureOutputDir', () => {
  it('creates missing levels and leaves no probe file behind', async () => {
    const dir = join(root, 'a', 'b', 'c');
    await ensureOutputDir(dir);
    expect(existsSync(dir)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
    await ensureOutputDir(dir); // an existing folder is fine
  });

  it('a path under /proc fails at once with the path and the fix (no spin)', async () => {
    const t0 = performance.now();
    await expect(ensureOutputDir('/proc/rpsam2-test/out')).rejects.toThrow(
      '/proc/rpsam2-test/out: cannot use as an output folder (cannot create /proc/rpsam2-test: ENOENT); choose a folder you can write to',
    );
    await expect(ensureOutputDir('/proc/rpsam2-test/out')).rejects.toMatchObject({ code: 'ERR_OUTPUT_DIR' });
    expect(performance.now() - t0).toBeLessThan(2000);
  }, 5000);

  it('a file in the way, and a folder that cannot be written', async () => {
    const file = join(root, 'file');
    writeFileSync(file, 'x');
    await expect(ensureOutputDir(join(file, 'sub'))).rejects.toThrow(`${join(file, 'sub')}: cannot use as an output folder (${file} is not a folder)`);
    const ro = join(root, 'ro');
    await ensureOutputDir(ro);
    chmodSync(ro, 0o500);
    try {
      // root ignores permissions; the check only means something for other users.
      if (process.getuid?.() !== 0) await expect(ensureOutputDir(ro)).rejects.toThrow(/cannot write files in it: EACCES/);
    } finally {
      chmodSync(ro, 0o700);
    }
  });

  it('withOutputDir removes the folders it created when the work fails, keeps them otherwise', async () => {
    const dir = join(root, 'w1', 'w2');
    await expect(withOutputDir(dir, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(existsSync(join(root, 'w1'))).toBe(false);
    expect(await withOutputDir(dir, async () => 7)).toBe(7);
    expect(existsSync(dir)).toBe(true);
  });
});

describe('errorText / debugRequested', () => {
  const saved = { DEBUG: process.env.DEBUG, RPSAM2_DEBUG: process.env.RPSAM2_DEBUG };
  afterAll(() => Object.assign(process.env, saved));

  it('the message alone; the stack and causes with debugging', () => {
    const e = new Error('x.png: not a PNG or JPEG file', { cause: new RangeError('deep') });
    expect(errorText(e, false)).toBe('x.png: not a PNG or JPEG file');
    expect(errorText(e, true)).toMatch(/^Error: x\.png: not a PNG or JPEG file\n\s+at [^]*caused by: RangeError: deep/);
    expect(errorText('plain', true)).toBe('plain');
  });

  it('--debug, DEBUG=1 or RPSAM2_DEBUG=1 turn it on; DEBUG=0 does not', () => {
    delete process.env.DEBUG;
    delete process.env.RPSAM2_DEBUG;
    expect(debugRequested(['node', 'x'])).toBe(false);
    expect(debugRequested(['node', 'x', '--debug'])).toBe(true);
    process.env.DEBUG = '0';
    expect(debugRequested([])).toBe(false);
    process.env.DEBUG = '1';
    expect(debugRequested([])).toBe(true);
    delete process.env.DEBUG;
    process.env.RPSAM2_DEBUG = '1';
    expect(debugRequested([])).toBe(true);
    expect(withoutDebugFlag(['a', '--debug', 'b'])).toEqual(['a', 'b']);
  });
});
