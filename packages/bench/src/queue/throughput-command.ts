/**
 * `bench queue-throughput`: frames per second of `bench embed --queue` with 1, 2, 4 … local
 * `bench worker` processes (each its own WebGPU device). Per worker count: fresh workers, a
 * warm-up round (each worker loads the model and compiles its kernels on its first job), then the
 * measured round on fresh cache folders, from the first job queued to the last one finished. Uses
 * a private redis-server on a free loopback port unless `--queue` names one. On one machine the
 * workers share its GPU (or, with lavapipe, its CPU cores), so this measures the queue's overhead
 * and how far one device scales; several machines add their devices (README).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandArgs, type CommandArgs } from '../args.js';
import { encodePng } from '../datasets/png.js';
import type { Sam2Spec } from '../evaluation/sam2-models.js';
import { int, UsageError } from '../runs/run-args.js';
import { parseFlags, sam2Flags } from './flags.js';
import { processIO, type RunIO } from '../runs/run-io.js';
import { StopSignal } from '../runs/stop-signal.js';
import { embedWithQueue, type EmbedQueueReport } from './embed-producer.js';
import { listFrames, type FrameFile } from './frames.js';
import { DEFAULT_JOB_POLICY } from './jobs.js';
import { startLocalRedis, type LocalRedis } from './local-redis.js';
import { parseRedisUrl, type RedisTarget } from './redis-connection.js';

/** The usage line of `bench queue-throughput` (in `bench --help`). */
export const QUEUE_THROUGHPUT_USAGE = 'queue-throughput [<frames…>] [--workers 1,2,4] [--frames 16] [--size 640x480] [--weights <ckpt> [--config <cfg>]] [--queue redis://…] [--json]';

/** Parsed flags. */
export interface ThroughputArgs extends CommandArgs {
  frames: string[];
  workers: number[];
  count: number;
  size: [number, number];
  model: Sam2Spec;
  queue: RedisTarget | null;
}

/** Parses `bench queue-throughput`'s flags. */
export function parseThroughputArgs(argv: string[]): CommandArgs {
  const { values, positionals } = parseFlags(argv, {
    workers: { type: 'string', default: '1,2,4' },
    frames: { type: 'string', default: '16' },
    size: { type: 'string', default: '640x480' },
    weights: { type: 'string' },
    config: { type: 'string' },
    queue: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const workers = values.workers!.split(',').map((w) => int('--workers', w.trim(), 1));
  const m = /^(\d+)x(\d+)$/.exec(values.size!);
  if (!m || Number(m[1]) < 8 || Number(m[2]) < 8) throw new UsageError(`--size needs WxH (at least 8x8), got '${values.size}'`);
  if (values.config && !values.weights) throw new UsageError('--config needs --weights');
  const args: ThroughputArgs = {
    ...commandArgs(values.json!),
    frames: positionals,
    workers,
    count: int('--frames', values.frames, 1),
    size: [Number(m[1]), Number(m[2])],
    model: sam2Flags(values.weights, values.config, 'f32'),
    queue: values.queue ? parseRedisUrl(values.queue) : null,
  };
  return args;
}

/** One worker count's measurement. */
export interface ThroughputRow {
  workers: number;
  frames: number;
  /** Measured round: first job queued → last finished, s. */
  seconds: number;
  framesPerSecond: number;
  /** framesPerSecond ÷ the first row's. */
  speedup: number;
  /** Warm-up round (model loads and kernel compilation included), s. */
  warmupSeconds: number;
  /** Measured jobs per worker name. */
  jobsPerWorker: Record<string, number>;
}

/** Synthetic frames (an instrument-like bar over a disc, shifted per frame) written as PNGs. */
async function writeFrames(dir: string, count: number, [w, h]: [number, number]): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let k = 0; k < count; k++) {
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const bar = Math.abs(y - h / 2 - 0.4 * (x - w / 2) - k * 3) < h / 30;
        const eye = (x - w / 2) ** 2 + (y - h / 2) ** 2 < (0.4 * h) ** 2;
        data.set(bar ? [215, 215, 220] : eye ? [190, 100 + (k % 20), 55] : [60, 25, 20], 3 * (y * w + x));
      }
    }
    await writeFile(join(dir, `frame_${String(k).padStart(4, '0')}.png`), encodePng({ width: w, height: h, channels: 3, data }));
  }
}

