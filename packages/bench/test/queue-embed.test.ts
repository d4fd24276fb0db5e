/**
 * `bench embed --queue` with a real Redis (issue #23): a private redis-server on a free loopback
 * port (started here, stopped afterwards), two `bench worker` child processes (the built CLI), one
 * of them SIGKILLed while it runs a job. Every frame must end up in the cache exactly once, each
 * file and index.json byte for byte what a single-process `bench embed` writes; a rerun is a no-op;
 * pseudo-labels (`bench label`) through the queue, fed by that cache, equal one process's;
 * a malformed job fails once, unretried; the surviving worker stops cleanly with 0 live GPU bytes.
 *
 * Needs `redis-server` (`bash scripts/setup.sh` installs Debian's) and `pnpm build` (the workers
 * run dist/cli.js): without either the test fails with a message saying so; it never skips.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePng } from '../src/datasets/png.js';
import { memoryIO } from '../src/runs/run-io.js';
import { StopSignal } from '../src/runs/stop-signal.js';
import { embedWithQueue } from '../src/queue/embed-producer.js';
import { listFrames } from '../src/queue/frames.js';
import { DEFAULT_JOB_POLICY } from '../src/queue/jobs.js';
import { freeLoopbackPort, startLocalRedis, type LocalRedis } from '../src/queue/local-redis.js';
import { bullmqClient, checkRedis, closeClient, parseRedisUrl } from '../src/queue/redis-connection.js';
import { sharedFixtureDir } from '../src/shared-fixtures.js';
import { put, tempDir } from './helpers/fixtures.js';

const BENCH = new URL('../dist/cli.js', import.meta.url).pathname;
const TINY = `${sharedFixtureDir('sam2', 'SAM2_FIXTURES')}tiny256/weights.safetensors`;
// The tiny fixture model when the shared fixtures are there (fast), else the embedded default model.
const WEIGHTS = existsSync(TINY) ? TINY : '';
const FRAMES = WEIGHTS ? 8 : 4;

/** A small RGB frame whose content differs per index. */
function frame(k: number): Uint8Array {
  const w = 64;
  const h = 48;
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    const x = i % w;
    const y = Math.floor(i / w);
    const inside = (x - 20 - 3 * k) ** 2 + (y - 24) ** 2 < 100;
    data.set(inside ? [220, 220, 225] : [(x * 4 + k * 17) & 255, (y * 5) & 255, (60 + k * 23) & 255], 3 * i);
  }
  return encodePng({ width: w, height: h, channels: 3, data });
}

/** A `bench worker` child process and its output so far. */
interface WorkerProc {
  name: string;
  child: ChildProcess;
  out: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when `re` matches the output (rejects after `ms`). */
  waitFor(re: RegExp, ms: number): Promise<void>;
}

