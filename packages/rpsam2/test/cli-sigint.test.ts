/**
 * The real thing: the built `rpsam2` binary in a child process gets SIGINT during training,
 * finishes its step, saves and exits with 130; the checkpoint matches the log. Runs against
 * dist/ (built by `pnpm build`, which `pnpm test` runs first); skipped when it is missing.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../src/checkpoint/checkpoint.js';
import { SAM2_DIR, SAM2_WEIGHTS } from './helpers/tiny-sam2.js';

const BIN = new URL('../dist/cli/rpsam2.js', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'rpsam2-sigint-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function run(args: string[], onStart?: (child: ReturnType<typeof spawn>) => void): Promise<{ code: number | null; signal: string | null; err: string; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, err, out }));
    onStart?.(child);
  });
}

describe.skipIf(!existsSync(BIN))('rpsam2 train under SIGINT (built CLI, child process)', () => {
  it('finishes the step, saves last, exits 130; the checkpoint and the log agree', async () => {
    const cache = join(root, 'cache');
    const meta = SAM2_DIR + 'meta.json';
    const c = await run(['candidates', '--data', 'synthetic:2:9', '--out', cache, '--sam2-weights', SAM2_WEIGHTS, '--sam2-config', meta]);
    expect(c.err + c.out).toMatch(/done: 2 images computed/);
    expect(c.code).toBe(0);
    const out = join(root, 'run');
    const cfg = join(root, 'cfg.json');
    writeFileSync(cfg, JSON.stringify({ out, sam2: { weights: SAM2_WEIGHTS, config: meta }, shiftBlock: 'tiny', data: { cache, valFraction: 0 }, epochs: 1000, batchSize: 1, clicksPerObject: 2 }));
    const log = join(out, 'log.jsonl');
    const trainLines = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('"type":"train"')).length : 0);
    const r = await run(['train', '--config', cfg], (child) => {
      const timer = setInterval(() => {
        if (trainLines() >= 2) {
          clearInterval(timer);
          child.kill('SIGINT');
        }
      }, 100);
      child.on('exit', () => clearInterval(timer));
    });
    expect(r.err).toMatch(/stopping: finishing the current step/);
    expect(r.code).toBe(130);
    expect(r.out).toMatch(/interrupted: epoch \d+\/1000, \d+ steps.*; saved .*last\.safetensors \(continue with --resume\)/);
    const ck = await openCheckpoint(join(out, 'checkpoints', 'last.safetensors'));
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const lastTrain = lines.filter((l) => l.type === 'train').at(-1);
    expect(ck.meta!.state.globalStep).toBeGreaterThanOrEqual(2);
    expect(ck.meta!.state.globalStep).toBe(lastTrain.step);
    expect(lines.at(-1)).toMatchObject({ type: 'event', event: 'stopped', step: ck.meta!.state.globalStep });
    expect(JSON.parse(readFileSync(join(out, 'checkpoints', 'last.json'), 'utf8')).state.globalStep).toBe(ck.meta!.state.globalStep);
  }, 300_000);

  it('Ctrl-C then SIGTERM (a wrapper escalating the second Ctrl-C) exits 130, not 143', async () => {
    const out = join(root, 'run-term');
    const cfg = join(root, 'cfg-term.json');
    writeFileSync(cfg, JSON.stringify({ out, sam2: { weights: SAM2_WEIGHTS, config: SAM2_DIR + 'meta.json' }, shiftBlock: 'tiny', data: { cache: join(root, 'cache'), valFraction: 0 }, epochs: 1000, batchSize: 1, clicksPerObject: 2 }));
    const log = join(out, 'log.jsonl');
    const r = await run(['train', '--config', cfg], (child) => {
      const timer = setInterval(() => {
        if (existsSync(log) && readFileSync(log, 'utf8').includes('"type":"train"')) {
          clearInterval(timer);
          child.kill('SIGINT');
          setTimeout(() => child.kill('SIGTERM'), 50);
        }
      }, 100);
      child.on('exit', () => clearInterval(timer));
    });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(130);
  }, 300_000);
});
