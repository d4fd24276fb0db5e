/**
 * Editing the labels: clicks and boxes make or refine the current object (the draft), every
 * change is one undo step, and a draft whose prompt has no mask yet is sent to the model worker
 * (answers are memoised by prompt, so undo/redo and method toggles reuse them, and applied only
 * if the prompt is still the same). Accepting a draft whose mask is still on its way accepts it
 * when the mask arrives. Also the class and method of new objects, and the class list.
 */
import type { StudioApp } from '../app.js';
import { safeStorage } from '../view/dom.js';
import type { Modifiers } from '../view/canvas-view.js';
import { ERROR_TITLES } from '../view/messages.js';
import { ModelError } from '../worker/model-client.js';
import type { Method, ObjectPrompt, PromptBox } from '../worker/protocol.js';
import { classListProblem, saveClasses, type LabelClass } from './classes.js';
import {
  acceptDraft,
  addPoint,
  discardDraft,
  EMPTY_LABELS,
  hasPrompt,
  objectAt,
  promptKey,
  select,
  setBox,
  setClass,
  withMethod,
  withResult,
  type FrameLabels,
  type MaskResult,
} from './labels.js';

/** How many decode answers are remembered (undo/redo and method toggles reuse them). */
const MEMO_LIMIT = 300;

export class LabelEditor {
  private readonly decoding = new Set<string>();
  private readonly memo = new Map<string, MaskResult>();
  /** Objects to accept as soon as their mask arrives (Enter, or a new click, came first), by frame|prompt key. */
  private readonly acceptWhenReady = new Map<string, { classId: number; prompt: ObjectPrompt; method: Method }>();

  constructor(private readonly app: StudioApp) {}

  /** Whether a mask is being asked for: any (no key), or that of a frame|prompt key. */
  isDecoding(memoKey?: string): boolean {
    return memoKey === undefined ? this.decoding.size > 0 : this.decoding.has(memoKey);
  }

  /** Forgets every remembered answer (another model: its masks differ). */
  forgetAnswers(): void {
    this.memo.clear();
  }

  /** Replaces a frame's labels as one undo step, then decodes the draft if needed. */
  commit(frameId: string, next: FrameLabels, label: string): void {
    const { session } = this.app;
    const before = session.labelsOf(frameId);
    if (before === next) return;
    session.history.record(frameId, label, before, next);
    session.labels.set(frameId, next);
    this.afterLabelsChanged(frameId);
  }

  /** Replaces labels without an undo step (decode answers). */
  private setLabels(frameId: string, next: FrameLabels): void {
    const { session } = this.app;
    if (session.labelsOf(frameId) === next) return;
    session.labels.set(frameId, next);
    this.afterLabelsChanged(frameId);
  }

  private afterLabelsChanged(frameId: string): void {
    const { session, render } = this.app;
    this.ensureDecoded(frameId);
    render.frameRow(frameId);
    if (frameId === session.currentFrame()?.id) {
      render.refreshView();
      render.all();
    }
  }

