/**
 * Drawing the session into the page: the frame list, the class list, the current frame's
 * overlay and prompt markers, the object and draft panels, the model panel, the status line and
 * which controls are enabled. Each part is redrawn from the state when it may have changed.
 */
import type { StudioApp } from '../app.js';
import type { FrameEntry } from '../frames/frame-list.js';
import { SHORTCUT_HELP } from '../keyboard.js';
import { deleteObject, EMPTY_LABELS, promptKey, select } from '../state/labels.js';
import type { Markers } from './canvas-view.js';
import { $ } from './dom.js';
import { overlayPixels } from './overlay.js';
import { classList, definitionList, el, frameRow, objectList, type FrameRow } from './panels.js';

export class PageRenderer {
  /** The frame coordinate under the pointer, shown in the status line. */
  hover: { x: number; y: number } | null = null;

  constructor(private readonly app: StudioApp) {}

  /** The current frame's overlay (objects, draft) and prompt markers on the canvas. */
  refreshView(): void {
    const { session, view } = this.app;
    const f = session.currentFrame();
    const s = f ? session.status.get(f.id) : undefined;
    if (!f || !s || s.decode !== 'ok') {
      view.setOverlay(null, 0, 0);
      view.setMarkers([]);
      return;
    }
    const l = session.labelsOf(f.id);
    view.setOverlay(overlayPixels(l, session.classes, s.width, s.height), s.width, s.height);
    const color = (id: number) => session.classes.find((c) => c.id === id)?.color ?? '#ffffff';
    const markers: Markers[] = [];
    const sel = l.objects.find((o) => o.id === l.selected);
    if (sel) markers.push({ points: sel.prompt.points, refined: sel.result.refined, box: sel.prompt.box, color: color(sel.classId) });
    if (l.draft) markers.push({ points: l.draft.prompt.points, refined: l.draft.result?.refined ?? null, box: l.draft.prompt.box, color: color(l.draft.classId) });
    view.setMarkers(markers);
  }

  private frameRowData(f: FrameEntry): FrameRow {
    const { session } = this.app;
    const s = session.status.get(f.id)!;
    const state = s.decode === 'bad' ? 'bad' : s.embed;
    const title = s.decode === 'bad' ? (s.decodeError ?? '') : s.embed === 'error' ? (s.embedError ?? '') : `${f.path} → ${f.caseName}${s.width ? ` (${s.width}×${s.height})` : ''}`;
    return { id: f.id, name: f.name, caseName: f.caseName, thumb: s.thumb, state, progress: s.progress, objects: session.labelsOf(f.id).objects.length, title };
  }

  /** The whole frame list. */
  frames(): void {
    const { session, nav } = this.app;
    const ul = $('frames');
    ul.replaceChildren();
    session.frames.forEach((f, i) => ul.append(frameRow(this.frameRowData(f), i === session.current, () => void nav.showFrame(i))));
    if (session.frames.length === 0) ul.append(el('li', 'empty', 'No frames yet.'));
    ul.querySelector('.current')?.scrollIntoView({ block: 'nearest' });
    $('frame-count').textContent = session.frames.length ? String(session.frames.length) : '';
    $('dropzone').hidden = session.frames.length > 0;
  }

  /** One row of the frame list. */
  frameRow(id: string): void {
    const { session, nav } = this.app;
    const i = session.frames.findIndex((f) => f.id === id);
    if (i < 0) return;
    const old = $('frames').querySelector<HTMLElement>(`li[data-id="${CSS.escape(id)}"]`);
    const row = frameRow(this.frameRowData(session.frames[i]), i === session.current, () => void nav.showFrame(i));
    if (old) old.replaceWith(row);
    if (i === session.current) this.stageOverlay();
  }

  /** The class list (pick, rename, remove). */
  classes(): void {
    const { session, editor, msg } = this.app;
    classList($('classes'), session.classes, session.classId, session.classUsage(), {
      pick: (id) => editor.setCurrentClass(id),
      rename: (id, key, name) => editor.updateClasses(session.classes.map((c) => (c.id === id ? { ...c, key, name } : c))),
      remove: (id) => {
        const used = session.classUsage().get(id) ?? 0;
        if (used) return void msg.notice(`${used} object${used === 1 ? ' uses' : 's use'} this class: re-label or delete ${used === 1 ? 'it' : 'them'} first.`, 'warning');
        if (session.classes.length === 1) return void msg.notice('The last class cannot be removed.', 'warning');
        editor.updateClasses(session.classes.filter((c) => c.id !== id));
      },
    });
  }

  /** The keyboard shortcuts table. */
  help(): void {
    const table = $('help');
    table.replaceChildren();
    for (const [k, v] of SHORTCUT_HELP) {
      const tr = el('tr');
      tr.append(el('td', 'keys', k), el('td', '', v));
      table.append(tr);
    }
  }

