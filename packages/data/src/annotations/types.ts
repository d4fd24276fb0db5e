/**
 * What annotation readers hand a loader: the objects an annotation file describes (class and
 * geometry, rasterised on demand), and the problems found while reading, naming the file.
 */
import type { CocoRle } from '@rpsam2/sam2';
import type { ObjectKind } from '../classes/cataract1k.js';
import type { Ring } from './polygon.js';

/** A problem found in a file. Errors make a strict loader throw; warnings never do. */
export interface DatasetIssue {
  severity: 'error' | 'warning';
  /** The file at fault (absolute or as given). */
  file: string;
  /** What is wrong, in words. */
  message: string;
}

/** Thrown by a strict loader; `issues` holds every error and warning found. */
export class DatasetError extends Error {
  constructor(
    readonly dataset: string,
    readonly issues: readonly DatasetIssue[],
  ) {
    super(formatIssues(dataset, issues));
    this.name = 'DatasetError';
  }
}

/** "<dataset>: N errors (M warnings)" and one line per issue, errors first (at most `max`). */
export function formatIssues(dataset: string, issues: readonly DatasetIssue[], max = 25): string {
  const errors = issues.filter((i) => i.severity === 'error');
  const warnings = issues.filter((i) => i.severity === 'warning');
  const shown = [...errors, ...warnings].slice(0, max);
  const lines = shown.map((i) => `  ${i.severity}: ${i.file}: ${i.message}`);
  if (errors.length + warnings.length > shown.length) lines.push(`  … and ${errors.length + warnings.length - shown.length} more`);
  return `${dataset}: ${errors.length} error${errors.length === 1 ? '' : 's'}, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}\n${lines.join('\n')}`;
}

/** Collects issues while a loader reads. */
export class IssueLog {
  readonly issues: DatasetIssue[] = [];
  /** Records an error against `file` (a strict loader throws when there is one). */
  error(file: string, message: string): void {
    this.issues.push({ severity: 'error', file, message });
  }
  /** Records a warning against `file` (it never makes a loader throw). */
  warn(file: string, message: string): void {
    this.issues.push({ severity: 'warning', file, message });
  }
  /** Parses JSON text; a syntax error is logged against the file (`bad JSON (…)`) and gives undefined. */
  parseJson(text: string, file: string): unknown {
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      this.error(file, `bad JSON (${(e as Error).message})`);
      return undefined;
    }
  }
  get errorCount(): number {
    return this.issues.filter((i) => i.severity === 'error').length;
  }
}

/**
 * The geometry of an annotated object:
 * - `polygon`: one shape, even-odd over all its rings (a Supervisely exterior and its holes);
 * - `polygons`: the union of several polygons, each even-odd (a COCO polygon list);
 * - `rle`: a COCO run-length encoding.
 */
export type ObjectShape = { type: 'polygon'; rings: Ring[] } | { type: 'polygons'; polygons: Ring[] } | { type: 'rle'; rle: CocoRle };

/** An object as an annotation file describes it (rasterised on demand). */
export interface AnnotatedObject {
  /** Position in the file's object list. */
  index: number;
  /** The class title as written in the file. */
  classTitle: string;
  classKey: string;
  className: string;
  kind: ObjectKind;
  shape: ObjectShape;
  /** The file's own id for the object, when it has one. */
  sourceId?: number | string;
}
