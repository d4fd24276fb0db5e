/**
 * Atomic file writes of a training run (checkpoints, their JSON sidecars, a rewritten log), shared
 * by the SAM 2 and RP-SAM2 trainers. Node only (files).
 */
import { importNode } from '../../weights/node-import.js';

type Fs = typeof import('node:fs/promises');

/** The parent folder of `path` ('.' for a bare name). */
export function parentDir(path: string): string {
  return path.replace(/[/\\][^/\\]*$/, '') || '.';
}

/**
 * Writes `data` (bytes, or a string as UTF-8) to `path` atomically (`writeFileAtomic` of
 * @rpsam2/tensor/node: a temporary file beside it, flushed, renamed over it), creating the parent
 * folder first. An interrupted write leaves the old file intact. The checkpoints of both trainers
 * are written this way.
 */
export async function writeFileAtomically(path: string, data: Uint8Array | string): Promise<void> {
  const fs = await importNode<Fs>('node:fs/promises');
  const node = await importNode<typeof import('@rpsam2/tensor/node')>('@rpsam2/tensor/node');
  await fs.mkdir(parentDir(path), { recursive: true });
  await node.writeFileAtomic(path, typeof data === 'string' ? new TextEncoder().encode(data) : data);
}
