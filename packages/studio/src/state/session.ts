/**
 * The labeling session's state: the open frames with their page status, each frame's labels and
 * the undo history, the current frame, the class list with the class and method for new objects.
 * Plain data and lookups; the parts of the page change it (state/label-editor.ts,
 * frames/frame-navigator.ts) and draw it (view/page-render.ts).
 */
import type { FrameEntry } from '../frames/frame-list.js';
import type { Method } from '../worker/protocol.js';
import type { LabelClass } from './classes.js';
import { History } from './history.js';
import { EMPTY_LABELS, type FrameLabels } from './labels.js';

/** Per-frame page state (the labels live in their own map). */
export interface FrameStatus {
  decode: 'new' | 'ok' | 'bad';
  decodeError: string | null;
  width: number;
  height: number;
  thumb: string | null;
  embed: 'none' | 'queued' | 'encoding' | 'cached' | 'error';
  embedError: string | null;
  progress: number | null;
}

/** The status of a frame just opened: not decoded, not encoded. */
export function newFrameStatus(): FrameStatus {
  return { decode: 'new', decodeError: null, width: 0, height: 0, thumb: null, embed: 'none', embedError: null, progress: null };
}

export class StudioSession {
  frames: FrameEntry[] = [];
  readonly status = new Map<string, FrameStatus>();
  readonly labels = new Map<string, FrameLabels>();
  readonly history = new History<FrameLabels>();
  /** Index of the frame shown, -1 before the first. */
  current = -1;
  classes: LabelClass[];
  /** The class of new objects. */
  classId: number;
  /** The method of new objects. */
  method: Method = 'sam2';
  nextObjectId = 1;

  constructor(classes: LabelClass[]) {
    this.classes = classes;
    this.classId = classes[0].id;
  }

  currentFrame(): FrameEntry | null {
    return this.frames[this.current] ?? null;
  }

  labelsOf(id: string): FrameLabels {
    return this.labels.get(id) ?? EMPTY_LABELS;
  }

  /** How many accepted objects use each class id. */
  classUsage(): Map<number, number> {
    const m = new Map<number, number>();
    for (const l of this.labels.values()) for (const o of l.objects) m.set(o.classId, (m.get(o.classId) ?? 0) + 1);
    return m;
  }
}
