/**
 * The labels of one frame, as immutable values: accepted objects and at most one draft (the
 * object being prompted). Every edit returns a new value, so the undo history can keep the
 * states before and after each step (masks are shared, never copied or mutated).
 *
 * A draft's mask is a function of (frame, prompt, method): `promptKey` names that triple's
 * prompt part, so a decode answer is applied only to the draft it was asked for.
 */
import type { Method, ObjectPrompt, PromptBox, PromptPoint } from '../worker/protocol.js';

/** What the model answered for a prompt. */
export interface MaskResult {
  method: Method;
  width: number;
  height: number;
  /** 0/1 per pixel, row-major. */
  mask: Uint8Array;
  iou: number;
  /** Refined positive clicks (RP-SAM2), in the order of the prompt's positive points. */
  refined: [number, number][] | null;
}

/** The object being prompted. */
export interface Draft {
  classId: number;
  prompt: ObjectPrompt;
  method: Method;
  /** Null while the model works (or when it failed). */
  result: MaskResult | null;
}

/** An accepted object. */
export interface LabelObject {
  /** Unique within the session. */
  id: number;
  classId: number;
  prompt: ObjectPrompt;
  method: Method;
  result: MaskResult;
  /** Foreground pixels. */
  area: number;
}

/** One frame's labels. */
export interface FrameLabels {
  objects: readonly LabelObject[];
  draft: Draft | null;
  /** The selected accepted object (its id), or null. */
  selected: number | null;
}

/** No labels. */
export const EMPTY_LABELS: FrameLabels = Object.freeze({ objects: Object.freeze([]) as readonly LabelObject[], draft: null, selected: null });

/** A stable string for (prompt, method): equal keys give equal masks. */
export function promptKey(prompt: ObjectPrompt, method: Method): string {
  const pts = prompt.points.map((p) => `${p.label ? '+' : '-'}${p.x},${p.y}`).join(' ');
  const box = prompt.box ? ` box ${prompt.box.x0},${prompt.box.y0},${prompt.box.x1},${prompt.box.y1}` : '';
  return `${method}: ${pts}${box}`;
}

/** Whether a prompt has anything to segment from. */
export function hasPrompt(prompt: ObjectPrompt): boolean {
  return prompt.points.length > 0 || prompt.box !== null;
}

/** Adds a click to the draft (starting one with `classId` and `method` when there is none). */
export function addPoint(labels: FrameLabels, point: PromptPoint, classId: number, method: Method): FrameLabels {
  const d = labels.draft;
  const prompt: ObjectPrompt = d ? { points: [...d.prompt.points, point], box: d.prompt.box } : { points: [point], box: null };
  return { ...labels, draft: { classId: d?.classId ?? classId, prompt, method: d?.method ?? method, result: null }, selected: null };
}

/** Sets the draft's box (starting a draft when there is none). */
export function setBox(labels: FrameLabels, box: PromptBox, classId: number, method: Method): FrameLabels {
  const d = labels.draft;
  const prompt: ObjectPrompt = { points: d ? d.prompt.points : [], box };
  return { ...labels, draft: { classId: d?.classId ?? classId, prompt, method: d?.method ?? method, result: null }, selected: null };
}

/** The draft with its prompt decoded again by another method (null result until answered). */
export function withMethod(labels: FrameLabels, method: Method): FrameLabels {
  const d = labels.draft;
  if (!d || d.method === method) return labels;
  return { ...labels, draft: { ...d, method, result: null } };
}

/** Applies a decode answer when it is for the current draft's prompt and method; otherwise unchanged. */
export function withResult(labels: FrameLabels, key: string, result: MaskResult): FrameLabels {
  const d = labels.draft;
  if (!d || promptKey(d.prompt, d.method) !== key) return labels;
  return { ...labels, draft: { ...d, result } };
}

/** Count of 1s in a mask. */
export function maskArea(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i];
  return n;
}

/**
 * Accepts the draft as an object (it needs a non-empty mask); returns the labels unchanged when
 * there is nothing to accept. The new object becomes the selection.
 */
export function acceptDraft(labels: FrameLabels, id: number): FrameLabels {
  const d = labels.draft;
  if (!d?.result) return labels;
  const area = maskArea(d.result.mask);
  if (area === 0) return labels;
  const obj: LabelObject = { id, classId: d.classId, prompt: d.prompt, method: d.method, result: d.result, area };
  return { objects: [...labels.objects, obj], draft: null, selected: null };
}

/** Drops the draft. */
export function discardDraft(labels: FrameLabels): FrameLabels {
  return labels.draft ? { ...labels, draft: null } : labels;
}

/** Removes an accepted object. */
export function deleteObject(labels: FrameLabels, id: number): FrameLabels {
  if (!labels.objects.some((o) => o.id === id)) return labels;
  return { ...labels, objects: labels.objects.filter((o) => o.id !== id), selected: labels.selected === id ? null : labels.selected };
}

/** Changes the class of an accepted object or of the draft (id null). */
export function setClass(labels: FrameLabels, id: number | null, classId: number): FrameLabels {
  if (id === null) return labels.draft && labels.draft.classId !== classId ? { ...labels, draft: { ...labels.draft, classId } } : labels;
  if (!labels.objects.some((o) => o.id === id && o.classId !== classId)) return labels;
  return { ...labels, objects: labels.objects.map((o) => (o.id === id ? { ...o, classId } : o)) };
}

/** Selects an accepted object (or clears the selection with null). */
export function select(labels: FrameLabels, id: number | null): FrameLabels {
  return labels.selected === id ? labels : { ...labels, selected: id };
}

/** The topmost accepted object covering pixel (x, y) (later objects are drawn above earlier ones), or null. */
export function objectAt(labels: FrameLabels, x: number, y: number): LabelObject | null {
  for (let i = labels.objects.length - 1; i >= 0; i--) {
    const o = labels.objects[i];
    const r = o.result;
    if (x >= 0 && y >= 0 && x < r.width && y < r.height && r.mask[y * r.width + x]) return o;
  }
  return null;
}
