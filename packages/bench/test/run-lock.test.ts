/**
 * One writer per bench run directory: while another process holds a run folder (here a child
 * process holding its lock), `bench table1 --resume <dir>` is refused before any work, naming the
 * folder, the holder's pid and the fix; once the holder exits, the folder is free again.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCK_FILE, lockFolder } from '@rpsam2/tensor/node';
import { parseRunArgs } from '../src/runs/run-args.js';
import { executeRun } from '../src/runs/run-command.js';
import { writeJson } from '../src/runs/run-dir.js';
import { StopSignal } from '../src/runs/stop-signal.js';

/** The lock-holding child of the tensor package's lock tests. */
const CHILD = new URL('../../tensor/test/support/lock-child.ts', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'bench-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('bench run directory lock', () => {
  it('refuses --resume of a run folder another process holds, before any work', async () => {
    const dir = join(root, 'run');
    mkdirSync(dir);
    await writeJson(join(dir, 'config.json'), parseRunArgs([], 'table1').config);
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise((r) => child.on('exit', r));
    const report = await new Promise<{ ok: boolean; pid: number }>((r) => child.stdout!.once('data', (d) => r(JSON.parse(String(d)))));
    expect(report.ok).toBe(true);
    try {
      const lines: string[] = [];
      const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), progress: { write: () => true } };
      await expect(executeRun(parseRunArgs(['--resume', dir], 'table1'), io, new StopSignal())).rejects.toMatchObject({
        code: 'ERR_FOLDER_LOCKED',
        message: expect.stringMatching(new RegExp(`${dir} is in use by process ${report.pid} on .*lock test child.*wait for it to finish or stop it`)),
      });
      expect(readdirSync(dir).sort()).toEqual([LOCK_FILE, 'config.json']);
    } finally {
      child.stdin!.end();
      await exited;
    }
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    await (await lockFolder(dir, 'test')).release();
  });
});