function startWorker(url: string, queueName: string, name: string): WorkerProc {
  const child = spawn(process.execPath, [BENCH, 'worker', '--queue', url, '--queue-name', queueName, '--name', name, '--stall-timeout', '3', '--job-timeout', '120'], {
    env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p: WorkerProc = {
    name,
    child,
    out: '',
    exit: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
    waitFor: (re, ms) =>
      new Promise((resolve, reject) => {
        if (re.test(p.out)) return resolve();
        const t = setTimeout(() => reject(new Error(`worker ${name}: no ${re} within ${ms} ms; output:\n${p.out}`)), ms);
        const check = () => {
          if (re.test(p.out)) {
            clearTimeout(t);
            child.stdout!.off('data', check);
            child.stderr!.off('data', check);
            resolve();
          }
        };
        child.stdout!.on('data', check);
        child.stderr!.on('data', check);
      }),
  };
  child.stdout!.on('data', (b: Buffer) => (p.out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (p.out += b.toString()));
  return p;
}

let redis: LocalRedis | null = null;
let tmp: { dir: string; cleanup: () => Promise<void> };
const workers: WorkerProc[] = [];

beforeAll(async () => {
  if (!existsSync(BENCH)) throw new Error(`${BENCH} is missing: run \`pnpm build\` first (the queue workers are the built \`bench worker\`)`);
  // Missing redis-server fails here with a message naming `bash scripts/setup.sh`.
  redis = await startLocalRedis();
  tmp = await tempDir('queue-embed');
  for (let k = 0; k < FRAMES; k++) await put(join(tmp.dir, 'frames', `frame_${String(k).padStart(3, '0')}.png`), frame(k));
});

afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  // What the SIGKILLed worker left in the temporary directory (a worker started later removes it too).
  for (const w of workers) for (const n of await readdir(tmpdir())) if (n.startsWith(`rpsam2-worker-${w.child.pid}-`)) await rm(join(tmpdir(), n), { recursive: true, force: true });
  await redis?.stop();
  await tmp?.cleanup();
});

describe('bench embed --queue: Redis URL checks', () => {
  it('refuses a URL that is not redis:// with a usage error naming the flag', () => {
    expect(() => parseRedisUrl('http://127.0.0.1:6379')).toThrow(/--queue 'http:\/\/127\.0\.0\.1:6379': expected a redis:\/\/ or rediss:\/\/ URL/);
    expect(() => parseRedisUrl('127.0.0.1:6379')).toThrow(/expected a redis:\/\/ or rediss:\/\/ URL|not a URL/);
    expect(() => parseRedisUrl('redis://h:1/x')).toThrow(/database 'x' must be a non-negative integer/);
    expect(parseRedisUrl('redis://u:secret@h/2')).toMatchObject({ host: 'h', port: 6379, db: 2, display: 'redis://u:***@h/2' });
  });

  it('an unreachable Redis: an error naming the URL and how to start Redis, at once (no hang)', async () => {
    const port = await freeLoopbackPort();
    const t0 = performance.now();
    await expect(checkRedis(parseRedisUrl(`redis://127.0.0.1:${port}`))).rejects.toThrow(
      new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)\\. Start Redis there \\(e\\.g\\. \`redis-server --port ${port}\`; \`bash scripts/setup\\.sh\` installs`),
    );
    expect(performance.now() - t0).toBeLessThan(6000);
    // The built CLI: exit status 1, the message, no stack.
    const r = spawnSync(process.execPath, [BENCH, 'worker', '--queue', `redis://127.0.0.1:${port}`], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, DEBUG: '' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/bench: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('bench embed --queue: two workers, one SIGKILLed mid-run', () => {
  it('every frame cached exactly once, bitwise equal to a single-process run; rerun is a no-op; labels equal too', async () => {
    const frames = await listFrames([join(tmp.dir, 'frames')]);
    expect(frames.length).toBe(FRAMES);
    const model = { weights: WEIGHTS, config: '', dtype: 'f32' as const };

    // 1. The single-process reference: the built `bench embed` without --queue (the code the workers run).
    const single = join(tmp.dir, 'single');
    const local = spawnSync(process.execPath, [BENCH, 'embed', join(tmp.dir, 'frames'), '--cache', single, '--json', ...(WEIGHTS ? ['--weights', WEIGHTS] : [])], { encoding: 'utf8', timeout: 90_000 });
    expect(local.status, local.stderr).toBe(0);
    expect(JSON.parse(local.stdout)).toMatchObject({ mode: 'local', computed: FRAMES, cached: 0 });

    // 2. Two workers; the producer in this process; the first worker to start a second job is SIGKILLed.
    const queueName = `test-${process.pid}-${Date.now()}`;
    const w0 = startWorker(redis!.url, queueName, 'w0');
    const w1 = startWorker(redis!.url, queueName, 'w1');
    workers.push(w0, w1);
    await Promise.all([w0.waitFor(/waiting for jobs/, 60_000), w1.waitFor(/waiting for jobs/, 60_000)]);
    let killed: WorkerProc | null = null;
    const killOnSecondJob = (w: WorkerProc) => () => {
      if (killed || (w.out.match(/: embed frame_/g) ?? []).length < 2) return;
      killed = w;
      w.child.kill('SIGKILL');
    };
    for (const w of [w0, w1]) w.child.stdout!.on('data', killOnSecondJob(w));
    const queued = join(tmp.dir, 'queued');
    const io2 = memoryIO();
    const t0 = performance.now();
    const report = await embedWithQueue({
      target: parseRedisUrl(redis!.url),
      queueName,
      frames,
      cacheDir: queued,
      datasetName: 'frames',
      model,
      featureDtype: 'f32',
      gridStep: 8,
      epsilon: 0.005,
      policy: DEFAULT_JOB_POLICY,
      io: io2,
      stop: new StopSignal(),
      pollMs: 100,
    });
    const ms = performance.now() - t0;
    expect(killed, 'a worker was killed while running a job').not.toBeNull();
    const victim = killed! as WorkerProc;
    expect(await victim.exit).toEqual({ code: null, signal: 'SIGKILL' });
    // It died inside its second job: the job it had started has no completion line.
    const started = [...victim.out.matchAll(/job (\S+): embed frame_/g)].map((m) => m[1]);
    expect(victim.out, 'killed before the job finished').not.toContain(`job ${started.at(-1)}: computed`);
    const survivor = victim === w0 ? w1 : w0;
    console.log(`queue-embed: ${FRAMES} frames, ${WEIGHTS ? 'tiny256' : 'default model'}, ${(ms / 1000).toFixed(1)} s with ${survivor.name} + ${victim.name} (killed); report ${JSON.stringify(report)}`);
    expect(report).toMatchObject({ total: FRAMES, failed: [], stopped: false, indexed: FRAMES });
    expect(report.computed + report.cached).toBe(FRAMES);
    // The killed worker's job went back to the queue (stalled) and ran again on the other.
    expect(report.redelivered).toBeGreaterThanOrEqual(1);
    expect(report.workers[survivor.name]).toBeGreaterThanOrEqual(1);

    // 3. Exactly once, and bitwise equal: every file and index.json.
    const names = (await readdir(join(queued, 'images'))).filter((n) => n.endsWith('.safetensors') && !n.startsWith('.'));
    expect(names.sort()).toEqual(frames.map((f) => `${f.id}.safetensors`));
    for (const n of names) expect(Buffer.compare(await readFile(join(queued, 'images', n)), await readFile(join(single, 'images', n))), n).toBe(0);
    const index = JSON.parse(await readFile(join(queued, 'index.json'), 'utf8'));
    expect(index.entries.map((e: { id: string }) => e.id)).toEqual(frames.map((f) => f.id));
    expect((await readFile(join(queued, 'index.json'), 'utf8')) === (await readFile(join(single, 'index.json'), 'utf8'))).toBe(true);
    expect(existsSync(join(queued, '.rpsam2.lock'))).toBe(false);

    // 4. A rerun through the built CLI: every job is a no-op, no file rewritten.
    const before = await Promise.all(names.map((n) => stat(join(queued, 'images', n)).then((s) => s.mtimeMs)));
    const again = spawnSync(process.execPath, [BENCH, 'embed', join(tmp.dir, 'frames'), '--cache', queued, '--queue', redis!.url, '--queue-name', queueName, '--json', ...(WEIGHTS ? ['--weights', WEIGHTS] : [])], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ mode: 'queue', computed: 0, cached: FRAMES, failed: [], indexed: FRAMES });
    expect(await Promise.all(names.map((n) => stat(join(queued, 'images', n)).then((s) => s.mtimeMs)))).toEqual(before);

    // 5. A malformed job fails once with a message naming the field (not retried).
    const client = bullmqClient(parseRedisUrl(redis!.url), 'test');
    const queue = new Queue(queueName, { connection: client });
    try {
      const bad = await queue.add('embed', { cacheDir: queued, datasetName: 'x', model, featureDtype: 'f32', gridStep: 8, epsilon: 0.005, frame: { id: 'x', path: 'relative.png' } }, { attempts: 3 });
      for (let i = 0; i < 100 && (await queue.getJobState(bad.id!)) !== 'failed'; i++) await new Promise((r) => setTimeout(r, 100));
      const job = await queue.getJob(bad.id!);
      expect(job?.failedReason).toMatch(/malformed embed job: frame\.path must be an absolute path/);
      expect(job?.attemptsMade).toBe(1);
    } finally {
      await queue.close();
      await closeClient(client);
    }

    // 6. Pseudo-labels (`bench label`): one process vs the queue (features from the queued cache): the same bytes.
    const clicks = join(tmp.dir, 'clicks.json');
    await put(clicks, JSON.stringify({ [frames[0].id]: [[10, 10], [25, 24]], [frames[3].id]: [[40, 30]], [frames[FRAMES - 1].id]: [[63, 47]] }));
    const labelArgs = (out: string) => ['label', join(tmp.dir, 'frames'), '--clicks', clicks, '--out', out, '--json', ...(WEIGHTS ? ['--weights', WEIGHTS, '--shift-block', 'none'] : [])];
    const l1 = spawnSync(process.execPath, [BENCH, ...labelArgs(join(tmp.dir, 'labels-single'))], { encoding: 'utf8', timeout: 90_000 });
    expect(l1.status, l1.stderr).toBe(0);
    expect(JSON.parse(l1.stdout)).toMatchObject({ mode: 'local', frames: 3, objects: 4, computed: 3, fromCache: 0 });
    const l2 = spawnSync(process.execPath, [BENCH, ...labelArgs(join(tmp.dir, 'labels-queued')), '--cache', queued, '--queue', redis!.url, '--queue-name', queueName], { encoding: 'utf8', timeout: 90_000 });
    expect(l2.status, l2.stderr).toBe(0);
    expect(JSON.parse(l2.stdout)).toMatchObject({ mode: 'queue', frames: 3, objects: 4, computed: 3, fromCache: 3, failed: [] });
    for (const f of [frames[0], frames[3], frames[FRAMES - 1]]) {
      const a = await readFile(join(tmp.dir, 'labels-single', `${f.id}.json`));
      expect(Buffer.compare(a, await readFile(join(tmp.dir, 'labels-queued', `${f.id}.json`))), f.id).toBe(0);
      expect(JSON.parse(a.toString())).toMatchObject({ format: 'rpsam2-pseudo-labels', id: f.id, width: 64, height: 48 });
    }

    // 7. The survivor stops cleanly on SIGTERM with its GPU pool back at 0 live bytes.
    survivor.child.kill('SIGTERM');
    expect(await survivor.exit).toEqual({ code: 0, signal: null });
    expect(survivor.out).toMatch(/stopped \(signal\) after \d+ jobs.*; GPU pool: 0 live bytes/);
  }, 110_000);
});