  /** Asks the worker for the draft's mask when it has none (memoised by prompt). */
  ensureDecoded(frameId: string): void {
    const { session, model, msg, render } = this.app;
    const d = session.labelsOf(frameId).draft;
    if (!d || d.result || !hasPrompt(d.prompt)) return;
    const key = promptKey(d.prompt, d.method);
    const memoKey = `${frameId}|${key}`;
    const known = this.memo.get(memoKey);
    if (known) {
      this.applyResult(frameId, key, known);
      return;
    }
    if (this.decoding.has(memoKey)) return;
    if (d.method === 'rpsam2' && !model.shift) {
      msg.notice('RP-SAM2 needs a shift block: load one (Shift block…) or press r for SAM 2.', 'warning');
      return;
    }
    this.decoding.add(memoKey);
    render.all();
    const prompt = d.prompt;
    const method = d.method;
    const generation = model.shiftGeneration;
    let stale = false;
    (async () => {
      await model.ensureEncoded(frameId, 'now');
      const r = await model.decode(frameId, prompt, method);
      // Segmented by a shift block replaced meanwhile: asked again below, with the new one.
      if (method === 'rpsam2' && generation !== model.shiftGeneration) {
        stale = true;
        return;
      }
      const result: MaskResult = { method: r.method, width: r.width, height: r.height, mask: r.mask, iou: r.iou, refined: r.refined };
      this.memo.set(memoKey, result);
      if (this.memo.size > MEMO_LIMIT) this.memo.delete(this.memo.keys().next().value!);
      this.applyResult(frameId, key, result);
    })()
      .catch((e: unknown) => {
        // After a lost device the decode is asked again once the model is back.
        if (model.lostDevice(e) || model.restarting) return;
        const err = e as ModelError;
        this.acceptWhenReady.delete(memoKey);
        msg.banner('decode', 'error', err instanceof ModelError ? (ERROR_TITLES[err.code] ?? 'Segmentation failed') : 'Segmentation failed', err.message);
      })
      .finally(() => {
        this.decoding.delete(memoKey);
        if (stale) this.ensureDecoded(frameId);
        render.all();
      });
  }

  private applyResult(frameId: string, key: string, result: MaskResult): void {
    const { session, msg } = this.app;
    const memoKey = `${frameId}|${key}`;
    const now = session.labelsOf(frameId);
    const waiting = this.acceptWhenReady.get(memoKey);
    if (waiting) {
      // Accepted (Enter, a new click, another frame) before the answer came: add it now, as one
      // step, whether or not it is still the current object.
      this.acceptWhenReady.delete(memoKey);
      const isCurrent = !!now.draft && promptKey(now.draft.prompt, now.draft.method) === key;
      const accepted = acceptDraft({ ...now, draft: { ...waiting, result } }, session.nextObjectId);
      if (accepted.objects.length > now.objects.length) {
        session.nextObjectId++;
        this.commit(frameId, { ...accepted, draft: isCurrent ? null : now.draft }, 'accept');
        return;
      }
      msg.notice('The mask is empty: nothing was accepted.', 'warning');
    }
    const next = withResult(now, key, result);
    if (next !== now) this.setLabels(frameId, next);
  }

  /** Accepts the frame's draft now, or as soon as its mask arrives. */
  acceptCurrent(frameId: string): void {
    const { session, msg } = this.app;
    const l = session.labelsOf(frameId);
    const d = l.draft;
    if (!d) return;
    if (d.result) {
      const next = acceptDraft(l, session.nextObjectId);
      if (next === l) {
        msg.notice('The mask is empty: nothing to accept (Esc discards it).', 'warning');
        return;
      }
      session.nextObjectId++;
      this.commit(frameId, next, 'accept');
    } else if (hasPrompt(d.prompt)) {
      const memoKey = `${frameId}|${promptKey(d.prompt, d.method)}`;
      this.acceptWhenReady.set(memoKey, { classId: d.classId, prompt: d.prompt, method: d.method });
    }
  }

  /**
   * Another shift block is in use (a user's replaces the default one): the old block's RP-SAM2
   * answers are forgotten and the current object, if RP-SAM2, is segmented again. Accepted
   * objects keep their masks.
   */
  forgetRpSam2Answers(): void {
    const { session, model } = this.app;
    model.shiftGeneration++;
    for (const [k, r] of this.memo) if (r.method === 'rpsam2') this.memo.delete(k);
    const f = session.currentFrame();
    const l = f ? session.labelsOf(f.id) : EMPTY_LABELS;
    const d = l.draft;
    if (f && d?.method === 'rpsam2' && d.result) this.setLabels(f.id, { ...l, draft: { ...d, result: null } });
  }

  // ---------------------------------------------------------------- input on the frame

