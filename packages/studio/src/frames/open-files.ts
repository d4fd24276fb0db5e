/**
 * Getting files into the page: drag and drop (files and whole folders, walked recursively
 * through the File System entries API) and the two pickers (files, or a folder via
 * `webkitdirectory`). Every file comes with its path relative to what was dropped.
 */
import type { IncomingFile } from './frame-list.js';

/** Files of a file or folder picker (`webkitRelativePath` holds the folder path). */
export function filesFromInput(list: FileList | null): IncomingFile[] {
  return [...(list ?? [])].map((file) => ({ file, path: file.webkitRelativePath || file.name }));
}

/** Files of a drop; folders are walked. Unreadable entries are listed in `errors`. */
export async function filesFromDrop(dt: DataTransfer): Promise<{ files: IncomingFile[]; errors: string[] }> {
  const files: IncomingFile[] = [];
  const errors: string[] = [];
  const entries: FileSystemEntry[] = [];
  const loose: File[] = [];
  for (const item of [...dt.items]) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) loose.push(f);
    }
  }
  for (const f of loose) files.push({ file: f, path: f.name });
  for (const e of entries) await walk(e, '', files, errors);
  return { files, errors };
}

async function walk(entry: FileSystemEntry, prefix: string, out: IncomingFile[], errors: string[]): Promise<void> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    try {
      const file = await new Promise<File>((ok, fail) => (entry as FileSystemFileEntry).file(ok, fail));
      out.push({ file, path });
    } catch (e) {
      errors.push(`${path}: ${(e as Error).message}`);
    }
    return;
  }
  if (!entry.isDirectory) return;
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries returns the listing in batches (100 in Chromium) until an empty one.
  for (;;) {
    let batch: FileSystemEntry[];
    try {
      batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
    } catch (e) {
      errors.push(`${path}/: ${(e as Error).message}`);
      return;
    }
    if (batch.length === 0) return;
    for (const child of batch) await walk(child, path, out, errors);
  }
}
