/**
 * `rpsam2 train` (in process) when the GPU device is lost mid-run (`device.destroy()` from the
 * progress callback): with a checkpoint it makes a new device, resumes from `last` and ends with
 * the same weights as an uninterrupted run; without one it stops with status 1 and says how to
 * continue. And the out folder is locked: a second writer is refused (status 2).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBackend } from '@rpsam2/tensor';
import { initNode, lockFolder } from '@rpsam2/tensor/node';
import { runCli } from '../src/cli/run.js';
import type { CliIO } from '../src/cli/common.js';
import { openCheckpoint } from '../src/checkpoint/checkpoint.js';
import { SAM2_DIR, SAM2_WEIGHTS } from './helpers/tiny-sam2.js';

const root = mkdtempSync(join(tmpdir(), 'rpsam2-train-lost-'));
const META = SAM2_DIR + 'meta.json';
const cache = join(root, 'cache');
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** `rpsam2 …` in process, on a terminal-like progress stream; `lose(step)` destroys the device at the first progress draw where it returns true. */
async function cli(args: string[], lose?: (epoch: number, step: number) => boolean) {
  const out: string[] = [];
  const err: string[] = [];
  let lost = false;
  const io: CliIO = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    progress: {
      isTTY: true,
      write: (s: string) => {
        err.push(s);
        const m = /epoch (\d+)\/\d+ step (\d+)\//.exec(s);
        if (lose && !lost && m && lose(Number(m[1]), Number(m[2]))) {
          lost = true;
          getBackend().device.destroy();
        }
      },
    },
  };
  const code = await runCli(args, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function config(name: string, extra: Record<string, unknown> = {}): string {
  const p = join(root, `${name}.json`);
  writeFileSync(p, JSON.stringify({ out: join(root, name), sam2: { weights: SAM2_WEIGHTS, config: META }, shiftBlock: 'tiny', data: { cache, valFraction: 0 }, epochs: 1, batchSize: 1, clicksPerObject: 2, val: { clicksPerObject: 1 }, ...extra }));
  return p;
}

async function lastWeights(name: string): Promise<Record<string, number[]>> {
  const ck = await openCheckpoint(join(root, name, 'checkpoints', 'last.safetensors'), { prefer: 'last' });
  const w: Record<string, number[]> = {};
  for (const k of ck.file.keys()) w[k] = Array.from(await ck.file.readF32(k));
  return w;
}

describe('rpsam2 train and a lost GPU device', () => {
  beforeAll(async () => {
    const c = await cli(['candidates', '--data', 'synthetic:2:4', '--out', cache, '--sam2-weights', SAM2_WEIGHTS, '--sam2-config', META]);
    expect(c.code).toBe(0);
  });

  it('with a checkpoint: a new device, resumed from last, the same weights as without the loss', async () => {
    const plain = await cli(['train', '--config', config('plain', { checkpointEvery: 1 })]);
    expect(plain.code).toBe(0);
    const r = await cli(['train', '--config', config('lost', { checkpointEvery: 1 })], (_epoch, step) => step >= 2);
    expect(r.err).toMatch(/the GPU device was lost \(destroyed: .*\); re-creating it and resuming from .*last\.safetensors/);
    expect(r.err).toMatch(/resumed from .*last\.safetensors/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/done: epoch 1\/1/);
    expect(await lastWeights('lost')).toEqual(await lastWeights('plain'));
  });

  it('without a checkpoint: stops with status 1 and says what to do', async () => {
    const r = await cli(['train', '--config', config('early')], () => true);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/rpsam2 train: The GPU device was lost \(destroyed.*\n.*training stopped \(the GPU device was lost\); no checkpoint was saved yet: rerun the command/);
    // The device stays lost until someone makes a new one (the CLI exits; here the next test needs it).
    expect(getBackend().isLost).toBe(true);
    await initNode();
  });

  it('refuses a run folder or a feature cache that another writer holds (status 2, the holder named)', async () => {
    const cfg = config('held');
    mkdirSync(join(root, 'held'));
    const lock = await lockFolder(join(root, 'held'), 'a test');
    const cacheLock = await lockFolder(cache, 'a test');
    try {
      const r = await cli(['train', '--config', cfg]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(new RegExp(`held is in use by process ${process.pid} .*\\(a test, since`));
      const c = await cli(['candidates', '--data', 'synthetic:2:4', '--out', cache, '--sam2-weights', SAM2_WEIGHTS, '--sam2-config', META]);
      expect(c.code).toBe(2);
      expect(c.err).toMatch(new RegExp(`cache is in use by process ${process.pid} .*\\(a test, since`));
    } finally {
      await lock.release();
      await cacheLock.release();
    }
  });
});
