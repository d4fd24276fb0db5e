/**
 * The side panels, rendered from plain data with callbacks (no framework): the frame list, the
 * class list (editable), the objects of the frame, and small definition lists.
 */
import { classShortcut, isCataract1kTitle, type LabelClass } from '../state/classes.js';
import type { LabelObject } from '../state/labels.js';

/** Creates an element with a class and text. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className = '', text = ''): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text) e.textContent = text;
  return e;
}

/** How a frame row shows a frame. */
export interface FrameRow {
  id: string;
  name: string;
  caseName: string;
  thumb: string | null;
  /** 'none', 'queued', 'encoding', 'cached', 'error' (embedding), or 'bad' (the file did not decode). */
  state: 'none' | 'queued' | 'encoding' | 'cached' | 'error' | 'bad';
  /** Encoding progress in [0, 1] or null when unknown. */
  progress: number | null;
  objects: number;
  title: string;
}

const STATE_LABEL: Record<FrameRow['state'], string> = {
  none: 'not encoded',
  queued: 'queued',
  encoding: 'encoding…',
  cached: 'cached',
  error: 'encoder failed',
  bad: 'cannot decode',
};

/** One frame row (replaced in place on updates). */
export function frameRow(f: FrameRow, current: boolean, onSelect: () => void): HTMLLIElement {
  const li = el('li', `frame-row state-${f.state}${current ? ' current' : ''}`);
  li.dataset.id = f.id;
  li.title = f.title;
  const thumb = el('div', 'thumb');
  if (f.thumb) {
    const img = el('img');
    img.src = f.thumb;
    img.alt = '';
    thumb.append(img);
  } else thumb.textContent = f.state === 'bad' ? '⚠' : '';
  const body = el('div', 'frame-body');
  body.append(el('div', 'frame-name', f.name));
  const meta = el('div', 'frame-meta');
  meta.append(el('span', 'frame-state', STATE_LABEL[f.state]));
  if (f.objects) meta.append(el('span', 'badge', `${f.objects} obj`));
  body.append(meta);
  const bar = el('div', 'frame-bar');
  const fill = el('div', `frame-bar-fill${f.state === 'encoding' && f.progress === null ? ' busy' : ''}`);
  fill.style.width = f.state === 'cached' ? '100%' : f.state === 'encoding' ? `${Math.round((f.progress ?? 0.3) * 100)}%` : '0%';
  bar.append(fill);
  body.append(bar);
  li.append(thumb, body);
  li.addEventListener('click', onSelect);
  return li;
}

/** Callbacks of the class list. */
export interface ClassListEvents {
  pick(id: number): void;
  rename(id: number, key: string, name: string): void;
  remove(id: number): void;
}

/** The class list: shortcut, swatch, abbreviation, name (both editable), remove. */
export function classList(ul: HTMLElement, classes: readonly LabelClass[], currentId: number, usage: ReadonlyMap<number, number>, ev: ClassListEvents): void {
  ul.replaceChildren();
  classes.forEach((c, i) => {
    const li = el('li', `class-row${c.id === currentId ? ' current' : ''}`);
    li.dataset.id = String(c.id);
    const key = el('kbd', 'class-key', classShortcut(i) || '·');
    const sw = el('span', 'swatch');
    sw.style.background = c.color;
    const abbr = el('input', 'class-abbr');
    abbr.value = c.key;
    abbr.title = 'Abbreviation (used in mask file names)';
    abbr.spellcheck = false;
    const name = el('input', 'class-name');
    name.value = c.name;
    name.title = isCataract1kTitle(c.name) ? 'Class title written into the exports' : 'Not a Cataract-1k instrument title: the bench loaders will report it as an unknown class';
    name.spellcheck = false;
    if (!isCataract1kTitle(c.name)) name.classList.add('unknown');
    const commit = () => {
      if (abbr.value !== c.key || name.value !== c.name) ev.rename(c.id, abbr.value.trim(), name.value.trim());
    };
    for (const inp of [abbr, name]) {
      inp.addEventListener('change', commit);
      inp.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === 'Escape') (e.target as HTMLInputElement).blur();
      });
    }
    const count = el('span', 'class-count', usage.get(c.id) ? String(usage.get(c.id)) : '');
    const rm = el('button', 'icon class-remove', '×');
    rm.title = 'Remove this class';
    rm.addEventListener('click', (e) => {
      e.stopPropagation();
      ev.remove(c.id);
    });
    li.append(key, sw, abbr, name, count, rm);
    li.addEventListener('click', (e) => {
      if ((e.target as HTMLElement).tagName !== 'INPUT') ev.pick(c.id);
    });
    ul.append(li);
  });
}

/** Callbacks of the object list. */
export interface ObjectListEvents {
  select(id: number): void;
  remove(id: number): void;
}

/** The accepted objects of the frame. */
export function objectList(ul: HTMLElement, objects: readonly LabelObject[], classes: readonly LabelClass[], selected: number | null, ev: ObjectListEvents): void {
  ul.replaceChildren();
  if (objects.length === 0) {
    ul.append(el('li', 'empty', 'No objects yet: click an instrument.'));
    return;
  }
  objects.forEach((o, i) => {
    const c = classes.find((k) => k.id === o.classId);
    const li = el('li', `object-row${o.id === selected ? ' current' : ''}`);
    li.dataset.id = String(o.id);
    const sw = el('span', 'swatch');
    sw.style.background = c?.color ?? '#888';
    const label = el('span', 'object-label', `${i + 1}. ${c?.key ?? '?'}`);
    label.title = c?.name ?? 'class removed';
    const meta = el('span', 'object-meta', `${o.method === 'rpsam2' ? 'RP-SAM2' : 'SAM 2'} · pred. IoU ${o.result.iou.toFixed(2)} · ${o.area.toLocaleString('en')} px`);
    const rm = el('button', 'icon', '×');
    rm.title = 'Delete this object';
    rm.addEventListener('click', (e) => {
      e.stopPropagation();
      ev.remove(o.id);
    });
    li.append(sw, label, meta, rm);
    li.addEventListener('click', () => ev.select(o.id));
    ul.append(li);
  });
}

/** A definition list from pairs. */
export function definitionList(dl: HTMLElement, rows: [string, string][]): void {
  dl.replaceChildren();
  for (const [k, v] of rows) dl.append(el('dt', '', k), el('dd', '', v));
}
