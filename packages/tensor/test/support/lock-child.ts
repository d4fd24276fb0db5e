/**
 * A child process for dir-lock.test.ts: locks the folder in argv[2], reports on stdout as one
 * JSON line, then holds the lock until stdin closes (or exits at once with `exit` as argv[3]).
 */
import { lockFolder } from '../../src/io/dir-lock.js';

const [folder, mode] = process.argv.slice(2);
try {
  const lock = await lockFolder(folder, 'lock test child');
  process.stdout.write(JSON.stringify({ ok: true, pid: process.pid }) + '\n');
  if (mode === 'exit') process.exit(0);
  process.stdin.resume();
  process.stdin.on('end', () => void lock.release().then(() => process.exit(0)));
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, pid: process.pid, code: (e as { code?: string }).code, message: (e as Error).message }) + '\n');
  process.exit(3);
}