  /** A click on the frame: a new object, or (Ctrl/⌘, Shift) a positive or negative click on the current one; Alt selects. */
  onClick(x: number, y: number, mods: Modifiers): void {
    const { session, model, msg } = this.app;
    const f = session.currentFrame();
    if (!f || !model.requireModel()) return;
    const l = session.labelsOf(f.id);
    if (mods.alt) {
      const o = objectAt(l, x, y);
      this.commit(f.id, select(l, o?.id ?? null), 'select');
      return;
    }
    if (mods.shift || mods.ctrl) {
      if (!l.draft) {
        if (mods.shift) return void msg.notice('Shift + click adds a negative click to the current object: click an instrument first.');
      }
      this.commit(f.id, addPoint(l, { x, y, label: mods.shift ? 0 : 1 }, session.classId, session.method), mods.shift ? 'negative click' : 'positive click');
      return;
    }
    // A plain click starts a new object; the current one is kept.
    this.acceptCurrent(f.id);
    const base = discardDraft(session.labelsOf(f.id));
    this.commit(f.id, addPoint(base, { x, y, label: 1 }, session.classId, session.method), 'click');
  }

  /** A box drawn on the frame: a new object (Ctrl/⌘: the box of the current one). */
  onBox(box: PromptBox, mods: Modifiers): void {
    const { session, model } = this.app;
    const f = session.currentFrame();
    if (!f || !model.requireModel()) return;
    if (!mods.ctrl) this.acceptCurrent(f.id);
    const base = mods.ctrl ? session.labelsOf(f.id) : discardDraft(session.labelsOf(f.id));
    this.commit(f.id, setBox(base, box, session.classId, session.method), 'box');
  }

  // ---------------------------------------------------------------- method, class, history

  setMethod(method: Method, redecode: boolean): void {
    const { session, model, msg, render } = this.app;
    if (method === 'rpsam2' && !model.shift) {
      msg.notice('RP-SAM2 needs a shift block: use “Shift block…” to load a checkpoint.', 'warning');
      return;
    }
    session.method = method;
    const f = session.currentFrame();
    if (redecode && f) {
      const l = session.labelsOf(f.id);
      const next = withMethod(l, method);
      if (next !== l) this.commit(f.id, next, method === 'rpsam2' ? 'RP-SAM2' : 'SAM 2');
    }
    render.all();
  }

  setCurrentClass(id: number): void {
    const { session, render } = this.app;
    session.classId = id;
    const f = session.currentFrame();
    if (f) {
      const l = session.labelsOf(f.id);
      const target = l.draft ? null : l.selected;
      if (l.draft || target !== null) this.commit(f.id, setClass(l, target, id), 'class');
    }
    render.classes();
    render.all();
  }

  undoRedo(redo: boolean): void {
    const { session, msg, nav } = this.app;
    const step = redo ? session.history.redo() : session.history.undo();
    if (!step) return void msg.notice(redo ? 'Nothing to redo.' : 'Nothing to undo.');
    const state = redo ? step.after : step.before;
    session.labels.set(step.frameId, state);
    const index = session.frames.findIndex((f) => f.id === step.frameId);
    if (index !== session.current && index >= 0) void nav.showFrame(index);
    this.afterLabelsChanged(step.frameId);
    msg.status(`${redo ? 'redid' : 'undid'}: ${step.label}`, null);
  }

  /** Replaces the class list (saved in the browser) unless it has a problem, which is shown instead. */
  updateClasses(next: LabelClass[]): boolean {
    const { session, msg, render } = this.app;
    const problem = classListProblem(next);
    if (problem) {
      msg.notice(`Class list not changed: ${problem}.`, 'warning');
      render.classes();
      return false;
    }
    session.classes = next;
    if (!next.some((c) => c.id === session.classId)) session.classId = next[0].id;
    saveClasses(safeStorage(), next);
    render.classes();
    render.refreshView();
    render.all();
    return true;
  }
}