  /** The frame's state over the canvas (encoding progress, decode failure). */
  stageOverlay(): void {
    const { session, model } = this.app;
    const box = $('stage-note');
    const f = session.currentFrame();
    const s = f ? session.status.get(f.id) : undefined;
    if (!f || !s) return void (box.hidden = true);
    let text = '';
    if (s.decode === 'bad') text = `⚠ ${s.decodeError}`;
    else if (model.model && (s.embed === 'encoding' || s.embed === 'queued')) text = s.embed === 'queued' ? 'waiting for the encoder…' : `encoding this frame${s.progress !== null ? ` · ${Math.round(s.progress * 100)} %` : '…'} (once per frame; clicks are answered as soon as it is done)`;
    else if (s.embed === 'error') text = `⚠ encoder failed: ${s.embedError}`;
    box.hidden = !text;
    box.textContent = text;
    box.classList.toggle('bad', s.decode === 'bad' || s.embed === 'error');
  }

  /** The right part of the status line: pointer position, frame size, WebGPU adapter. */
  statusRight(): void {
    const { session, model } = this.app;
    const parts: string[] = [];
    if (this.hover) parts.push(`x ${this.hover.x}, y ${this.hover.y}`);
    const f = session.currentFrame();
    const s = f ? session.status.get(f.id) : undefined;
    if (s?.width) parts.push(`${s.width}×${s.height}`);
    parts.push(model.adapter ? `WebGPU: ${model.adapter}` : model.webgpu === 'missing' ? 'no WebGPU' : 'WebGPU: …');
    $('status-right').textContent = parts.join('  ·  ');
  }

  /** Everything that depends on the general state (cheap: small lists). */
  all(): void {
    const { session, model, view, editor } = this.app;
    const f = session.currentFrame();
    const l = f ? session.labelsOf(f.id) : EMPTY_LABELS;
    for (const b of document.querySelectorAll<HTMLButtonElement>('[data-method]')) {
      b.classList.toggle('active', b.dataset.method === session.method);
      b.disabled = b.dataset.method === 'rpsam2' && !model.shift;
      if (b.dataset.method === 'rpsam2') b.title = model.shift ? `RP-SAM2 with the shift block ${model.shift.label} (r)` : 'Load a shift block to use RP-SAM2';
    }
    $('box-mode').classList.toggle('active', view.boxMode);
    ($('undo') as HTMLButtonElement).disabled = !session.history.canUndo;
    ($('redo') as HTMLButtonElement).disabled = !session.history.canRedo;
    const haveModel = !!model.model && !model.modelLoading;
    ($('load-weights') as HTMLButtonElement).disabled = model.webgpu !== 'ok' || model.modelLoading;
    ($('load-shift') as HTMLButtonElement).disabled = !haveModel;
    const labeled = [...session.labels.values()].some((x) => x.objects.length > 0 || !!x.draft?.result);
    for (const id of ['export-coco', 'export-zip', 'export-png']) ($(id) as HTMLButtonElement).disabled = !labeled;
    document.body.classList.toggle('box-mode', view.boxMode);

    objectList($('objects'), l.objects, session.classes, l.selected, {
      select: (id) => f && editor.commit(f.id, select(l, l.selected === id ? null : id), 'select'),
      remove: (id) => f && editor.commit(f.id, deleteObject(l, id), 'delete'),
    });
    const d = l.draft;
    const dc = d ? session.classes.find((c) => c.id === d.classId) : undefined;
    const key = d && f ? `${f.id}|${promptKey(d.prompt, d.method)}` : '';
    const rows: [string, string][] = d
      ? [
          ['class', dc ? `${dc.key} · ${dc.name}` : '?'],
          ['method', d.method === 'rpsam2' ? 'RP-SAM2' : 'SAM 2'],
          ['prompt', `${d.prompt.points.filter((p) => p.label === 1).length} positive, ${d.prompt.points.filter((p) => p.label === 0).length} negative${d.prompt.box ? ', box' : ''}`],
          ['mask', d.result ? `pred. IoU ${d.result.iou.toFixed(3)} · ${d.result.mask.reduce((a, b) => a + b, 0).toLocaleString('en')} px` : editor.isDecoding(key) ? 'segmenting…' : '—'],
          ...(d.result?.refined?.length
            ? ([['shift', d.result.refined.map((r, i) => { const p = d.prompt.points.filter((q) => q.label === 1)[i]; return `(${(r[0] - p.x).toFixed(1)}, ${(r[1] - p.y).toFixed(1)}) px`; }).join(' ')]] as [string, string][])
            : []),
        ]
      : [['', 'Click an instrument to start an object.']];
    definitionList($('draft-info'), rows);
    $('draft-actions').hidden = !d;

    const m = model.model;
    definitionList($('model-info'), [
      ['SAM 2', m ? m.label : model.webgpu === 'missing' ? 'unavailable (no WebGPU)' : 'loading…'],
      ...(m ? ([['size', `${(m.parameters / 1e6).toFixed(2)} M params · ${m.imageSize}² · ${m.dtype}`]] as [string, string][]) : []),
      ['shift block', model.shift ? `${model.shift.label} · ${(model.shift.parameters / 1e6).toFixed(2)} M params${model.shift.epoch !== null ? `, epoch ${model.shift.epoch}` : ''}` : 'none: RP-SAM2 off'],
    ]);
    this.statusRight();
    this.stageOverlay();
    ($('stage') as HTMLElement).classList.toggle('has-frame', !!f);
    const name = f ? `${f.name}  (${session.current + 1} / ${session.frames.length})` : '';
    $('frame-title').textContent = name;
  }
}
