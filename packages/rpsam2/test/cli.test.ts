import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeGreyPng } from '@rpsam2/sam2';
import { runCli } from '../src/cli/run.js';
import type { CliIO } from '../src/cli/common.js';
import { loadShiftBlockFrom, openCheckpoint } from '../src/checkpoint/checkpoint.js';
import { FeatureCache } from '../src/cache/feature-cache.js';
import { SAM2_DIR, SAM2_WEIGHTS } from './helpers/tiny-sam2.js';

const root = mkdtempSync(join(tmpdir(), 'rpsam2-cli-'));
const META = SAM2_DIR + 'meta.json';

/** Runs `rpsam2 …` in process; `interrupt` calls the command's stop hook as soon as it registers (as SIGINT would). */
async function cli(args: string[], options: { interrupt?: boolean } = {}): Promise<{ code: number; out: string; err: string; progress: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const progress: string[] = [];
  const io: CliIO = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    progress: { write: (s: string) => progress.push(s), isTTY: false },
    onInterruptible: (stop) => {
      if (options.interrupt) stop();
    },
  };
  const code = await runCli(args, io);
  return { code, out: out.join('\n'), err: err.join('\n'), progress: progress.join('') };
}

function writeConfig(name: string, cfg: Record<string, unknown>): string {
  const p = join(root, name);
  writeFileSync(p, JSON.stringify(cfg));
  return p;
}

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('rpsam2 CLI', () => {
  it('usage and unknown commands', async () => {
    expect((await cli([])).code).toBe(2);
    const u = await cli(['fly']);
    expect(u.code).toBe(2);
    expect(u.err).toMatch(/unknown command 'fly'/);
    expect((await cli(['--help'])).out).toMatch(/train .*\n.*predict .*\n.*candidates/);
    expect((await cli(['train', '--help'])).out).toMatch(/--resume/);
    expect((await cli(['train', '--bogus'])).code).toBe(2);
  });

  it('candidates → train (interrupted, then resumed) → predict, end to end on the tiny fixture', async () => {
    const cache = join(root, 'cache');
    const c = await cli(['candidates', '--data', 'synthetic:2:4', '--out', cache, '--sam2-weights', SAM2_WEIGHTS, '--sam2-config', META, '--f16']);
    expect(c.err).not.toMatch(/Error/);
    expect(c.code).toBe(0);
    expect(c.out).toMatch(/done: 2 images computed, 0 already cached/);
    expect((await FeatureCache.open(cache)).settings.dtype).toBe('f16');
    // Rerun: nothing to do.
    expect((await cli(['candidates', '--data', 'synthetic:2:4', '--out', cache, '--sam2-weights', SAM2_WEIGHTS, '--sam2-config', META, '--f16'])).out).toMatch(/0 images computed, 2 already cached/);

    const out = join(root, 'run');
    const cfg = writeConfig('train.json', {
      out,
      sam2: { weights: SAM2_WEIGHTS, config: META },
      shiftBlock: 'tiny',
      data: { cache, valFraction: 0 },
      epochs: 2,
      batchSize: 2,
      clicksPerObject: 2,
      val: { clicksPerObject: 1 },
    });
    // Interrupted at once: saves `last` (step 0) and exits 130.
    const t1 = await cli(['train', '--config', cfg, '--set', 'lr=0.001'], { interrupt: true });
    expect(t1.err).toMatch(/shift block: d 32, 8 heads, FFN 64, 6 layers, 256 image tokens: [\d,]+ trainable parameters/);
    expect(t1.code).toBe(130);
    expect(t1.out).toMatch(/interrupted: .*continue with --resume/);
    expect(existsSync(join(out, 'checkpoints', 'last.safetensors'))).toBe(true);
    // Never overwrites a run by accident.
    const again = await cli(['train', '--config', cfg]);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/already holds a run .* --resume/);
    const t2 = await cli(['train', '--config', cfg, '--set', 'lr=0.001', '--resume']);
    expect(t2.code).toBe(0);
    expect(t2.progress).toMatch(/resumed from .*last\.safetensors: epoch 1, step 0\/2, 0 steps done/);
    expect(t2.progress).toMatch(/epoch 2\/2: val Dice [\d.]+ \(raw clicks [\d.]+\), in candidates/);
    expect(t2.progress).toMatch(/epoch 1\/2 step 1\/2 \| loss [\d.]+ \(dice [\d.]+ dist [\d.]+ out [\d.]+\) \| [\d.]+ clicks\/s/);
    expect(t2.out).toMatch(/done: epoch 2\/2/);
    const best = await openCheckpoint(out);
    expect(best.meta!.kind).toBe('best');
    expect((best.meta!.config as { lr: number }).lr).toBe(0.001);
    expect(readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').length).toBeGreaterThan(2);
    // Fine-tuning (initFrom): the new run starts from the trained block's best weights.
    const tuned = join(root, 'tuned');
    const ft = await cli(['train', '--config', cfg, '--set', `out=${tuned}`, '--set', `initFrom=${out}`], { interrupt: true });
    expect(ft.code).toBe(130);
    expect(ft.err).toMatch(/shift block: from .*run \(its sizes and head/);
    const [a, b] = [await loadShiftBlockFrom(best), await loadShiftBlockFrom(await openCheckpoint(tuned, { prefer: 'last' }))];
    for (const [name, slot] of a.namedParams()) expect(Array.from(await b.namedParams().find(([n]) => n === name)![1].get(name).data()), name).toEqual(Array.from(await slot.get(name).data()));
    a.dispose();
    b.dispose();
    expect((await cli(['train', '--config', cfg, '--set', `out=${join(root, 'tuned2')}`, '--set', `initFrom=${join(root, 'nothing')}`])).err).toMatch(/initFrom .*nothing/);

    const pred = join(root, 'pred');
    const p = await cli(['predict', '--image', SAM2_DIR + 'image.png', '--point', '120,202', '--point', '300,100', '--sam2-weights', SAM2_WEIGHTS, '--sam2-config', META, '--shift-block', out, '--out', pred]);
    expect(p.err).toBe('');
    expect(p.code).toBe(0);
    const json = JSON.parse(readFileSync(join(pred, 'refined.json'), 'utf8'));
    expect(json.width).toBe(400);
    expect(json.height).toBe(300);
    expect(json.clicks.map((c: { click: number[] }) => c.click)).toEqual([[120, 202], [300, 100]]);
    for (const c of json.clicks) {
      expect(c.refined.length).toBe(2);
      const png = decodeGreyPng(new Uint8Array(readFileSync(join(pred, c.mask))));
      expect([png.width, png.height]).toEqual([400, 300]);
      expect(png.data.filter((v) => v === 255).length).toBe(c.area);
    }
  });

  it('clear errors for missing or bad inputs (exit 2, nothing written)', async () => {
    const cases: [string[], RegExp][] = [
      [['train'], /--config is required/],
      [['train', '--config', join(root, 'none.json')], /--config .*none\.json: cannot read \(ENOENT\)/],
      [['train', '--config', writeConfig('bad.json', { epochs: 'x' } as never)], /epochs must be a number/],
      [['train', '--config', writeConfig('unknown.json', { epoch: 3 })], /unknown key 'epoch'/],
      // No weights: the embedded default model is used, so the next problem is reported.
      [['train', '--config', writeConfig('noweights.json', { out: join(root, 'x') })], /mode 'cached' needs data\.cache/],
      [['train', '--config', writeConfig('missingweights.json', { out: join(root, 'x'), sam2: { weights: join(root, 'nope.pt') } })], /sam2\.weights .*nope\.pt: cannot read \(ENOENT\)/],
      [['train', '--config', writeConfig('nocache.json', { out: join(root, 'x'), sam2: { weights: SAM2_WEIGHTS, config: META } })], /mode 'cached' needs data\.cache/],
      [['train', '--config', writeConfig('resume.json', { out: join(root, 'fresh'), sam2: { weights: SAM2_WEIGHTS } }), '--resume'], /--resume: .*does not exist \(nothing to resume/],
      [['train', '--config', writeConfig('set.json', { out: join(root, 'x'), sam2: { weights: SAM2_WEIGHTS } }), '--set', 'loss.nope=1'], /unknown key 'loss\.nope'/],
      [['predict', '--out', join(root, 'p'), '--point', '1,2'], /--image is required/],
      [['predict', '--image', SAM2_DIR + 'image.png', '--out', join(root, 'p'), '--point', '1;2'], /--point '1;2': expected x,y/],
      [['predict', '--image', SAM2_DIR + 'image.png', '--out', join(root, 'p'), '--point', '1,2', '--sam2-weights', SAM2_WEIGHTS], /no shift block given for SAM 2 weights .*fits only the embedded default model 'sam2\.1-synthetic'\. Train one/],
      [['predict', '--image', SAM2_DIR + 'image.png', '--out', join(root, 'p'), '--point', '1,2', '--sam2-weights', SAM2_WEIGHTS, '--shift-block', join(root, 'no-run')], /--shift-block .*no-run: not found/],
      [['predict', '--image', SAM2_DIR + 'image.png', '--out', join(root, 'p'), '--point', '500,2', '--sam2-weights', SAM2_WEIGHTS, '--shift-block', SAM2_WEIGHTS], /--point 500,2: click 500,2 lies outside the 400×300 image/],
      [['predict', '--image', SAM2_DIR + 'image.png', '--out', join(root, 'p'), '--point', '5,2', '--sam2-weights', SAM2_WEIGHTS, '--shift-block', SAM2_WEIGHTS, '--sam2-config', 'huge'], /SAM 2 config 'huge'/],
      [['candidates', '--out', join(root, 'c')], /--data is required/],
      [['candidates', '--data', 'synthetic:2', '--out', join(root, 'c'), '--sam2-config', 'huge'], /SAM 2 config 'huge'/],
      [['candidates', '--data', 'nope:3', '--out', join(root, 'c'), '--sam2-weights', SAM2_WEIGHTS], /unknown kind 'nope'/],
      [['candidates', '--data', join(root, 'missing.json'), '--out', join(root, 'c'), '--sam2-weights', SAM2_WEIGHTS], /missing\.json: cannot read/],
      [['candidates', '--data', 'synthetic:x', '--out', join(root, 'c'), '--sam2-weights', SAM2_WEIGHTS], /expected synthetic:<count>/],
      [['candidates', '--data', 'synthetic:2', '--out', join(root, 'c'), '--sam2-weights', SAM2_WEIGHTS, '--grid-step', '0'], /--grid-step '0'/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(re);
    }
    expect(existsSync(join(root, 'p'))).toBe(false);
    expect(existsSync(join(root, 'c'))).toBe(false);
    expect(existsSync(join(root, 'x'))).toBe(false);
  });

  it('predict with neither SAM 2 weights nor a shift block: the default pair, and it says so', async () => {
    const dir = join(root, 'default-pair');
    const r = await cli(['predict', '--image', SAM2_DIR + 'image.png', '--point', '120,202', '--out', dir]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/using the embedded default model 'sam2\.1-synthetic'/);
    expect(r.err).toMatch(/no shift block given: using the default shift block trained by this project for 'sam2\.1-synthetic'.*MODEL_CARD\.md/);
    const json = JSON.parse(readFileSync(join(dir, 'refined.json'), 'utf8'));
    expect(json.shiftBlock).toMatch(/models[/\\]synthetic[/\\]weights\.safetensors$/);
    expect(json.clicks[0].click).toEqual([120, 202]);
    expect(json.clicks[0].refined.every((v: number) => Number.isFinite(v))).toBe(true);
  });

  it('a shift block that does not fit the SAM 2 model is an error, not a crash', async () => {
    const r = await cli(['predict', '--image', SAM2_DIR + 'image.png', '--out', join(root, 'p2'), '--point', '5,2', '--sam2-weights', SAM2_WEIGHTS, '--sam2-config', META, '--shift-block', SAM2_WEIGHTS]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/not a shift block file \(no 'p_pos'\)/);
    expect(existsSync(join(root, 'p2'))).toBe(false);
  });
});

/** Issue #22's faults found by hand: each fails (or hangs, caught by the timeout) on the old code. */
describe('rpsam2 CLI reliability', () => {
  it('an --out (or out=) under /proc fails at once with exit 2, before loading; no hang', async () => {
    // (400, 300) is the 400×300 image's bottom-right edge: accepted, so the --out check is what fails.
    const p = await cli(['predict', '--image', SAM2_DIR + 'image.png', '--point', '400,300', '--out', '/proc/rpsam2-test/p', '--sam2-weights', SAM2_WEIGHTS, '--sam2-config', META, '--shift-block', SAM2_WEIGHTS]);
    expect(p.code, p.err).toBe(2);
    expect(p.err).toMatch(/\/proc\/rpsam2-test\/p: cannot use as an output folder \(cannot create \/proc\/rpsam2-test: ENOENT\)/);
    const cfg = writeConfig('proc.json', { out: join(root, 'unused'), sam2: { weights: SAM2_WEIGHTS, config: META }, shiftBlock: 'tiny', data: { dataset: 'synthetic:2' }, mode: 'on-the-fly' });
    const t = await cli(['train', '--config', cfg, '--set', 'out=/proc/rpsam2-test/run']);
    expect(t.code, t.err).toBe(2);
    expect(t.err).toMatch(/\/proc\/rpsam2-test\/run: cannot use as an output folder/);
    const c = await cli(['candidates', '--data', 'synthetic:2', '--out', '/proc/rpsam2-test/c', '--sam2-weights', SAM2_WEIGHTS, '--sam2-config', META]);
    expect(c.code, c.err).toBe(2);
    expect(c.err).toMatch(/cannot use as an output folder/);
  }, 20_000);

  it('NaN and infinite clicks are usage errors', async () => {
    for (const bad of ['NaN,2', '3,-Infinity']) {
      const r = await cli(['predict', '--image', SAM2_DIR + 'image.png', '--point', bad, '--out', join(root, 'nan')]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/--point '.*': expected x,y in pixels/);
    }
  });

  it('a failure prints the message only; the stack with --debug', async () => {
    const bad = join(root, 'bad.png');
    writeFileSync(bad, 'not an image');
    const args = ['predict', '--image', bad, '--point', '1,1', '--out', join(root, 'bad-out'), '--sam2-weights', SAM2_WEIGHTS, '--sam2-config', META, '--shift-block', SAM2_WEIGHTS];
    const plain = await cli(args);
    expect(plain.code).toBe(1);
    expect(plain.err).toMatch(/bad\.png: not a PNG or JPEG file/);
    expect(plain.err).not.toMatch(/\n\s+at /);
    const debug = await cli([...args, '--debug']);
    expect(debug.err).toMatch(/\n\s+at /);
  });
});
