/**
 * A lock on a folder that one process writes (a training run, a feature cache, a bench run), so
 * that a second process pointed at the same folder is refused instead of interleaving its files.
 *
 * Hand-written rather than `proper-lockfile`: that library locks with a folder plus an mtime it
 * refreshes on a timer, records neither pid nor host, and so can neither name the holder in the
 * error nor tell a dead holder from a slow one; it is also not in this workspace's offline store
 * (`pnpm add --offline proper-lockfile` fails). What is needed is small: a lock file created
 * atomically (`wx`, i.e. O_CREAT | O_EXCL) holding the pid and host; a lock left by a dead pid
 * on this host is stale and taken over with a notice.
 */
import { hostname } from 'node:os';
import { open, readFile, rm, unlink } from 'node:fs/promises';
import { unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The lock file's name inside the locked folder. */
export const LOCK_FILE = '.rpsam2.lock';

/** What a lock file holds. */
export interface LockOwner {
  pid: number;
  host: string;
  /** What holds it (e.g. "rpsam2 train"). */
  purpose: string;
  /** ISO time it was taken. */
  since: string;
}

/**
 * The folder is locked by another live process (or by this one, for another task). `code` lets
 * the CLIs tell it apart without `instanceof`; they report it as a usage error (exit status 2):
 * the fix is to wait, stop the other process, or use another folder.
 */
export class FolderLockedError extends Error {
  readonly code = 'ERR_FOLDER_LOCKED';
  constructor(
    message: string,
    readonly folder: string,
    readonly owner: LockOwner | null,
  ) {
    super(message);
    this.name = 'FolderLockedError';
  }
}

/** A held lock. */
export interface FolderLock {
  /** The lock file's path. */
  readonly path: string;
  /** Removes the lock file (if it is still this lock's). Idempotent. */
  release(): Promise<void>;
}

/** Lock files this process holds, removed on exit even after `process.exit` (a second Ctrl-C). */
const held = new Map<string, string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const path of held.keys()) {
      try {
        unlinkSync(path);
      } catch {
        // Gone already: nothing to do.
      }
    }
  });
}

/** Whether a process with this id runs on this machine (also when it belongs to another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readOwner(path: string): Promise<LockOwner | null> {
  try {
    const o = JSON.parse(await readFile(path, 'utf8')) as LockOwner;
    return typeof o?.pid === 'number' && typeof o.host === 'string' ? o : null;
  } catch {
    return null;
  }
}

async function createLockFile(path: string, text: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new Error(`${path}: cannot create the lock file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
  try {
    await fh.writeFile(text);
  } finally {
    await fh.close();
  }
  return true;
}

/**
 * Locks `folder` (which must exist) for this process: creates `folder/.rpsam2.lock` atomically
 * with this pid, host, `purpose` and the time. When another process holds it, throws a
 * {@link FolderLockedError} naming the folder, the holder's pid and host, and the fix. A lock
 * left by a process that no longer runs on this host is taken over, with `notice` called (default:
 * a line on stderr). A lock from another host is never taken over (its pid cannot be checked
 * from here). Release with `release()`; the lock file is also removed when the process exits.
 */
export async function lockFolder(folder: string, purpose: string, notice: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<FolderLock> {
  const dir = resolve(folder);
  const path = join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), purpose, since: new Date().toISOString() };
  const text = JSON.stringify(me) + '\n';
  for (let attempt = 0; ; attempt++) {
    if (await createLockFile(path, text)) break;
    const owner = await readOwner(path);
    const stale = owner !== null && owner.host === me.host && owner.pid !== process.pid && !pidAlive(owner.pid);
    if (stale && attempt > 0) {
      throw new FolderLockedError(
        `${dir}: the stale lock of process ${owner.pid} (no longer running) could not be taken over: another process is taking it over (${path}.takeover); if none is, delete ${path} and ${path}.takeover`,
        dir,
        owner,
      );
    }
    if (!stale) {
      // An unreadable lock file is half-written by a process creating it right now (or damaged).
      const who = owner ? `process ${owner.pid} on ${owner.host} (${owner.purpose}, since ${owner.since})` : 'another process (its lock file is unreadable)';
      const fix =
        owner?.pid === process.pid && owner.host === me.host
          ? 'this process already writes there: use another folder for the second task'
          : owner && owner.host !== me.host
            ? `wait for it to finish or stop it; if no process on ${owner.host} uses the folder any more, delete ${path}`
            : `wait for it to finish or stop it, or use another folder; if no process uses the folder, delete ${path}`;
      throw new FolderLockedError(`${dir} is in use by ${who}: ${fix}`, dir, owner);
    }
    // Taking over a stale lock: a second lock file serialises takers, so two processes that both
    // find it stale cannot both remove it and each believe they hold the new one.
    const breaker = `${path}.takeover`;
    if (!(await createLockFile(breaker, text))) continue;
    try {
      const again = await readOwner(path);
      if (again && again.pid === owner!.pid && again.since === owner!.since) await unlink(path).catch(() => undefined);
    } finally {
      await rm(breaker, { force: true });
    }
    notice(`${dir}: taking over the lock of process ${owner!.pid} (${owner!.purpose}, since ${owner!.since}), which no longer runs`);
  }
  held.set(path, text);
  installExitHook();
  return {
    path,
    release: async () => {
      if (!held.delete(path)) return;
      // Only our own lock: one taken over after a crash belongs to its new holder.
      const now = await readFile(path, 'utf8').catch(() => null);
      if (now === text) await unlink(path).catch(() => undefined);
    },
  };
}

/** Runs `work` holding the lock of `folder` ({@link lockFolder}), released afterwards whatever happens. */
export async function withFolderLock<T>(folder: string, purpose: string, work: () => Promise<T>, notice?: (line: string) => void): Promise<T> {
  const lock = await lockFolder(folder, purpose, notice);
  try {
    return await work();
  } finally {
    await lock.release();
  }
}
