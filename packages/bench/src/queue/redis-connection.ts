/**
 * The Redis behind the job queue: `--queue <url>` parsed and checked (a clear message instead of
 * a hang when nothing answers there), and the ioredis clients handed to BullMQ. BullMQ's ESM
 * build cannot load ioredis by itself from options, so every Queue/Worker gets a client made
 * here; the caller closes it after the Queue/Worker.
 */
import { Redis } from 'ioredis';
import { UsageError } from '../runs/run-args.js';

/** How long connecting may take before it counts as unreachable (ms). */
export const REDIS_CONNECT_TIMEOUT_MS = 5000;

/** A `--queue` URL, parsed. */
export interface RedisTarget {
  /** The URL as given (for messages; the password, if any, replaced by `***`). */
  display: string;
  /** The URL as given (passed to ioredis). */
  url: string;
  host: string;
  port: number;
  db: number;
  tls: boolean;
}

/**
 * Parses `redis://[user:password@]host[:port][/db]` (or `rediss://` for TLS); port 6379 and db 0
 * by default. Throws a {@link UsageError} naming the flag and the URL otherwise.
 */
export function parseRedisUrl(text: string, flag = '--queue'): RedisTarget {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new UsageError(`${flag} '${text}': not a URL; expected redis://host[:port][/db], e.g. redis://127.0.0.1:6379`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new UsageError(`${flag} '${text}': expected a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379`);
  if (!u.hostname) throw new UsageError(`${flag} '${text}': no host; expected redis://host[:port][/db]`);
  const port = u.port ? Number(u.port) : 6379;
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new UsageError(`${flag} '${text}': the database '${dbText}' must be a non-negative integer (redis://host:port/<db>)`);
  const display = u.password ? text.replace(`:${u.password}@`, ':***@') : text;
  return { display, url: text, host: u.hostname, port, db, tls: u.protocol === 'rediss:' };
}

/** Nothing usable answers at the `--queue` URL. */
export class RedisUnreachableError extends Error {
  readonly code = 'ERR_REDIS_UNREACHABLE';
  constructor(
    readonly target: RedisTarget,
    reason: string,
  ) {
    super(
      `cannot reach Redis at ${target.display} (${reason}). Start Redis there (e.g. \`redis-server --port ${target.port}\`; \`bash scripts/setup.sh\` installs Debian's redis-server) or pass the URL of a running one to --queue`,
    );
    this.name = 'RedisUnreachableError';
  }
}

/**
 * Connects once, with a timeout and no retries, and sends PING: resolves when Redis answers,
 * otherwise throws a {@link RedisUnreachableError} naming the URL and how to start Redis (within
 * about `timeoutMs`, never a hang).
 */
export async function checkRedis(target: RedisTarget, timeoutMs = REDIS_CONNECT_TIMEOUT_MS): Promise<void> {
  const client = new Redis(target.url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // Errors are reported through the promise below; the event would otherwise be unhandled.
  let lastError: Error | null = null;
  client.on('error', (e: Error) => {
    lastError = e;
  });
  try {
    const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs + 500).unref());
    await Promise.race([
      (async () => {
        await client.connect();
        const pong = await client.ping();
        if (pong !== 'PONG') throw new Error(`PING answered ${JSON.stringify(pong)}`);
      })(),
      timer,
    ]);
  } catch (e) {
    const err = (lastError ?? e) as NodeJS.ErrnoException;
    throw new RedisUnreachableError(target, err.code ? `${err.code}${err.message.includes(err.code) ? '' : `: ${err.message}`}` : err.message);
  } finally {
    client.disconnect();
  }
}

/**
 * A client for BullMQ (Queue, Worker, QueueEvents): `maxRetriesPerRequest: null` as BullMQ's
 * workers require, a connect timeout, and reconnects with a capped back-off while running (a
 * Redis restart does not end a worker). Close it with `quit()` after the BullMQ object using it.
 */
export function bullmqClient(target: RedisTarget, name: string): Redis {
  const client = new Redis(target.url, {
    connectionName: name,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(250 * times, 5000),
  });
  return client;
}

/** Closes a client: QUIT when connected, else a plain disconnect; never throws. */
export async function closeClient(client: Redis): Promise<void> {
  try {
    if (client.status === 'ready') await client.quit();
    else client.disconnect();
  } catch {
    client.disconnect();
  }
}
