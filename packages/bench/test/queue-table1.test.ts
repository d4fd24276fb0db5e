/**
 * `bench table1 --queue` (issue #23): the same tiny Table 1 run (tiny256 fixture SAM 2, the
 * fixture's shift block, a generated set, 2 seeds) once in one process and once with its
 * evaluation sharded over two `bench worker` child processes through a private redis-server. The
 * samples file, the tables and every number of results.json must be the same bytes.
 *
 * Needs `redis-server` (`bash scripts/setup.sh` installs Debian's), `pnpm build` (both runs and
 * the workers are the built CLI) and the shared fixtures; without the first two the test fails
 * with a message saying so.
 */
import { spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BENCH, HAVE_FIXTURES, TINY_MODELS, queueHarness } from './helpers/queue-harness.js';

const RUN = [...TINY_MODELS, ...['--cases', '2', '--frames', '2', '--size', '96x72', '--instruments', '2', '--seeds', '2', '--heatmaps', '0']];
const q = queueHarness('queue-table1');

/** results.json without what differs between any two runs (where and when, stage timings). */
async function resultsNumbers(dir: string) {
  const r = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
  delete r.runDir;
  delete r.writtenAt;
  delete r.timings;
  // The generated data lives in each run's own folder.
  delete r.dataset.root;
  return r;
}

describe.skipIf(!HAVE_FIXTURES)('bench table1 --queue', () => {
  it('shards the evaluation over two workers: samples.jsonl, the tables and results.json numbers are identical', async () => {
    const queueName = `table1-${process.pid}-${Date.now()}`;
    const ws = [q.startWorker(queueName, 'w0'), q.startWorker(queueName, 'w1')];
    const local = spawnSync(process.execPath, [BENCH, 'table1', ...RUN, '--out', join(q.dir, 'local')], { encoding: 'utf8', timeout: 100_000 });
    expect(local.status, local.stderr).toBe(0);
    const queued = spawnSync(process.execPath, [BENCH, 'table1', ...RUN, '--out', join(q.dir, 'queued'), '--queue', q.url, '--queue-name', queueName], { encoding: 'utf8', timeout: 100_000 });
    expect(queued.status, queued.stderr).toBe(0);
    expect(queued.stdout).toMatch(/evaluate SAM 2 \(.*\): \d+ shards of 1 frame\(s\) queued on redis:\/\/127\.0\.0\.1:\d+/);
    expect(queued.stdout.trim().split('\n').at(-1)).toBe(`report: ${join(q.dir, 'queued')}`);

    const a = join(q.dir, 'local');
    const b = join(q.dir, 'queued');
    const samples = await readFile(join(a, 'samples.jsonl'));
    expect(samples.length).toBeGreaterThan(0);
    expect(Buffer.compare(samples, await readFile(join(b, 'samples.jsonl')))).toBe(0);
    for (const f of ['table1.md', 'table1.csv', 'table1.json']) expect(Buffer.compare(await readFile(join(a, f)), await readFile(join(b, f))), f).toBe(0);
    expect(await resultsNumbers(b)).toEqual(await resultsNumbers(a));
    // The shards were merged and removed; the workers ran them.
    expect(await readdir(b)).not.toContain('shards');
    expect(ws.map((w) => (w.out().match(/: table1-shard /g) ?? []).length).reduce((x, y) => x + y, 0)).toBeGreaterThanOrEqual(2);

    for (const w of ws) w.child.kill('SIGTERM');
    expect(await Promise.all(ws.map((w) => w.exit))).toEqual([0, 0]);
    for (const w of ws) expect(w.out()).toMatch(/GPU pool: 0 live bytes/);
  }, 110_000);
});
