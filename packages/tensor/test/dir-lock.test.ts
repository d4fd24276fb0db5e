/**
 * Folder locks (src/io/dir-lock.ts) between real processes: two children locking one folder at
 * once (one wins, the other is told who holds it), a lock left by a killed process taken over
 * with a notice, and the lock file removed when its process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FolderLockedError, LOCK_FILE, lockFolder, withFolderLock } from '../src/io/dir-lock.js';

const CHILD = new URL('./support/lock-child.ts', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'rpsam2-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Report {
  ok: boolean;
  pid: number;
  code?: string;
  message?: string;
}

/** Starts a child locking `folder`; resolves with the child and its first report line. */
function lockInChild(folder: string, mode = 'hold'): Promise<{ child: ChildProcess; report: Report; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, folder, mode], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve({ child, report: JSON.parse(out.slice(0, nl)) as Report, exited });
    });
    child.on('error', reject);
    void exited.then((code) => (out.includes('\n') ? undefined : reject(new Error(`lock child exited ${code} without a report: ${err}`))));
  });
}

describe('folder locks between processes', () => {
  it('two processes locking one folder at once: one holds it, the other is refused with the holder and the fix', async () => {
    const dir = mkdtempSync(join(root, 'run-'));
    const [a, b] = await Promise.all([lockInChild(dir), lockInChild(dir)]);
    const winner = a.report.ok ? a : b;
    const loser = a.report.ok ? b : a;
    expect([a.report.ok, b.report.ok].sort()).toEqual([false, true]);
    expect(loser.report.code).toBe('ERR_FOLDER_LOCKED');
    expect(loser.report.message).toContain(dir);
    expect(loser.report.message).toContain(`process ${winner.report.pid} on ${hostname()}`);
    expect(loser.report.message).toMatch(/wait for it to finish or stop it/);
    expect(await loser.exited).toBe(3);
    // This process is refused too while the child holds it.
    await expect(lockFolder(dir, 'test')).rejects.toThrow(FolderLockedError);
    winner.child.stdin!.end();
    expect(await winner.exited).toBe(0);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    // Free again.
    await withFolderLock(dir, 'test', async () => expect(existsSync(join(dir, LOCK_FILE))).toBe(true));
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('a lock left by a killed process is taken over with a notice', async () => {
    const dir = mkdtempSync(join(root, 'stale-'));
    const { child, report, exited } = await lockInChild(dir);
    expect(report.ok).toBe(true);
    child.kill('SIGKILL');
    await exited;
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(report.pid);
    const notices: string[] = [];
    const lock = await lockFolder(dir, 'test', (l) => notices.push(l));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(new RegExp(`taking over the lock of process ${report.pid} .*no longer runs`));
    expect(JSON.parse(readFileSync(lock.path, 'utf8')).pid).toBe(process.pid);
    await lock.release();
    expect(existsSync(lock.path)).toBe(false);
  });

  it('the lock file goes when its process exits, even through process.exit', async () => {
    const dir = mkdtempSync(join(root, 'exit-'));
    const { report, exited } = await lockInChild(dir, 'exit');
    expect(report.ok).toBe(true);
    expect(await exited).toBe(0);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('refuses a second lock in the same process and never takes over a lock from another host', async () => {
    const dir = mkdtempSync(join(root, 'same-'));
    const lock = await lockFolder(dir, 'first task');
    await expect(lockFolder(dir, 'second task')).rejects.toThrow(/this process already writes there/);
    await lock.release();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 999999, host: 'elsewhere', purpose: 'x', since: 'then' }));
    const notices: string[] = [];
    await expect(lockFolder(dir, 'test', (l) => notices.push(l))).rejects.toThrow(/in use by process 999999 on elsewhere .*delete .*\.rpsam2\.lock/);
    expect(notices).toEqual([]);
  });
});
