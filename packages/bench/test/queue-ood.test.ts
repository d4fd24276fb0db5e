/**
 * `bench ood --queue` (issue #23): the same tiny OOD run (tiny256 fixture SAM 2 and shift block, a
 * generated CaDIS-like domain of 3 videos × 2 frames at 96×72, shares 0 and 50 %, 2 seeds, 2 steps
 * per fine-tune) once in one process and once with each share's test evaluation sharded over two
 * `bench worker` child processes through a private redis-server. Every group of the evaluation
 * goes through the queue: SAM 2 with the zero-shot and the fine-tuned shift block, and both SAM2-FT
 * models (loaded by the workers from the run's exported weights). The samples file, ood.csv,
 * ood.md and every number of results.json must be the same.
 *
 * Needs `redis-server` (`bash scripts/setup.sh` installs Debian's), `pnpm build` (both runs and
 * the workers are the built CLI) and the shared fixtures; without the first two the test fails
 * with a message saying so.
 */
import { spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseOodArgs } from '../src/ood/command.js';
import { BENCH, HAVE_FIXTURES, TINY_MODELS, queueHarness } from './helpers/queue-harness.js';

const RUN = [...TINY_MODELS, ...['--cases', '3', '--frames', '2', '--size', '96x72', '--shares', '0,50', '--seeds', '2', '--steps', '2', '--ft-steps', '2', '--grid-step', '24']];
const q = queueHarness('queue-ood');

/** results.json without what differs between any two runs (where and when, stage timings, paths into the run). */
async function resultsNumbers(dir: string) {
  const text = (await readFile(join(dir, 'results.json'), 'utf8')).split(dir).join('<run>');
  const r = JSON.parse(text);
  delete r.runDir;
  delete r.writtenAt;
  delete r.timings;
  return r;
}

describe('bench ood --queue flags', () => {
  it('takes --queue/--queue-name out of the run flags (allowed with --resume) and refuses bad ones', () => {
    const a = parseOodArgs(['--seeds', '2', '--queue', 'redis://127.0.0.1:6390', '--queue-name', 'ood-q']);
    expect(a.queue).toMatchObject({ queueName: 'ood-q', target: { display: 'redis://127.0.0.1:6390' } });
    expect(a.config!.protocol.seeds).toEqual([0, 1]);
    expect(JSON.stringify(a.config)).not.toMatch(/queue|6390/);
    const r = parseOodArgs(['--resume', 'runs/x', '--queue', 'redis://127.0.0.1:6390']);
    expect(r).toMatchObject({ resume: 'runs/x', queue: { queueName: 'rpsam2' } });
    expect(parseOodArgs([]).queue).toBeUndefined();
    expect(() => parseOodArgs(['--queue-name', 'q'])).toThrow(/--queue-name needs --queue/);
    expect(() => parseOodArgs(['--queue'])).toThrow(/--queue needs a value/);
    expect(() => parseOodArgs(['--queue', 'redis://h:6379', '--queue-name', 'a b'])).toThrow(/letters, digits/);
  });
});

describe.skipIf(!HAVE_FIXTURES)('bench ood --queue', () => {
  it('shards every share’s evaluation over two workers: samples.jsonl, ood.csv, ood.md and results.json numbers are identical', async () => {
    const queueName = `ood-${process.pid}-${Date.now()}`;
    const ws = [q.startWorker(queueName, 'w0'), q.startWorker(queueName, 'w1')];
    const a = join(q.dir, 'local');
    const b = join(q.dir, 'queued');
    const local = spawnSync(process.execPath, [BENCH, 'ood', ...RUN, '--out', a], { encoding: 'utf8', timeout: 120_000 });
    expect(local.status, local.stderr).toBe(0);
    const queued = spawnSync(process.execPath, [BENCH, 'ood', ...RUN, '--out', b, '--queue', q.url, '--queue-name', queueName], { encoding: 'utf8', timeout: 120_000 });
    expect(queued.status, queued.stderr).toBe(0);
    // Per share: SAM 2's group (zero-shot and fine-tuned block) and both SAM2-FT models went through the queue.
    for (const g of [/evaluate SAM 2 \(.*\): \d+ shards of 1 frame\(s\) queued on redis:\/\/127\.0\.0\.1:\d+/, /evaluate SAM2-FT \(SAM 2 masks\) @0%: \d+ shards/, /evaluate SAM2-FT \(RP-SAM2 masks\) @50%: \d+ shards/]) {
      expect(queued.stdout).toMatch(g);
    }
    expect((queued.stdout.match(/: \d+ shards of 1 frame\(s\) queued/g) ?? []).length).toBe(6);
    expect(local.stdout).not.toMatch(/shards of/);
    expect(queued.stdout.trim().split('\n').at(-1)).toBe(`report: ${b}`);

    const samples = await readFile(join(a, 'samples.jsonl'));
    expect(samples.length).toBeGreaterThan(0);
    expect(Buffer.compare(samples, await readFile(join(b, 'samples.jsonl')))).toBe(0);
    for (const f of ['ood.csv', 'ood.md']) expect((await readFile(join(b, f), 'utf8')).split(b).join('<run>'), f).toBe((await readFile(join(a, f), 'utf8')).split(a).join('<run>'));
    expect(await resultsNumbers(b)).toEqual(await resultsNumbers(a));
    // The shards were merged and removed; the workers ran them (both kinds of job data: the OOD run's config.json opened).
    expect(await readdir(b)).not.toContain('shards');
    expect(ws.map((w) => (w.out().match(/: table1-shard /g) ?? []).length).reduce((x, y) => x + y, 0)).toBeGreaterThanOrEqual(6);
    for (const w of ws) expect(w.out()).not.toMatch(/failed/);

    for (const w of ws) w.child.kill('SIGTERM');
    expect(await Promise.all(ws.map((w) => w.exit))).toEqual([0, 0]);
    for (const w of ws) expect(w.out()).toMatch(/GPU pool: 0 live bytes/);
  }, 280_000);
});