function spawnWorker(cli: string, url: string, queueName: string, name: string): { child: ChildProcess; ready: Promise<void>; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [cli, 'worker', '--queue', url, '--queue-name', queueName, '--name', name], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const ready = new Promise<void>((res, rej) => {
    const on = (b: Buffer) => {
      out += b.toString();
      if (/waiting for jobs/.test(out)) res();
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.once('exit', (code) => rej(new Error(`worker ${name} exited (${code}) before it was ready:\n${out.trim()}`)));
  });
  const exit = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return { child, ready, exit };
}

/** Runs the benchmark (see the module comment); returns one row per worker count. */
export async function measureQueueThroughput(args: ThroughputArgs, io: RunIO, stop: StopSignal): Promise<ThroughputRow[]> {
  // The built CLI (this code is bundled into dist/, next to cli.js).
  const cli = fileURLToPath(new URL('./cli.js', import.meta.url));
  if (!existsSync(cli)) throw new Error(`${cli} is missing: queue-throughput runs the built \`bench worker\` (pnpm build)`);
  const tmp = await mkdtemp(join(tmpdir(), 'rpsam2-queue-throughput-'));
  let redis: LocalRedis | null = null;
  const rows: ThroughputRow[] = [];
  try {
    let frames: FrameFile[];
    if (args.frames.length) frames = await listFrames(args.frames);
    else {
      await writeFrames(join(tmp, 'frames'), args.count, args.size);
      frames = await listFrames([join(tmp, 'frames')]);
    }
    let target = args.queue;
    if (!target) {
      redis = await startLocalRedis();
      target = parseRedisUrl(redis.url);
    }
    io.err(`queue-throughput: ${frames.length} frames, workers ${args.workers.join(', ')}, ${args.model.weights || 'the embedded default model'}, Redis ${target.display}${redis ? ' (private)' : ''}, ${cpus().length} CPU cores`);
    for (const n of args.workers) {
      if (stop.requested) break;
      const queueName = `throughput-${process.pid}-${n}-${Date.now()}`;
      const ws = Array.from({ length: n }, (_, i) => spawnWorker(cli, target.url, queueName, `w${i}`));
      try {
        await Promise.all(ws.map((w) => w.ready));
        const round = async (what: string, subset: readonly FrameFile[]): Promise<EmbedQueueReport> => {
          const r = await embedWithQueue({
            target: target!,
            queueName,
            frames: subset,
            cacheDir: join(tmp, `cache-${n}-${what}`),
            datasetName: 'frames',
            model: args.model,
            featureDtype: 'f32',
            gridStep: 8,
            epsilon: 0.005,
            policy: DEFAULT_JOB_POLICY,
            // The producer's own lines (queued …, progress) would drown the table.
            io: { out: () => undefined, err: () => undefined, progress: { write: () => true, isTTY: false } },
            stop,
            pollMs: 50,
          });
          if (r.failed.length) throw new Error(`${r.failed.length} jobs failed, e.g. ${r.failed[0].id}: ${r.failed[0].reason}`);
          return r;
        };
        // Warm-up: enough frames that every worker gets one (each loads the model, compiles kernels).
        const warm = await round('warmup', frames.slice(0, Math.min(frames.length, 2 * n)));
        const r = await round('measured', frames);
        if (r.stopped) break;
        const fps = frames.length / (r.ms / 1000);
        rows.push({ workers: n, frames: frames.length, seconds: r.ms / 1000, framesPerSecond: fps, speedup: rows.length ? fps / rows[0].framesPerSecond : 1, warmupSeconds: warm.ms / 1000, jobsPerWorker: r.workers });
        io.err(`  ${n} worker(s): ${fps.toFixed(2)} frames/s (${(r.ms / 1000).toFixed(1)} s for ${frames.length} frames; jobs ${Object.entries(r.workers).map(([w, c]) => `${w} ${c}`).join(', ')}; warm-up ${(warm.ms / 1000).toFixed(1)} s)`);
      } finally {
        for (const w of ws) w.child.kill('SIGTERM');
        await Promise.all(ws.map((w) => w.exit));
      }
    }
    return rows;
  } finally {
    await redis?.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

/** `bench queue-throughput` from the command line. */
export async function queueThroughputCommand(parsed: CommandArgs, io: RunIO = processIO): Promise<number> {
  const args = parsed as ThroughputArgs;
  const stop = new StopSignal();
  const onSigint = () => stop.request();
  process.on('SIGINT', onSigint);
  try {
    const rows = await measureQueueThroughput(args, io, stop);
    if (args.json) io.out(JSON.stringify({ cpus: cpus().length, model: args.model.weights || 'default', rows }));
    else {
      io.out('| workers | frames | seconds | frames/s | speed-up | jobs per worker |');
      io.out('| ---: | ---: | ---: | ---: | ---: | --- |');
      for (const r of rows) io.out(`| ${r.workers} | ${r.frames} | ${r.seconds.toFixed(1)} | ${r.framesPerSecond.toFixed(2)} | ${r.speedup.toFixed(2)}× | ${Object.values(r.jobsPerWorker).join(' / ')} |`);
    }
    return stop.requested ? 130 : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
