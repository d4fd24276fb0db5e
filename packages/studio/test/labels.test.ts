import { describe, expect, it } from 'vitest';
import {
  acceptDraft,
  addPoint,
  deleteObject,
  discardDraft,
  EMPTY_LABELS,
  maskArea,
  objectAt,
  promptKey,
  select,
  setBox,
  setClass,
  withMethod,
  withResult,
  type FrameLabels,
  type MaskResult,
} from '../src/state/labels.js';
import { History } from '../src/state/history.js';
import { classListProblem, classShortcut, defaultClasses, isCataract1kTitle, loadClasses, newClass, saveClasses } from '../src/state/classes.js';
import { actionFor } from '../src/keyboard.js';

/** A 4×3 result whose mask is 1 where `on` lists pixel indices. */
function result(on: number[], method: 'sam2' | 'rpsam2' = 'sam2'): MaskResult {
  const mask = new Uint8Array(12);
  for (const i of on) mask[i] = 1;
  return { method, width: 4, height: 3, mask, iou: 0.9, refined: method === 'rpsam2' ? [[1.5, 1.25]] : null };
}

describe('frame labels', () => {
  it('builds a draft from clicks and a box, and keys it by prompt and method', () => {
    let l = addPoint(EMPTY_LABELS, { x: 1, y: 1, label: 1 }, 4, 'sam2');
    l = addPoint(l, { x: 3, y: 0, label: 0 }, 9, 'rpsam2'); // class and method stay the draft's
    l = setBox(l, { x0: 0, y0: 0, x1: 3, y1: 2 }, 9, 'rpsam2');
    expect(l.draft).toEqual({ classId: 4, method: 'sam2', result: null, prompt: { points: [{ x: 1, y: 1, label: 1 }, { x: 3, y: 0, label: 0 }], box: { x0: 0, y0: 0, x1: 3, y1: 2 } } });
    expect(promptKey(l.draft!.prompt, 'sam2')).toBe('sam2: +1,1 -3,0 box 0,0,3,2');
    expect(EMPTY_LABELS.draft).toBeNull(); // never mutated
  });

  it('applies a decode answer only to the prompt it was asked for', () => {
    const l = addPoint(EMPTY_LABELS, { x: 1, y: 1, label: 1 }, 1, 'sam2');
    const stale = withResult(l, 'sam2: +2,2', result([5]));
    expect(stale).toBe(l);
    const fresh = withResult(l, promptKey(l.draft!.prompt, 'sam2'), result([5]));
    expect(fresh.draft?.result?.mask[5]).toBe(1);
    // Another method drops the answer (it belongs to the other method) and asks again.
    const other = withMethod(fresh, 'rpsam2');
    expect(other.draft?.result).toBeNull();
    expect(withMethod(other, 'rpsam2')).toBe(other);
  });

  it('accepts non-empty drafts as objects, deletes, re-classes and selects', () => {
    const key = 'sam2: +1,1';
    let l = withResult(addPoint(EMPTY_LABELS, { x: 1, y: 1, label: 1 }, 2, 'sam2'), key, result([5, 6]));
    expect(acceptDraft(addPoint(EMPTY_LABELS, { x: 0, y: 0, label: 1 }, 2, 'sam2'), 1).objects).toHaveLength(0); // no result yet
    l = acceptDraft(l, 7);
    expect(l.draft).toBeNull();
    expect(l.objects).toHaveLength(1);
    expect(l.objects[0]).toMatchObject({ id: 7, classId: 2, area: 2, method: 'sam2' });
    const empty = withResult(addPoint(l, { x: 0, y: 0, label: 1 }, 2, 'sam2'), 'sam2: +0,0', result([]));
    expect(acceptDraft(empty, 8)).toBe(empty); // an empty mask is not an object
    expect(setClass(l, 7, 5).objects[0].classId).toBe(5);
    expect(setClass(l, 7, 2)).toBe(l);
    expect(setClass(empty, null, 3).draft?.classId).toBe(3);
    expect(select(l, 7).selected).toBe(7);
    const gone = deleteObject(select(l, 7), 7);
    expect(gone.objects).toHaveLength(0);
    expect(gone.selected).toBeNull();
    expect(discardDraft(empty).draft).toBeNull();
  });

  it('finds the topmost object under a pixel', () => {
    let l: FrameLabels = EMPTY_LABELS;
    l = acceptDraft(withResult(addPoint(l, { x: 1, y: 1, label: 1 }, 1, 'sam2'), 'sam2: +1,1', result([5, 6])), 1);
    l = acceptDraft(withResult(addPoint(l, { x: 2, y: 1, label: 1 }, 2, 'sam2'), 'sam2: +2,1', result([6, 7])), 2);
    expect(objectAt(l, 1, 1)?.id).toBe(1);
    expect(objectAt(l, 2, 1)?.id).toBe(2); // both cover it: the later one is on top
    expect(objectAt(l, 0, 0)).toBeNull();
    expect(objectAt(l, 9, 9)).toBeNull();
    expect(maskArea(Uint8Array.from([1, 0, 1, 1]))).toBe(3);
  });
});

