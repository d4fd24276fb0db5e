/**
 * Train / val / test splits, from a split file of ours (JSON) or from the dataset's CSV files.
 *
 * Our JSON: `{"train": [...], "val": [...], "test": [...]}` (any of the three may be absent),
 * each entry either a group (`"case_5013"`, a whole case or video) or a frame id
 * (`"case_5013/case5013_01.png"`). A frame entry overrides its group's entry.
 *
 * Cataract-1k's CSVs (`,imgs,masks` — an index column, the image path and the mask path on the
 * authors' machine): each image path is re-rooted by its last two meaningful parts, the case
 * folder (`case_5013`, `case5013` is accepted) and the file name, to the frame id
 * `case_5013/<file name>`. When no row matches a frame of the dataset (another file naming),
 * the split falls back to the rows' cases, with a warning.
 */
import { readFile } from 'node:fs/promises';
import { SPLIT_NAMES, type FrameRef, type IssueLog, type SplitInfo, type SplitName } from './types.js';

/** Entries per split: group names or frame ids. */
export type SplitLists = Partial<Record<SplitName, string[]>>;

/** Parses our JSON split file; logs and returns undefined when unusable. */
export function parseSplitJson(text: string, file: string, log: IssueLog): SplitLists | undefined {
  const json = log.parseJson(text, file);
  if (json === undefined) return undefined;
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    log.error(file, 'a split file must be a JSON object {"train": [...], "val": [...], "test": [...]}');
    return undefined;
  }
  const out: SplitLists = {};
  const obj = json as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!(SPLIT_NAMES as readonly string[]).includes(key)) {
      if (!key.startsWith('_') && key !== 'format' && key !== 'description' && key !== 'seed') log.warn(file, `ignoring unknown key '${key}' (expected train, val, test)`);
      continue;
    }
    const list = obj[key];
    if (!Array.isArray(list) || list.some((e) => typeof e !== 'string')) {
      log.error(file, `'${key}' must be an array of case names or frame ids`);
      return undefined;
    }
    out[key as SplitName] = list as string[];
  }
  if (!SPLIT_NAMES.some((s) => out[s]?.length)) log.warn(file, 'the split file lists no frames');
  return out;
}

