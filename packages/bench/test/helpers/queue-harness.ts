/**
 * What the sharded-run queue tests share: the built CLI, the tiny fixtures they run on, a private
 * redis-server and a temporary folder for the test file (started before its tests, stopped after,
 * with any worker still running killed), and `bench worker` child processes whose output is kept.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { startLocalRedis, type LocalRedis } from '../../src/queue/local-redis.js';
import { sharedFixtureDir } from '../../src/shared-fixtures.js';
import { tempDir } from './fixtures.js';

/** The built bench CLI: the runs and the queue workers are it. */
export const BENCH = new URL('../../dist/cli.js', import.meta.url).pathname;
export const SAM2 = sharedFixtureDir('sam2', 'SAM2_FIXTURES');
export const RPSAM2 = sharedFixtureDir('rpsam2', 'RPSAM2_FIXTURES');
export const HAVE_FIXTURES = existsSync(`${SAM2}tiny256/weights.safetensors`) && existsSync(`${RPSAM2}tiny256/shift_block.safetensors`);
/** The tiny256 SAM 2 and shift block of the fixtures, as run flags. */
export const TINY_MODELS = ['--weights', `${SAM2}tiny256/weights.safetensors`, '--config', `${SAM2}tiny256/meta.json`, '--shift-block', `${RPSAM2}tiny256/shift_block.safetensors`];

/** A `bench worker` child process: its output so far and its exit code. */
export interface WorkerProc {
  child: ChildProcess;
  out: () => string;
  exit: Promise<number | null>;
}

/** Registers the redis-server and temporary folder of a test file (`name`: the folder's prefix). */
export function queueHarness(name: string) {
  let redis: LocalRedis | null = null;
  let tmp: { dir: string; cleanup: () => Promise<void> } | null = null;
  const workers: WorkerProc[] = [];
  beforeAll(async () => {
    if (!existsSync(BENCH)) throw new Error(`${BENCH} is missing: run \`pnpm build\` first (the runs and the queue workers are the built CLI)`);
    redis = await startLocalRedis();
    tmp = await tempDir(name);
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await redis?.stop();
    await tmp?.cleanup();
  });
  return {
    /** The private redis-server's URL. */
    get url(): string {
      return redis!.url;
    },
    /** The test file's temporary folder. */
    get dir(): string {
      return tmp!.dir;
    },
    /** Starts a `bench worker` on `queueName`. */
    startWorker(queueName: string, workerName: string): WorkerProc {
      const child = spawn(process.execPath, [BENCH, 'worker', '--queue', redis!.url, '--queue-name', queueName, '--name', workerName], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
      const w = { child, out: () => out, exit: new Promise<number | null>((r) => child.on('exit', (code) => r(code))) };
      workers.push(w);
      return w;
    },
  };
}