describe('History', () => {
  it('undoes and redoes steps across frames, and a new step clears the redo stack', () => {
    const h = new History<string>();
    h.record('f1', 'click', 'a0', 'a1');
    h.record('f2', 'click', 'b0', 'b1');
    h.record('f1', 'accept', 'a1', 'a2');
    h.record('f1', 'noop', 'a2', 'a2'); // no change: not a step
    expect(h.depth).toBe(3);
    expect(h.undo()).toMatchObject({ frameId: 'f1', before: 'a1' });
    expect(h.undo()).toMatchObject({ frameId: 'f2', before: 'b0' });
    expect(h.redo()).toMatchObject({ frameId: 'f2', after: 'b1' });
    expect(h.canRedo).toBe(true);
    h.record('f3', 'box', 'c0', 'c1');
    expect(h.canRedo).toBe(false);
    expect(h.redo()).toBeNull();
    h.clear();
    expect(h.undo()).toBeNull();
  });

  it('drops the oldest steps past its limit', () => {
    const h = new History<number>(2);
    for (let i = 0; i < 5; i++) h.record('f', 's', i, i + 1);
    expect(h.depth).toBe(2);
    expect(h.undo()?.before).toBe(4);
    expect(h.undo()?.before).toBe(3);
    expect(h.undo()).toBeNull();
    expect(() => new History(0)).toThrow(/limit/);
  });
});

describe('class list', () => {
  it('defaults to the 10 Cataract-1k instrument classes in Table 1 order, with keys 1–0', () => {
    const c = defaultClasses();
    expect(c.map((k) => k.key)).toEqual(['CC', 'CF', 'G', 'IA', 'IK', 'KF', 'LI', 'PhT', 'SK', 'S']);
    expect(c.map((k) => k.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(c.every((k) => isCataract1kTitle(k.name))).toBe(true);
    expect(classListProblem(c)).toBeNull();
    expect([0, 8, 9, 10].map(classShortcut)).toEqual(['1', '9', '0', '']);
    expect(isCataract1kTitle('Pupil')).toBe(false); // anatomy is not an instrument class
  });

  it('validates edits and adds classes with fresh ids and colours', () => {
    const c = defaultClasses();
    expect(classListProblem([...c, { ...c[0], id: 11 }])).toMatch(/abbreviated 'CC'/);
    expect(classListProblem([{ ...c[0], name: ' ' }])).toMatch(/empty name/);
    expect(classListProblem([{ ...c[0], color: 'red' }])).toMatch(/not #rrggbb/);
    expect(classListProblem([{ ...c[0], id: 256 }])).toMatch(/1–255/);
    expect(classListProblem([])).toMatch(/empty/);
    const n = newClass(c, 'Ret', 'Retractor');
    expect(n.id).toBe(11);
    expect(c.some((k) => k.color === n.color)).toBe(false);
  });

  it('persists the list and falls back to the default on bad data', () => {
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    const edited = [...defaultClasses().slice(0, 2), newClass(defaultClasses(), 'X', 'Extra')];
    saveClasses(storage, edited);
    expect(loadClasses(storage)).toEqual(edited);
    for (const v of store.keys()) store.set(v, '[{"id":1}]');
    expect(loadClasses(storage)).toEqual(defaultClasses());
    expect(loadClasses(null)).toEqual(defaultClasses());
  });
});

describe('keyboard', () => {
  const press = (key: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean }> = {}) =>
    actionFor({ key, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods });

  it('maps the documented keys', () => {
    expect(press('1')).toEqual({ type: 'class', index: 0 });
    expect(press('0')).toEqual({ type: 'class', index: 9 });
    expect(press('n')).toEqual({ type: 'next-frame' });
    expect(press('ArrowLeft')).toEqual({ type: 'prev-frame' });
    expect(press('z')).toEqual({ type: 'undo' });
    expect(press('Z', { shiftKey: true })).toEqual({ type: 'redo' });
    expect(press('z', { ctrlKey: true })).toEqual({ type: 'undo' });
    expect(press('z', { metaKey: true, shiftKey: true })).toEqual({ type: 'redo' });
    expect(press('y', { ctrlKey: true })).toEqual({ type: 'redo' });
    expect(press('r')).toEqual({ type: 'toggle-method' });
    expect(press('R')).toEqual({ type: 'toggle-method' });
    expect(press('b')).toEqual({ type: 'toggle-box' });
    expect(press('Enter')).toEqual({ type: 'accept' });
    expect(press('Escape')).toEqual({ type: 'discard' });
    expect(press('Delete')).toEqual({ type: 'delete-selected' });
    expect(press('-')).toEqual({ type: 'zoom', factor: 0.8 });
  });

  it('leaves browser shortcuts and unknown keys alone', () => {
    expect(press('r', { ctrlKey: true })).toBeNull(); // reload
    expect(press('1', { altKey: true })).toBeNull();
    expect(press('q')).toBeNull();
    expect(press('F5')).toBeNull();
  });
});