/** The text of a split file (`what`: 'split file', 'split CSV'); logs and returns undefined when it cannot be read. */
export async function readSplitText(path: string, what: string, log: IssueLog): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    log.error(path, `cannot read the ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    return undefined;
  }
}

/** Assigns `frame.split` from our JSON split file `path` (all frames in none when it is unusable; logged). */
export async function splitFromJsonFile(path: string, frames: readonly FrameRef[], log: IssueLog): Promise<SplitInfo> {
  const text = await readSplitText(path, 'split file', log);
  const lists = text === undefined ? undefined : parseSplitJson(text, path, log);
  return { source: path, counts: lists ? applySplitLists(frames, lists, path, log) : { train: 0, val: 0, test: 0, none: frames.length } };
}

/** One row of a Cataract-1k CSV, re-rooted. */
export interface CsvFrame {
  group: string;
  fileName: string;
}

/** Parses a Cataract-1k split CSV (`,imgs,masks`); logs and returns undefined when unusable. */
export function parseSplitCsv(text: string, file: string, log: IssueLog): CsvFrame[] | undefined {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) {
    log.error(file, 'empty CSV');
    return undefined;
  }
  const header = splitCsvLine(lines[0]).map((h) => h.trim().toLowerCase());
  const col = header.indexOf('imgs');
  if (col < 0) {
    log.error(file, `no 'imgs' column in the header (${lines[0].slice(0, 80)})`);
    return undefined;
  }
  const out: CsvFrame[] = [];
  for (let i = 1; i < lines.length; i++) {
    const cells = splitCsvLine(lines[i]);
    const path = cells[col]?.trim();
    if (!path) {
      log.error(file, `row ${i + 1} has no image path`);
      continue;
    }
    const parts = path.split(/[\\/]+/).filter(Boolean);
    const fileName = parts[parts.length - 1];
    const caseDir = [...parts.slice(0, -1)].reverse().find((p) => /^case_?\d+$/i.test(p));
    if (!caseDir) {
      log.error(file, `row ${i + 1}: cannot find the case folder (case_NNNN) in '${path}'`);
      continue;
    }
    out.push({ group: normalizeCaseName(caseDir), fileName });
  }
  return out;
}

/** `case5013`, `Case_5013` → `case_5013`. */
export function normalizeCaseName(name: string): string {
  const m = /^case_?(\d+)$/i.exec(name);
  return m ? `case_${m[1]}` : name;
}

/** Splits one CSV line on commas outside double quotes (quotes doubled inside quoted fields). */
function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/**
 * Assigns `frame.split` from split lists (group or frame entries); logs entries that match no
 * frame (warnings) and frames listed in two splits (errors). Returns the per-split counts.
 */
export function applySplitLists(frames: readonly FrameRef[], lists: SplitLists, file: string, log: IssueLog): Record<SplitName | 'none', number> {
  const byFrame = new Map<string, SplitName>();
  const byGroup = new Map<string, SplitName>();
  const frameIds = new Set(frames.map((f) => f.id));
  const groups = new Set(frames.map((f) => f.group));
  for (const split of SPLIT_NAMES) {
    for (const entry of lists[split] ?? []) {
      const isFrame = entry.includes('/');
      const target = isFrame ? byFrame : byGroup;
      const prev = target.get(entry);
      if (prev && prev !== split) log.error(file, `'${entry}' is listed in both ${prev} and ${split}`);
      target.set(entry, split);
      if (isFrame ? !frameIds.has(entry) : !groups.has(entry)) log.warn(file, `${split} lists '${entry}', which is not in the dataset`);
    }
  }
  return assign(frames, (f) => byFrame.get(f.id) ?? byGroup.get(f.group));
}

/**
 * Assigns `frame.split` from re-rooted CSV rows per split. Frames match by id; when no row of
 * any split matches a frame, the rows' cases are used instead (with a warning).
 */
export function applyCsvSplits(frames: readonly FrameRef[], rows: Partial<Record<SplitName, CsvFrame[]>>, source: string, log: IssueLog): Record<SplitName | 'none', number> {
  const byFrame = new Map<string, SplitName>();
  const byGroup = new Map<string, SplitName>();
  for (const split of SPLIT_NAMES) {
    for (const r of rows[split] ?? []) {
      const id = `${r.group}/${r.fileName}`;
      const prev = byFrame.get(id);
      if (prev && prev !== split) log.error(source, `frame '${id}' is listed in both ${prev} and ${split}`);
      byFrame.set(id, split);
      const g = byGroup.get(r.group);
      if (g && g !== split) log.warn(source, `case '${r.group}' has frames in both ${g} and ${split}`);
      byGroup.set(r.group, split);
    }
  }
  const matched = frames.filter((f) => byFrame.has(f.id)).length;
  if (matched === 0 && byFrame.size > 0) {
    log.warn(source, `no CSV row matches a frame by file name; assigning whole cases instead (${byGroup.size} cases)`);
    return assign(frames, (f) => byGroup.get(f.group));
  }
  const missing = byFrame.size - matched;
  if (missing > 0) log.warn(source, `${missing} CSV row(s) name frames that are not in the dataset`);
  return assign(frames, (f) => byFrame.get(f.id));
}

function assign(frames: readonly FrameRef[], pick: (f: FrameRef) => SplitName | undefined): Record<SplitName | 'none', number> {
  const counts = { train: 0, val: 0, test: 0, none: 0 };
  for (const f of frames) {
    f.split = pick(f);
    counts[f.split ?? 'none']++;
  }
  return counts;
}
