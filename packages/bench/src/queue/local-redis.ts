/**
 * A private `redis-server` for tests and `bench embed-throughput`: started on a free loopback
 * port with its working folder in a temporary directory, no persistence, stopped (and the folder
 * removed) by `stop()`. Production queues use a Redis you run yourself (`--queue redis://…`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How to install the server when it is missing (the message tests and commands print). */
export const REDIS_INSTALL_HINT = 'run `bash scripts/setup.sh` (it installs Debian\'s redis-server), or `apt-get install redis-server`, or set REDIS_SERVER to its binary';

/** A running private redis-server. */
export interface LocalRedis {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The server process's pid. */
  readonly pid: number;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its folder. Idempotent. */
  stop(): Promise<void>;
}

/** redis-server is not installed (or REDIS_SERVER does not name a runnable binary). */
export class RedisServerMissingError extends Error {
  readonly code = 'ERR_REDIS_SERVER_MISSING';
  constructor(binary: string) {
    super(`redis-server not found (${binary}): ${REDIS_INSTALL_HINT}`);
    this.name = 'RedisServerMissingError';
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/**
 * Starts `redis-server` (the binary in `REDIS_SERVER`, else `redis-server` on PATH) on a free
 * loopback port, in a fresh temporary folder, without persistence. Resolves once it accepts
 * connections (it prints "Ready to accept connections"); throws {@link RedisServerMissingError}
 * when the binary is missing, or an error with the server's output when it does not start within
 * `timeoutMs` (default 15 s). A port taken between choosing and binding is retried with another.
 */
export async function startLocalRedis(options: { timeoutMs?: number; binary?: string } = {}): Promise<LocalRedis> {
  const binary = options.binary ?? process.env.REDIS_SERVER ?? 'redis-server';
  const timeoutMs = options.timeoutMs ?? 15_000;
  let lastError: Error | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = await mkdtemp(join(tmpdir(), 'rpsam2-redis-'));
    const port = await freeLoopbackPort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'notice'];
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const outcome = await new Promise<'ready' | 'missing' | 'exited' | 'timeout'>((resolve) => {
      const t = setTimeout(() => resolve('timeout'), timeoutMs);
      const onData = (b: Buffer) => {
        output += b.toString();
        if (/Ready to accept connections/.test(output)) {
          clearTimeout(t);
          resolve('ready');
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('error', (e) => {
        clearTimeout(t);
        resolve((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'exited');
        output += `\n${(e as Error).message}`;
      });
      child.once('exit', () => {
        clearTimeout(t);
        resolve('exited');
      });
    });
    if (outcome === 'ready') {
      // Keep draining its output so the pipe never fills.
      child.stdout!.resume();
      child.stderr!.resume();
      let stopped: Promise<void> | null = null;
      return {
        url: `redis://127.0.0.1:${port}`,
        port,
        pid: child.pid!,
        stop: () =>
          (stopped ??= (async () => {
            if (child.exitCode === null && child.signalCode === null) {
              child.kill('SIGTERM');
              if (!(await waitExit(child, 5000))) {
                child.kill('SIGKILL');
                await waitExit(child, 5000);
              }
            }
            await rm(dir, { recursive: true, force: true });
          })()),
      };
    }
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    if (outcome === 'missing') throw new RedisServerMissingError(binary);
    lastError = new Error(`${binary} did not start on 127.0.0.1:${port} (${outcome === 'timeout' ? `not ready after ${timeoutMs} ms` : 'it exited'}):\n${output.trim().split('\n').slice(-8).join('\n')}`);
    // Only a port lost to another process is worth another try.
    if (!/Address already in use/i.test(output)) break;
  }
  throw lastError!;
}
